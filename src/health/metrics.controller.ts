import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-reference/api-tags.js';
import { Answers } from '../api-reference/route-answers.js';
import { NotFoundError } from '../common/rejection.js';
import type { Response } from 'express';
import { Public } from '../security/decorators.js';
import { MetricsStore } from './metrics-store.js';

/** Prometheus text exposition (SPEC §6); `METRICS_ENABLED=false` makes it a 404 like any unknown route. */
@ApiTags(API_TAGS.metrics.name)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsStore) {}

  @Get()
  @Public()
  @ApiOkResponse({
    description: 'Prometheus text exposition',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @Answers(['not_found'])
  async scrape(@Res() response: Response): Promise<void> {
    if (!this.metrics.enabled) throw new NotFoundError('Cannot GET /metrics');
    response.type(this.metrics.contentType).send(await this.metrics.text());
  }
}

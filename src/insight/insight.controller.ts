import { Controller, Get, Header, Param, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-reference/api-tags.js';
import { schemaRef } from '../api-reference/response-schemas.js';
import { Answers } from '../api-reference/route-answers.js';
import type { Request, Response } from 'express';
import { NotFoundError } from '../common/rejection.js';
import { Public, Roles } from '../security/decorators.js';
import { Role } from '../security/role.js';
import { INSIGHT_CSP, loadInsightAssets } from './insight-assets.js';
import { InsightSnapshotService, type InsightSnapshot } from './insight-snapshot.service.js';
import { InsightStreams } from './insight-streams.js';

/** InsightFlow (SPEC §10): the page and its assets are public; its data is admin and auditor. */
@ApiTags(API_TAGS.insight.name)
@Controller('insight')
export class InsightController {
  private readonly assets = loadInsightAssets();

  constructor(
    private readonly snapshots: InsightSnapshotService,
    private readonly streams: InsightStreams,
  ) {}

  @Get()
  @Public()
  @ApiOkResponse({
    description: 'The InsightFlow page',
    content: { 'text/html': { schema: { type: 'string' } } },
  })
  @Answers(['not_found'])
  page(@Res() response: Response): void {
    this.send('index.html', response);
  }

  @Get('assets/:name')
  @Public()
  @ApiOkResponse({
    description: 'A file of the page',
    content: { 'application/octet-stream': { schema: { type: 'string' } } },
  })
  @Answers(['not_found'])
  asset(@Param('name') name: string, @Res() response: Response): void {
    this.send(name, response);
  }

  @Get('api/summary')
  @Roles([Role.Admin, Role.Auditor])
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ schema: schemaRef('InsightSnapshot') })
  @Answers(['store_unavailable'])
  summary(): Promise<InsightSnapshot> {
    return this.snapshots.snapshot();
  }

  /** Server-Sent Events over a plain GET, read by the page with a streamed fetch (header auth). */
  @Get('api/stream')
  @ApiOkResponse({
    description: 'Server-Sent Events: a snapshot about every second',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @Roles([Role.Admin, Role.Auditor])
  stream(@Req() request: Request, @Res() response: Response): void {
    this.streams.stream(request, response);
  }

  private send(name: string, response: Response): void {
    const asset = this.assets.get(name);
    if (!asset)
      throw new NotFoundError(
        name === 'index.html' ? 'InsightFlow is not built: run npm run build' : 'No such asset',
      );
    response
      .status(200)
      .set({
        'Content-Type': asset.type,
        'Content-Security-Policy': INSIGHT_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache',
      })
      .send(asset.body);
  }
}

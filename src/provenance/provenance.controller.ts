import { Controller, Get, Header, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-reference/api-tags.js';
import { schemaRef } from '../api-reference/response-schemas.js';
import { Answers } from '../api-reference/route-answers.js';
import { Roles } from '../security/decorators.js';
import { Role } from '../security/role.js';
import type { ChainVerdict } from './chain-verifier.js';
import { ProvenanceService, type ChainEntryView } from './provenance.service.js';
import { NotFoundError } from '../common/rejection.js';
import { PositiveIntegerPipe } from '../common/positive-integer.pipe.js';

@ApiTags(API_TAGS.chain.name)
@Controller('provenance')
@Roles([Role.Admin, Role.Auditor])
@Answers(['store_unavailable'])
export class ProvenanceController {
  constructor(private readonly provenance: ProvenanceService) {}

  @Get('verify')
  @ApiOkResponse({ schema: schemaRef('ChainVerdict') })
  verify(): Promise<ChainVerdict> {
    return this.provenance.verify();
  }

  @Get('export')
  @Header('Content-Type', 'application/x-ndjson')
  @ApiQuery({ name: 'from', required: false, type: Number })
  @ApiOkResponse({
    description: 'The chain from `from`, one entry a line, streamed',
    content: { 'application/x-ndjson': { schema: { type: 'string' } } },
  })
  async export(@Query('from', new PositiveIntegerPipe(1)) from: number): Promise<StreamableFile> {
    const lines = await this.provenance.exportFrom(from);
    return new StreamableFile(lines, { type: 'application/x-ndjson' });
  }

  @Get('entries/:sequence')
  @ApiOkResponse({ schema: schemaRef('ChainEntry') })
  @Answers(['not_found'])
  async entry(
    @Param('sequence', new PositiveIntegerPipe(0)) sequence: number,
  ): Promise<ChainEntryView> {
    const entry = await this.provenance.entry(sequence);
    if (!entry) throw new NotFoundError(`No chain entry with sequence ${sequence}`);
    return entry;
  }
}

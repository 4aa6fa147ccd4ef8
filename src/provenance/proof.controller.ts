import { Controller, Get, Header, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-reference/api-tags.js';
import { schemaRef } from '../api-reference/response-schemas.js';
import { Answers } from '../api-reference/route-answers.js';
import { PositiveIntegerPipe } from '../common/positive-integer.pipe.js';
import { Rejection } from '../common/rejection.js';
import { Roles } from '../security/decorators.js';
import { ALL_ROLES } from '../security/role.js';
import {
  ProofService,
  type ConsistencyProofView,
  type InclusionProofView,
} from './proof.service.js';
import { parseTilePath } from './tile-path.js';

/** Proofs and receipts (SPEC §5a): any role, so that checking the log needs no admin token. */
@ApiTags(API_TAGS.proofs.name)
@Controller('provenance')
@Roles([...ALL_ROLES])
@Answers(['store_unavailable'])
export class ProofController {
  constructor(private readonly proofs: ProofService) {}

  @Get('proof/inclusion')
  @ApiQuery({ name: 'sequence', type: Number })
  @ApiQuery({ name: 'size', required: false, type: Number })
  @ApiOkResponse({ schema: schemaRef('InclusionProof') })
  @Answers(['not_found'])
  inclusion(
    @Query('sequence', new PositiveIntegerPipe(0)) sequence: number,
    @Query('size', new PositiveIntegerPipe(0)) size: number,
  ): Promise<InclusionProofView> {
    return this.proofs.inclusion(requirePositive('sequence', sequence), size || undefined);
  }

  @Get('proof/consistency')
  @ApiQuery({ name: 'from', type: Number })
  @ApiQuery({ name: 'to', type: Number })
  @ApiOkResponse({ schema: schemaRef('ConsistencyProof') })
  @Answers(['not_found'])
  consistency(
    @Query('from', new PositiveIntegerPipe(0)) from: number,
    @Query('to', new PositiveIntegerPipe(0)) to: number,
  ): Promise<ConsistencyProofView> {
    return this.proofs.consistency(requirePositive('from', from), requirePositive('to', to));
  }

  @Get('receipt/:sequence')
  @ApiOkResponse({
    description: 'A C2SP tlog-proof, verifiable offline',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @Answers(['not_found'])
  @Header('Content-Type', 'text/plain; charset=utf-8')
  receipt(@Param('sequence', new PositiveIntegerPipe(0)) sequence: number): Promise<string> {
    return this.proofs.receipt(requirePositive('sequence', sequence));
  }
}

/** The C2SP tlog-tiles read API, hashes only (tile height 8), so tlog clients can mirror the tree. */
@ApiTags(API_TAGS.transparencyLog.name)
@Controller('tlog')
@Roles([...ALL_ROLES])
@Answers(['store_unavailable'])
export class TlogController {
  constructor(private readonly proofs: ProofService) {}

  @Get('checkpoint')
  @ApiOkResponse({
    description: 'The latest signed checkpoint note',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @Answers(['not_found'])
  @Header('Content-Type', 'text/plain; charset=utf-8')
  checkpoint(): Promise<string> {
    return this.proofs.latestNote();
  }

  @Get('tile/*path')
  @ApiParam({ name: 'path', type: String, description: '<L>/<N>[.p/<W>] (C2SP tlog-tiles)' })
  @ApiOkResponse({
    description: 'The tile: concatenated 32-byte hashes',
    content: { 'application/octet-stream': { schema: { type: 'string' } } },
  })
  @Answers(['invalid_parameter', 'not_found'])
  async tile(@Param('path') path: string[]): Promise<StreamableFile> {
    const { level, index, width } = parseTilePath(path);
    const hashes = await this.proofs.tile(level, index, width);
    return new StreamableFile(hashes, { type: 'application/octet-stream' });
  }
}

/** The pipe's fallback 0 marks an absent parameter; these ones are required. */
function requirePositive(name: string, value: number): number {
  if (value === 0) throw new Rejection('invalid_parameter', `${name} is required`);
  return value;
}

import {
  Controller,
  Get,
  Header,
  NotFoundException,
  Param,
  Query,
  StreamableFile,
} from '@nestjs/common';
import { PositiveIntegerPipe } from '../common/positive-integer.pipe.js';
import { Rejection } from '../common/rejection.js';
import { Roles } from '../security/decorators.js';
import { ALL_ROLES } from '../security/role.js';
import { MerkleProofError } from './merkle.js';
import {
  ProofService,
  ProofUnavailableError,
  type ConsistencyProofView,
  type InclusionProofView,
} from './proof.service.js';
import { parseTilePath } from './tile-path.js';

/** Unknown sizes → 404, sizes or indexes no proof exists for → 400 (SPEC §5a). */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ProofUnavailableError) throw new NotFoundException(error.message);
    if (error instanceof MerkleProofError) throw new Rejection('malformed_request', error.message);
    throw error;
  }
}

/** Proofs and receipts (SPEC §5a): any role, so that checking the log needs no admin token. */
@Controller('provenance')
@Roles([...ALL_ROLES])
export class ProofController {
  constructor(private readonly proofs: ProofService) {}

  @Get('proof/inclusion')
  inclusion(
    @Query('sequence', new PositiveIntegerPipe(0)) sequence: number,
    @Query('size', new PositiveIntegerPipe(0)) size: number,
  ): Promise<InclusionProofView> {
    return answer(() =>
      this.proofs.inclusion(requirePositive('sequence', sequence), size || undefined),
    );
  }

  @Get('proof/consistency')
  consistency(
    @Query('from', new PositiveIntegerPipe(0)) from: number,
    @Query('to', new PositiveIntegerPipe(0)) to: number,
  ): Promise<ConsistencyProofView> {
    return answer(() =>
      this.proofs.consistency(requirePositive('from', from), requirePositive('to', to)),
    );
  }

  @Get('receipt/:sequence')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  receipt(@Param('sequence', new PositiveIntegerPipe(0)) sequence: number): Promise<string> {
    return answer(() => this.proofs.receipt(requirePositive('sequence', sequence)));
  }
}

/** The C2SP tlog-tiles read API, hashes only (tile height 8), so tlog clients can mirror the tree. */
@Controller('tlog')
@Roles([...ALL_ROLES])
export class TlogController {
  constructor(private readonly proofs: ProofService) {}

  @Get('checkpoint')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  checkpoint(): Promise<string> {
    return answer(() => this.proofs.latestNote());
  }

  @Get('tile/*path')
  tile(@Param('path') path: string[]): Promise<StreamableFile> {
    return answer(async () => {
      const { level, index, width } = parseTilePath(path);
      const hashes = await this.proofs.tile(level, index, width);
      return new StreamableFile(hashes, { type: 'application/octet-stream' });
    });
  }
}

/** The pipe's fallback 0 marks an absent parameter; these ones are required. */
function requirePositive(name: string, value: number): number {
  if (value === 0) throw new Rejection('malformed_request', `${name} is required`);
  return value;
}

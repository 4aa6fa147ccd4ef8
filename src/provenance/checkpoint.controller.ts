import { Controller, Get, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-reference/api-tags.js';
import { schemaRef } from '../api-reference/response-schemas.js';
import { Answers } from '../api-reference/route-answers.js';
import { NotFoundError } from '../common/rejection.js';
import { Roles } from '../security/decorators.js';
import { ALL_ROLES, Role } from '../security/role.js';
import { PositiveIntegerPipe } from '../common/positive-integer.pipe.js';
import {
  CheckpointService,
  type CheckpointKeysView,
  type CheckpointView,
} from './checkpoint.service.js';

/** Signed checkpoints (SPEC §5): readable by every role, so anyone holding a token can keep one. */
@ApiTags(API_TAGS.checkpoints.name)
@Controller('provenance')
@Roles([...ALL_ROLES])
export class CheckpointController {
  constructor(private readonly checkpoints: CheckpointService) {}

  @Get('checkpoint')
  @ApiOkResponse({ schema: schemaRef('Checkpoint') })
  @Answers(['not_found', 'store_unavailable'])
  async latest(): Promise<CheckpointView> {
    const checkpoint = await this.checkpoints.latest();
    if (!checkpoint) throw new NotFoundError('No checkpoint has been signed yet');
    return checkpoint;
  }

  @Get('checkpoint-key')
  @ApiOkResponse({ schema: schemaRef('CheckpointKey') })
  key(): CheckpointKeysView {
    return this.checkpoints.publicKeys();
  }

  @Get('checkpoint/:length')
  @ApiOkResponse({ schema: schemaRef('Checkpoint') })
  @Answers(['not_found', 'store_unavailable'])
  async atLength(
    @Param('length', new PositiveIntegerPipe(0)) length: number,
  ): Promise<CheckpointView> {
    const checkpoint = await this.checkpoints.atLength(length);
    if (!checkpoint) throw new NotFoundError(`No checkpoint at length ${length}`);
    return checkpoint;
  }

  /** Signs the current head now (admin). */
  @Post('checkpoint')
  @Roles([Role.Admin])
  @ApiCreatedResponse({ schema: schemaRef('Checkpoint') })
  @Answers(['checkpoint_refused', 'store_unavailable'])
  create(): Promise<CheckpointView> {
    return this.checkpoints.checkpointNow();
  }
}

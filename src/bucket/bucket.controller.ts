import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-reference/api-tags.js';
import { schemaRef } from '../api-reference/response-schemas.js';
import { Roles, SignedRequest, Verified } from '../security/decorators.js';
import { Role } from '../security/role.js';
import type { VerifiedEnvelope } from '../security/signed-request.js';
import { IntakeService, type AcceptedResponse } from './intake.service.js';
import type { BucketStatus } from '../client/bridge-wire.js';
import { StatusService, type StatusQuery } from './status.service.js';
import { Answers } from '../api-reference/route-answers.js';

@ApiTags(API_TAGS.ingestion.name)
@Controller()
export class BucketController {
  constructor(
    private readonly intake: IntakeService,
    private readonly statusService: StatusService,
  ) {}

  @Post('core/update')
  @HttpCode(201)
  @Roles([Role.Module, Role.Admin])
  @SignedRequest('update')
  @ApiCreatedResponse({ description: 'Stored and chained', schema: schemaRef('Accepted') })
  update(@Verified() envelope: VerifiedEnvelope): Promise<AcceptedResponse> {
    return this.intake.acceptUpdate(envelope);
  }

  @Post('core/heartbeat')
  @HttpCode(201)
  @Roles([Role.Module, Role.Automation, Role.Admin])
  @SignedRequest('heartbeat')
  @ApiCreatedResponse({ description: 'Stored and chained', schema: schemaRef('Accepted') })
  heartbeat(@Verified() envelope: VerifiedEnvelope): Promise<AcceptedResponse> {
    return this.intake.acceptHeartbeat(envelope);
  }

  @Get('bucket/status')
  @Roles([Role.Module, Role.Automation, Role.Admin, Role.Auditor])
  @ApiOkResponse({ schema: schemaRef('BucketStatus') })
  @Answers(['store_unavailable'])
  status(@Query() query: StatusQuery): Promise<BucketStatus> {
    return this.statusService.status(query);
  }
}

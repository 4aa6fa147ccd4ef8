import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { Roles, SignedRequest, Verified } from '../security/decorators.js';
import { Role } from '../security/role.js';
import type { VerifiedEnvelope } from '../security/signed-request.js';
import { IntakeService, type AcceptedResponse } from './intake.service.js';
import type { BucketStatus } from '../client/bridge-wire.js';
import { StatusService, type StatusQuery } from './status.service.js';

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
  update(@Verified() envelope: VerifiedEnvelope): Promise<AcceptedResponse> {
    return this.intake.acceptUpdate(envelope);
  }

  @Post('core/heartbeat')
  @HttpCode(201)
  @Roles([Role.Module, Role.Automation, Role.Admin])
  @SignedRequest('heartbeat')
  heartbeat(@Verified() envelope: VerifiedEnvelope): Promise<AcceptedResponse> {
    return this.intake.acceptHeartbeat(envelope);
  }

  @Get('bucket/status')
  @Roles([Role.Module, Role.Automation, Role.Admin, Role.Auditor])
  status(@Query() query: StatusQuery): Promise<BucketStatus> {
    return this.statusService.status(query);
  }
}

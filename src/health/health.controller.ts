import { Controller, Get, UseFilters } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-reference/api-tags.js';
import { schemaRef } from '../api-reference/response-schemas.js';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { Public, Roles } from '../security/decorators.js';
import { Role } from '../security/role.js';
import { CoreHealthService, type CoreHealthReport } from './core-health.service.js';
import { HealthCheckFailedFilter } from './health-check-failed.filter.js';
import { ProcessHealthIndicator } from './process.health.js';
import { ReadinessChecks } from './readiness.checks.js';

/** Kubernetes probes (public, minimal bodies) and the full health report (any valid token). */
@ApiTags(API_TAGS.health.name)
@Controller()
@UseFilters(HealthCheckFailedFilter)
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly process: ProcessHealthIndicator,
    private readonly readiness: ReadinessChecks,
    private readonly coreHealth: CoreHealthService,
  ) {}

  @Get('health/live')
  @Public()
  @HealthCheck()
  @ApiOkResponse({ schema: schemaRef('ProbeResult') })
  @ApiServiceUnavailableResponse({ schema: schemaRef('ProbeResult') })
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.process.isAlive('process')]);
  }

  @Get('health/ready')
  @Public()
  @HealthCheck()
  @ApiOkResponse({ schema: schemaRef('ProbeResult') })
  @ApiServiceUnavailableResponse({ schema: schemaRef('ProbeResult') })
  ready(): Promise<HealthCheckResult> {
    return this.health.check(this.readiness.indicators);
  }

  @Get('core/health')
  @Roles([Role.Module, Role.Automation, Role.Admin, Role.Auditor])
  @HealthCheck()
  @ApiOkResponse({ schema: schemaRef('CoreHealth') })
  @ApiServiceUnavailableResponse({ description: 'A check failed', schema: schemaRef('CoreHealth') })
  coreHealthReport(): Promise<CoreHealthReport> {
    return this.coreHealth.reportOrFail();
  }
}

import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { API_TAGS } from '../api-reference/api-tags.js';
import { schemaRef } from '../api-reference/response-schemas.js';
import { Answers } from '../api-reference/route-answers.js';
import { PositiveIntegerPipe } from '../common/positive-integer.pipe.js';
import { Roles } from '../security/decorators.js';
import { Role } from '../security/role.js';
import { AutomationService, type JobList } from './automation.service.js';
import type { RecordedRun } from './engine/automation-run.repository.js';

/** SPEC §8 control API: the automation role controls automation tasks, admins too. */
@ApiTags(API_TAGS.automation.name)
@Controller('automation')
@Roles([Role.Automation, Role.Admin])
@Answers(['store_unavailable'])
export class AutomationController {
  constructor(private readonly automation: AutomationService) {}

  @Get('jobs')
  @ApiOkResponse({ schema: schemaRef('JobList') })
  jobs(): Promise<JobList> {
    return this.automation.jobs();
  }

  @Get('runs')
  @ApiQuery({ name: 'job', required: false, type: String })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiOkResponse({ schema: schemaRef('RunList') })
  runs(
    @Query('job') job: unknown,
    @Query('limit', new PositiveIntegerPipe(50)) limit: number,
  ): Promise<{ runs: RecordedRun[] }> {
    return this.automation.history(job, limit);
  }

  /** 202 with the run id; 404 for an unknown job; 409 while the job is running. */
  @Post('jobs/:name/run')
  @HttpCode(202)
  @ApiAcceptedResponse({ schema: schemaRef('RunStarted') })
  @Answers(['unknown_job', 'job_running', 'shutting_down'])
  runNow(@Param('name') name: string): Promise<{ run_id: number; job: string; outcome: string }> {
    return this.automation.runNow(name);
  }
}

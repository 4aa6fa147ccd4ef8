import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { PositiveIntegerPipe } from '../common/positive-integer.pipe.js';
import { Roles } from '../security/decorators.js';
import { Role } from '../security/role.js';
import { AutomationService, type JobList } from './automation.service.js';
import type { RecordedRun } from './engine/automation-run.repository.js';

/** SPEC §8 control API: the automation role controls automation tasks, admins too. */
@Controller('automation')
@Roles([Role.Automation, Role.Admin])
export class AutomationController {
  constructor(private readonly automation: AutomationService) {}

  @Get('jobs')
  jobs(): Promise<JobList> {
    return this.automation.jobs();
  }

  @Get('runs')
  runs(
    @Query('job') job: unknown,
    @Query('limit', new PositiveIntegerPipe(50)) limit: number,
  ): Promise<{ runs: RecordedRun[] }> {
    return this.automation.history(job, limit);
  }

  /** 202 with the run id; 404 for an unknown job; 409 while the job is running. */
  @Post('jobs/:name/run')
  @HttpCode(202)
  runNow(@Param('name') name: string): Promise<{ run_id: number; job: string; outcome: string }> {
    return this.automation.runNow(name);
  }
}

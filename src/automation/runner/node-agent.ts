// One node of the automation runner, forked by NodeSupervisor: it runs the jobs it is asked to,
// one at a time, and reports each outcome over the IPC channel. A plugin that takes this process
// down takes only this node's current run with it.
import 'reflect-metadata';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/app-config.js';
import { JobCatalog } from '../jobs/job-catalog.js';
import { JobExecutor } from '../engine/job-executor.js';
import { LineLogger } from './line-logger.js';
import { RunnerNodeModule } from './runner-node.module.js';
import type { NodeMessage, SupervisorMessage } from './runner-messages.js';

const NOT_RUN = { outcome: 'failed', durationMs: 0, results: {} } as const;

function send(message: NodeMessage, then?: () => void): void {
  process.send!(message, undefined, {}, () => then?.());
}

async function start(): Promise<INestApplicationContext> {
  const { values } = parseArgs({
    options: {
      node: { type: 'string' },
      jobs: { type: 'string' },
      plugins: { type: 'string', multiple: true },
    },
    strict: true,
  });
  return NestFactory.createApplicationContext(
    RunnerNodeModule.forNode({
      config: { ...loadConfig(), nodeId: values.node! },
      jobFile: values.jobs!,
      pluginDirs: values.plugins ?? [],
    }),
    { logger: new LineLogger(), abortOnError: false },
  );
}

function serve(context: INestApplicationContext): void {
  const catalog = context.get(JobCatalog);
  const executor = context.get(JobExecutor);
  const logger = new Logger('Runner');
  // A promise a plugin dropped may fail long after its run was recorded: log it, keep serving.
  process.on('unhandledRejection', (reason) =>
    logger.error(`unhandled rejection: ${reason instanceof Error ? reason.message : reason}`),
  );
  process.on('disconnect', () => process.exit(0));
  // Ctrl-C reaches the whole process group; the supervisor decides when a node stops.
  process.on('SIGINT', () => undefined);
  process.on('message', async (message: SupervisorMessage) => {
    if (message.type === 'stop') {
      await context.close().catch(() => undefined);
      process.exit(0);
    }
    const job = catalog.get(message.job);
    const result = job
      ? await executor.execute(job)
      : { ...NOT_RUN, startedAt: new Date(), error: `no job named "${message.job}"` };
    send({
      type: 'result',
      job: message.job,
      result: { ...result, startedAt: result.startedAt.toISOString() },
    });
  });
  send({
    type: 'ready',
    jobs: catalog.all().map((job) => ({
      name: job.name,
      plugins: job.actions.map((action) => action.plugin),
      timeoutSeconds: job.timeoutSeconds,
    })),
  });
}

start().then(serve, (error: unknown) =>
  send({ type: 'fatal', message: (error as Error).message }, () => process.exit(1)),
);

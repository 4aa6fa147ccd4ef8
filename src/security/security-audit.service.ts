import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { LogMirror } from '../common/log-mirror.js';
import type { Rejection } from '../common/rejection.js';
import { RejectionRecorder, type RejectedRequest } from '../common/rejection-recorder.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { SecurityEventRepository, type RejectionRecord } from './security-event.repository.js';

const FLUSH_INTERVAL_MS = 250;
/** Under a flood of bad requests the database log keeps this many pending; stdout keeps all. */
const MAX_PENDING = 10_000;

/**
 * Counts and logs every rejection (SPEC §4): at once to stdout and `security_rejects.log`, and in
 * batches to the database, so a flood of bad requests costs one insert per interval, not one per
 * request. `flush()` makes this instance's figures exact before they are read.
 */
@Injectable()
export class SecurityAudit
  extends RejectionRecorder
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly logger = new Logger('SecurityAudit');
  private pending: RejectionRecord[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly events: SecurityEventRepository,
    private readonly mirror: LogMirror,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(rejection: Rejection, request: RejectedRequest): void {
    const record: RejectionRecord = {
      occurredAt: new Date(),
      nodeId: this.config.nodeId,
      reason: rejection.reason,
      module: rejection.module,
      method: request.method,
      path: request.path,
      clientAddress: request.clientAddress,
      message: rejection.message,
    };
    this.logger.warn({ msg: 'request rejected', ...record, status: rejection.status });
    this.mirror.write('security_rejects.log', { ...record, status: rejection.status });
    if (this.pending.length < MAX_PENDING) this.pending.push(record);
    else this.dropped += 1;
  }

  /** Writes pending rejections to the database; on failure they are kept for the next try. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    if (this.dropped > 0) {
      this.logger.error(
        `${this.dropped} rejections were not written to the database (backlog full)`,
      );
      this.dropped = 0;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.events.append(batch);
    } catch (error) {
      this.pending = batch.concat(this.pending).slice(0, MAX_PENDING);
      this.logger.warn(`security log not written yet (${(error as Error).message}); will retry`);
    }
  }
}

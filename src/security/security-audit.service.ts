import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { boundedText } from '../common/bounded-text.js';
import { LogMirror } from '../common/log-mirror.js';
import type { Rejection } from '../common/rejection.js';
import { RejectionRecorder, type RejectedRequest } from '../common/rejection-recorder.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { SecurityEventRepository, type RejectionRecord } from './security-event.repository.js';

const FLUSH_INTERVAL_MS = 250;
/**
 * Distinct rejections held for the database; past it, the rest of an interval is folded into one
 * record per reason, so the counters stay exact however wide the flood.
 */
const MAX_PENDING = 10_000;
/** Rejections alike in reason, client, method, module and this much of the path are one record. */
const AGGREGATE_PATH_PREFIX_CHARS = 64;

/**
 * Counts and logs every rejection (SPEC §4). Every field that came from the request is cut to
 * `LOGGED_TEXT_MAX_CHARS`. The first of a kind in each flush interval is logged at once to stdout
 * and `security_rejects.log`; repeats of it in the same interval (same reason, client address,
 * method, module and path prefix) only raise its count, logged as one `repeated` line and stored
 * as one row with that count when the interval ends. So a flood of bad requests costs a few lines
 * and one insert per interval, while the counters add every single one. `flush()` makes this
 * instance's figures exact before they are read.
 */
@Injectable()
export class SecurityAudit
  extends RejectionRecorder
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly logger = new Logger('SecurityAudit');
  /** This interval's rejections by aggregate key, each with its status and count so far. */
  private interval = new Map<string, { record: RejectionRecord; status: number }>();
  /** Records waiting for the database (kept when a write fails). */
  private pending: RejectionRecord[] = [];
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
      module: rejection.module === undefined ? undefined : boundedText(rejection.module),
      method: boundedText(request.method),
      path: boundedText(request.path),
      clientAddress:
        request.clientAddress === undefined ? undefined : boundedText(request.clientAddress),
      message: boundedText(rejection.message),
      count: 1,
    };
    const key = this.interval.size < MAX_PENDING ? aggregateKey(record) : `*\n${record.reason}`;
    const same = this.interval.get(key);
    if (same) {
      same.record.count += 1;
      same.record.occurredAt = record.occurredAt;
      return;
    }
    if (key.startsWith('*')) Object.assign(record, FOLDED);
    this.interval.set(key, { record, status: rejection.status });
    this.log('request rejected', record, rejection.status, {});
  }

  /** Writes pending rejections to the database; on failure they are kept for the next try. */
  flush(): Promise<void> {
    this.closeInterval();
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  /** Logs the repeats of the interval that ends and queues its records for the database. */
  private closeInterval(): void {
    if (this.interval.size === 0) return;
    for (const { record, status } of this.interval.values()) {
      if (record.count > 1) {
        this.log('request rejected again', record, status, { repeated: record.count - 1 });
      }
      this.pending.push(record);
    }
    this.interval = new Map();
    if (this.pending.length > MAX_PENDING) this.pending = foldByReason(this.pending, MAX_PENDING);
  }

  private log(msg: string, record: RejectionRecord, status: number, extra: object): void {
    const { count: _count, ...fields } = record;
    this.logger.warn({ msg, ...fields, status, ...extra });
    this.mirror.write('security_rejects.log', { ...fields, status, ...extra });
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.events.append(batch);
    } catch (error) {
      this.pending = foldByReason(batch.concat(this.pending), MAX_PENDING);
      this.logger.warn(`security log not written yet (${(error as Error).message}); will retry`);
    }
  }
}

/** What a folded record says instead of the request of its first rejection. */
const FOLDED = {
  module: undefined,
  method: '*',
  path: '*',
  clientAddress: undefined,
  message: 'more distinct rejections in this interval than are logged one by one',
} satisfies Partial<RejectionRecord>;

function aggregateKey(record: RejectionRecord): string {
  return [
    record.reason,
    record.clientAddress ?? '',
    record.method,
    record.module ?? '',
    record.path.slice(0, AGGREGATE_PATH_PREFIX_CHARS),
  ].join('\n');
}

/** `records` cut to `max`, the rest added to one folded record per reason (counts stay exact). */
function foldByReason(records: RejectionRecord[], max: number): RejectionRecord[] {
  if (records.length <= max) return records;
  const reasons = new Set(records.map((record) => record.reason));
  const kept = records.slice(0, Math.max(0, max - reasons.size));
  const folded = new Map<string, RejectionRecord>();
  for (const record of records.slice(kept.length)) {
    const into = folded.get(record.reason);
    if (!into) folded.set(record.reason, { ...record, ...FOLDED });
    else {
      into.count += record.count;
      if (record.occurredAt > into.occurredAt) into.occurredAt = record.occurredAt;
    }
  }
  return kept.concat([...folded.values()]);
}

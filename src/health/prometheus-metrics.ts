import { Inject, Injectable, Logger } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { ChainRepository } from '../provenance/chain.repository.js';
import type { RequestOutcome } from './request-outcome.js';

/** A scrape never waits longer than this for the chain head; the last known length is kept. */
const CHAIN_HEAD_TIMEOUT_MS = 1000;

/**
 * The Prometheus metrics of this instance. Each app owns its registry (not prom-client's global
 * one), so two bridges in one process, as in the tests, never share or double-register metrics.
 * Counters are per instance, as Prometheus expects: sum them across replicas in queries.
 */
@Injectable()
export class PrometheusMetrics {
  readonly registry = new Registry();
  readonly enabled: boolean;
  private readonly logger = new Logger(PrometheusMetrics.name);
  private readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly accepted: Counter<'type'>;
  private readonly rejected: Counter<'reason'>;
  private lastChainLength = 0;

  constructor(
    private readonly chain: ChainRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.enabled = config.metricsEnabled;
    const registers = [this.registry];
    if (this.enabled) collectDefaultMetrics({ register: this.registry });
    this.requestDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.accepted = new Counter({
      name: 'bridge_events_accepted_total',
      help: 'Signed updates and heartbeats this instance accepted into the chain',
      labelNames: ['type'],
      registers,
    });
    this.rejected = new Counter({
      name: 'bridge_requests_rejected_total',
      help: 'Requests this instance rejected, by SPEC reason',
      labelNames: ['reason'],
      registers,
    });
    const chainLength: Gauge = new Gauge({
      name: 'bridge_chain_length',
      help: 'Entries in the provenance chain (cluster-wide, read at scrape time)',
      registers,
      collect: async () => chainLength.set(await this.readChainLength()),
    });
  }

  /** `acceptedType` is set when the request stored an update or heartbeat. */
  observe(outcome: RequestOutcome, acceptedType: string | undefined): void {
    if (!this.enabled) return;
    this.requestDuration.observe(
      { method: outcome.method, route: outcome.route, status: outcome.status },
      outcome.latencyMs / 1000,
    );
    if (acceptedType) this.accepted.inc({ type: acceptedType });
    if (outcome.rejectionReason) this.rejected.inc({ reason: outcome.rejectionReason });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One query per scrape; while the database is away the last known length is reported. */
  private async readChainLength(): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer in time')), CHAIN_HEAD_TIMEOUT_MS);
    });
    try {
      this.lastChainLength = (await Promise.race([this.chain.head(), timeout])).length;
    } catch (error) {
      this.logger.warn(`chain length not refreshed: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    return this.lastChainLength;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import {
  BridgeClient,
  BridgeRejectedError,
  BridgeUnreachableError,
} from '../../client/bridge-client.js';
import type { SensorProfile } from './sensor-profiles.js';

export interface MockPlan {
  /** Updates to send. */
  count: number;
  /** Updates per second; 0 sends as fast as the bridge answers. */
  rate: number;
  /** A heartbeat after this many updates (and one at the start and at the end). */
  heartbeatEvery: number;
}

/** What happened to everything one module sent. */
export class MockTally {
  updates = 0;
  heartbeats = 0;
  accepted = 0;
  readonly rejected = new Map<string, number>();

  get sent(): number {
    return this.updates + this.heartbeats;
  }

  get rejectedCount(): number {
    return [...this.rejected.values()].reduce((sum, count) => sum + count, 0);
  }

  reject(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }
}

/** One mock module: sends signed readings of its sensor profile and heartbeats, paced. */
export class MockModule {
  readonly tally = new MockTally();

  constructor(
    private readonly client: BridgeClient,
    private readonly profile: SensorProfile,
  ) {}

  get name(): string {
    return this.client.module;
  }

  async run(plan: MockPlan): Promise<void> {
    const started = Date.now();
    await this.heartbeat();
    for (let step = 0; step < plan.count; step += 1) {
      if (plan.rate > 0) await sleep(Math.max(0, started + (step * 1000) / plan.rate - Date.now()));
      this.tally.updates += 1;
      await this.record(() => this.client.sendUpdate(this.profile.reading(step, Math.random)));
      if ((step + 1) % plan.heartbeatEvery === 0 && step + 1 < plan.count) await this.heartbeat();
    }
    await this.heartbeat();
  }

  private async heartbeat(): Promise<void> {
    this.tally.heartbeats += 1;
    await this.record(() =>
      this.client.sendHeartbeat('alive', { metrics: { updates_sent: this.tally.updates } }),
    );
  }

  private async record(send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
      this.tally.accepted += 1;
    } catch (error) {
      if (error instanceof BridgeRejectedError)
        this.tally.reject(error.reason ?? `http_${error.status}`);
      else if (error instanceof BridgeUnreachableError) this.tally.reject('unreachable');
      else throw error;
    }
  }
}

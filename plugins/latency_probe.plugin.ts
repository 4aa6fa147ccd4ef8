import { performance } from 'node:perf_hooks';
import {
  AutomationPlugin,
  type PluginContext,
  type PluginResult,
  type RunnablePlugin,
} from '../src/automation/plugin-api.js';

const DEFAULT_SAMPLES = 3;
const MAX_SAMPLES = 20;

/**
 * Measures, in milliseconds (the median of `params.samples` tries, default 3):
 * - `sign_ms`: signing a heartbeat payload locally (RFC 8785 + RSA-SHA256);
 * - `verify_ms`: verifying that signature locally with the public half of the key;
 * - `http_ms`: `GET /health/live`, the HTTP round trip alone (no token, no database);
 * - `status_ms`: `GET /bucket/status`, HTTP plus the token check and database reads;
 * - `heartbeat_ms`: one signed heartbeat, the whole write path (HTTP, token, signature check,
 *   the nonce + chain + bucket transaction); sent once per run, as it adds a chain entry;
 * - `database_ms`: a direct `SELECT 1` round trip, only inside the service (null in the runner,
 *   where the database is reached only through the bridge: see `status_ms`).
 */
@AutomationPlugin({
  name: 'latency_probe',
  description: 'Measures signing, HTTP and database latency',
})
export class LatencyProbePlugin implements RunnablePlugin {
  async run({ bridge, params, database }: PluginContext): Promise<PluginResult> {
    const samples = sampleCount(params.samples);
    const payload = bridge.newPayload({ status: 'alive', node: bridge.nodeId });
    const signed = bridge.sign(payload);
    return {
      samples,
      sign_ms: await medianMs(samples, () => bridge.sign(payload)),
      verify_ms: await medianMs(samples, () => {
        if (!bridge.verify(signed)) throw new Error('the local signature does not verify');
      }),
      http_ms: await medianMs(samples, () => bridge.getPublic('/health/live')),
      status_ms: await medianMs(samples, () => bridge.status()),
      heartbeat_ms: await medianMs(1, () => bridge.sendHeartbeat('alive', { probe: 'latency' })),
      database_ms: database ? await medianMs(samples, () => database.roundTripMs()) : null,
    };
  }
}

function sampleCount(value: unknown): number {
  if (value === undefined) return DEFAULT_SAMPLES;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_SAMPLES) {
    throw new Error(`params.samples must be a whole number from 1 to ${MAX_SAMPLES}`);
  }
  return value as number;
}

async function medianMs(samples: number, measure: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const started = performance.now();
    await measure();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return Number(times[Math.floor(times.length / 2)].toFixed(2));
}

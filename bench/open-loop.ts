import { Agent, request } from 'node:http';

const ANSWER_TIMEOUT_MS = 60_000;

export interface OpenLoopSettings {
  /** The servers, taken in turn (replicas behind a Service). */
  baseUrls: string[];
  token: string;
  /** One signed body per request, each sent once. */
  bodies: string[];
  ratePerSecond: number;
  /** Sent at the rate but not recorded: the process settles into the offered load first. */
  warmupSeconds: number;
  durationSeconds: number;
  /** Sockets the client may open; requests beyond them wait in the client, and that wait counts. */
  maxSockets: number;
}

export interface OpenLoopFigures {
  offeredPerSecond: number;
  recorded: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  /** Status code (or `error`) → count, for every answer in the recorded window that is not a 201. */
  non201: Record<string, number>;
  /** Wall-clock (epoch ms) span of the recorded window, to match it against the server's probe. */
  window: { fromMs: number; toMs: number };
  /** The slowest recorded answers: when they were due (ms into the window) and how late. */
  slowest: Array<{ dueAtMs: number; latencyMs: number }>;
}

/**
 * A constant-arrival load: request i is due at start + i / rate whatever happened to the ones
 * before it, and its latency is measured from that due time, not from when a socket was free, so
 * a stall of the server shows as the whole queue it causes (no coordinated omission).
 */
export async function runOpenLoop(settings: OpenLoopSettings): Promise<OpenLoopFigures> {
  const total = Math.floor(
    settings.ratePerSecond * (settings.warmupSeconds + settings.durationSeconds),
  );
  if (settings.bodies.length < total)
    throw new Error(`open loop needs ${total} bodies, got ${settings.bodies.length}`);
  const recordFrom = Math.floor(settings.ratePerSecond * settings.warmupSeconds);
  const urls = settings.baseUrls.map((baseUrl) => new URL('/core/update', baseUrl));
  const agent = new Agent({ keepAlive: true, maxSockets: settings.maxSockets });
  const headers = {
    authorization: `Bearer ${settings.token}`,
    'content-type': 'application/json',
  };
  const latencies = new Float64Array(total - recordFrom);
  const non201: Record<string, number> = {};
  const intervalMs = 1000 / settings.ratePerSecond;
  const startedAt = performance.now();
  const epochAtStart = Date.now();
  let answered = 0;

  await new Promise<void>((resolve) => {
    const settle = (index: number, dueAt: number, outcome: string) => {
      if (index >= recordFrom) {
        latencies[index - recordFrom] = performance.now() - dueAt;
        if (outcome !== '201') non201[outcome] = (non201[outcome] ?? 0) + 1;
      }
      answered += 1;
      if (answered === total) resolve();
    };
    const send = (index: number, dueAt: number) => {
      const body = settings.bodies[index];
      // A socket error after the answer was read must not count the request twice.
      let settled = false;
      const once = (outcome: string) => {
        if (settled) return;
        settled = true;
        settle(index, dueAt, outcome);
      };
      const outgoing = request(
        urls[index % urls.length],
        {
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          response.resume();
          response.once('end', () => once(String(response.statusCode)));
          response.once('error', () => once('error'));
        },
      );
      // A server that never answers ends the phase with errors instead of hanging it.
      outgoing.setTimeout(ANSWER_TIMEOUT_MS, () => outgoing.destroy(new Error('no answer')));
      outgoing.once('error', () => once('error'));
      outgoing.end(body);
    };
    let next = 0;
    const tick = () => {
      const now = performance.now();
      while (next < total && startedAt + next * intervalMs <= now) {
        send(next, startedAt + next * intervalMs);
        next += 1;
      }
      if (next < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();

  const slowest = Array.from(latencies, (latencyMs, index) => ({
    dueAtMs: round((recordFrom + index) * intervalMs - settings.warmupSeconds * 1000),
    latencyMs: round(latencyMs),
  }))
    .sort((a, b) => b.latencyMs - a.latencyMs)
    .slice(0, 5);
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  const windowFrom = epochAtStart + settings.warmupSeconds * 1000;
  return {
    offeredPerSecond: settings.ratePerSecond,
    recorded: sorted.length,
    latencyMs: { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: round(sorted.at(-1) ?? 0) },
    non201,
    window: { fromMs: windowFrom, toMs: windowFrom + settings.durationSeconds * 1000 },
    slowest,
  };
}

const round = (value: number) => Math.round(value * 100) / 100;

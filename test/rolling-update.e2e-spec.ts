import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { signed, TEST_JWT_SECRET, tokenFor, updatePayload } from './support/requests.js';
import {
  buildService,
  freePort,
  spawnService,
  waitUntilServing,
  type ServiceProcess,
} from './support/server-process.js';
import { waitFor } from './support/wait.js';

/** How often the stand-in for the kubelet's readiness probe asks each replica. */
const READINESS_PERIOD_MS = 100;
const LANES = 16;
/** Connections refused in a row before a request counts as lost. */
const MAX_ATTEMPTS = 3;

/**
 * What a Kubernetes Service gives its clients: requests spread over the replicas whose readiness
 * probe last answered 200 (the EndpointSlice). A replica whose readiness turns 503 is left out
 * from the next probe on. The client retries a request on another replica only when the
 * connection was refused, i.e. nothing was sent (as ingress proxies do, e.g. nginx's
 * `proxy_next_upstream error`); a reset or any answer is final.
 */
class ServiceEndpoints {
  private ready: ServiceProcess[] = [];
  private next = 0;
  private probing: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly replicas: ServiceProcess[]) {}

  add(replica: ServiceProcess): void {
    this.replicas.push(replica);
  }

  isReady(replica: ServiceProcess): boolean {
    return this.ready.includes(replica);
  }

  start(): void {
    const probe = async () => {
      const answers = await Promise.all(
        this.replicas.map(async (replica) => {
          try {
            return (await fetch(`${replica.baseUrl}/health/ready`)).status === 200;
          } catch {
            return false;
          }
        }),
      );
      this.ready = this.replicas.filter((_, index) => answers[index]);
      if (!this.stopped) this.probing = setTimeout(() => void probe(), READINESS_PERIOD_MS);
    };
    void probe();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.probing);
  }

  pick(): ServiceProcess | undefined {
    if (this.ready.length === 0) return undefined;
    this.next = (this.next + 1) % this.ready.length;
    return this.ready[this.next];
  }
}

interface Figures {
  requests: number;
  acknowledged: { sequence: number; hash: string }[];
  serverErrors: string[];
  resets: string[];
  otherAnswers: string[];
  refusedRetries: number;
  perReplica: Map<string, number>;
}

describe('a rolling update with two replicas on one database', () => {
  let keys: TestKeys;
  let db: TestDatabase;
  const running: ServiceProcess[] = [];
  let endpoints: ServiceEndpoints | undefined;
  const moduleToken = tokenFor(['module'], { ttlSeconds: 3600 });

  beforeAll(async () => {
    buildService();
    keys = createTestKeys();
    db = await createTestDatabase('rolling');
  });

  afterAll(async () => {
    endpoints?.stop();
    for (const service of running) service.child.kill('SIGKILL');
    await Promise.all(running.map((service) => service.exited));
    await db.drop();
  });

  const startReplica = async (): Promise<ServiceProcess> => {
    const service = spawnService({
      NODE_ENV: 'production',
      PORT: String(await freePort()),
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      KEYS_DIR: keys.dir,
      AUTOMATION_ENABLED: 'false',
      // The production default: readiness 503 for 5 s while the replica still serves.
      SHUTDOWN_GRACE_SECONDS: '5',
    });
    running.push(service);
    await waitUntilServing(service);
    return service;
  };

  async function send(endpoints: ServiceEndpoints, figures: Figures): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const target = endpoints.pick();
      if (!target) throw new Error('no ready replica');
      if (attempt > MAX_ATTEMPTS) throw new Error(`${MAX_ATTEMPTS} connections refused in a row`);
      figures.requests += 1;
      let response: Response;
      try {
        response = await fetch(`${target.baseUrl}/core/update`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${moduleToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(signed(keys.privateKeyPem, updatePayload())),
        });
      } catch (error) {
        const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
        if (code === 'ECONNREFUSED') {
          figures.refusedRetries += 1;
          continue;
        }
        figures.resets.push(`${target.baseUrl}: ${code ?? (error as Error).message}`);
        return;
      }
      const body = (await response.json()) as { sequence: number; hash: string };
      if (response.status === 201) {
        figures.acknowledged.push({ sequence: body.sequence, hash: body.hash });
        figures.perReplica.set(target.baseUrl, (figures.perReplica.get(target.baseUrl) ?? 0) + 1);
      } else if (response.status >= 500) figures.serverErrors.push(JSON.stringify(body));
      else figures.otherAnswers.push(`${response.status} ${JSON.stringify(body)}`);
      return;
    }
  }

  it('drains one replica under load: no 5xx, no reset, every acknowledged entry in the chain', async () => {
    const [old, kept] = await Promise.all([startReplica(), startReplica()]);
    const service = new ServiceEndpoints([old, kept]);
    endpoints = service;
    service.start();
    await waitFor(() => service.isReady(old) && service.isReady(kept), 'both replicas ready');

    const figures: Figures = {
      requests: 0,
      acknowledged: [],
      serverErrors: [],
      resets: [],
      otherAnswers: [],
      refusedRetries: 0,
      perReplica: new Map(),
    };
    let stopped = false;
    const traffic = Promise.all(
      Array.from({ length: LANES }, async () => {
        try {
          while (!stopped) await send(service, figures);
        } finally {
          stopped = true; // one lane's failure ends the others, so the test reports it
        }
      }),
    );
    await waitFor(() => figures.acknowledged.length >= 300, '300 acknowledged updates');

    // maxSurge 1, maxUnavailable 0: the new replica is ready before the old one is told to stop.
    const replacement = await startReplica();
    service.add(replacement);
    await waitFor(() => service.isReady(replacement), 'the new replica ready');

    // The kubelet, once preStop is over: SIGTERM. Readiness turns 503, the replica serves 5 s
    // more, then closes and finishes what is in flight.
    const beforeDrain = figures.acknowledged.length;
    old.child.kill('SIGTERM');
    await waitFor(() => !service.isReady(old), 'the old replica unready', 5_000);
    expect(await old.exited).toBe(0);
    const duringDrain = figures.acknowledged.length - beforeDrain;
    await waitFor(
      () => figures.acknowledged.length >= beforeDrain + duringDrain + 300,
      '300 more acknowledged updates on the remaining replicas',
    );
    stopped = true;
    await traffic;
    service.stop();

    const stored = await db.query<{ sequence: string; hash: string }>(
      'SELECT sequence, hash FROM chain_entries',
    );
    const storedHash = new Map(stored.map((row) => [Number(row.sequence), row.hash]));
    const found = figures.acknowledged.filter((ack) => storedHash.get(ack.sequence) === ack.hash);
    const verify = await fetch(`${kept.baseUrl}/provenance/verify`, {
      headers: { Authorization: `Bearer ${tokenFor(['admin'])}` },
    });
    console.log(
      `rolling update: ${figures.requests} requests, ${figures.serverErrors.length} 5xx, ` +
        `${figures.resets.length} resets, ${figures.otherAnswers.length} other answers, ` +
        `${figures.refusedRetries} retried after a refused connection; ` +
        `${figures.acknowledged.length} acknowledged (${duringDrain} while the old replica drained), ` +
        `${found.length} found in the chain of ${stored.length}; per replica: ` +
        [old, kept, replacement].map((r) => figures.perReplica.get(r.baseUrl) ?? 0).join(' / '),
    );

    expect(figures.serverErrors).toEqual([]);
    expect(figures.resets).toEqual([]);
    expect(figures.otherAnswers).toEqual([]);
    expect(found).toHaveLength(figures.acknowledged.length);
    expect(figures.perReplica.get(old.baseUrl)).toBeGreaterThan(0);
    expect(figures.perReplica.get(replacement.baseUrl)).toBeGreaterThan(0);
    expect(await verify.json()).toMatchObject({ valid: true, length: stored.length });
    expect(old.output()).toMatch(/SIGTERM received/);
  });
});

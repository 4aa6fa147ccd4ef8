// Run as child processes by test/hostile-bodies.e2e-spec.ts: one attacks, one probes, so that the
// probe shares the event loop neither of the service it measures nor of the attack. Input
// (argv[2], JSON): { baseUrl, token, clients, probe, durationMs, keys, bodyBytes }. Output (stdout,
// JSON): { bodyBytes, statuses: { "<status>": count }, healthMs: [each GET /health/live's latency] }.
const { baseUrl, token, clients, probe, durationMs, keys, bodyBytes } = JSON.parse(process.argv[2]);

const data = {};
for (let index = 0; index < keys; index += 1) data[`k${index.toString(36)}`] = index % 10;
const envelope = {
  payload: {
    module: 'module-a',
    nonce: 'wide0000000000000000',
    timestamp: new Date().toISOString(),
    data,
  },
  signature: 'A'.repeat(344),
};
// One string value pads the body to exactly `bodyBytes`.
data.pad = '';
data.pad = 'x'.repeat(bodyBytes - JSON.stringify(envelope).length);
const body = JSON.stringify(envelope);

const statuses = {};
const healthMs = [];
const until = Date.now() + durationMs;

const count = (outcome) => (statuses[outcome] = (statuses[outcome] ?? 0) + 1);
const failure = (error) => `error ${error.cause?.code ?? error.message}`;

async function attack() {
  while (Date.now() < until) {
    try {
      const answer = await fetch(`${baseUrl}/core/update`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      await answer.arrayBuffer();
      count(answer.status);
    } catch (error) {
      count(failure(error));
    }
  }
}

async function probeHealth() {
  while (Date.now() < until) {
    const started = performance.now();
    try {
      const answer = await fetch(`${baseUrl}/health/live`);
      await answer.arrayBuffer();
      if (answer.status !== 200) count(`health ${answer.status}`);
    } catch (error) {
      count(`health ${failure(error)}`);
    }
    healthMs.push(Math.round(performance.now() - started));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

await Promise.all([probe && probeHealth(), ...Array.from({ length: clients }, attack)]);
process.stdout.write(JSON.stringify({ bodyBytes: body.length, statuses, healthMs }));

import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { signPayload } from '../src/client/payload-signer.js';

const { privateKeyPem, modules, count, offset } = workerData as {
  privateKeyPem: string;
  modules: string[];
  count: number;
  offset: number;
};

const bodies: string[] = [];
for (let i = 0; i < count; i += 1) {
  const sequence = offset + i;
  const payload = {
    module: modules[sequence % modules.length],
    nonce: randomBytes(16).toString('hex'),
    timestamp: new Date().toISOString(),
    data: {
      temperature: 18 + (sequence % 70) / 10,
      humidity: 40 + (sequence % 30),
      unit: 'C',
      reading: sequence,
    },
  };
  bodies.push(JSON.stringify(signPayload(privateKeyPem, payload)));
}
parentPort!.postMessage(bodies);

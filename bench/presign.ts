import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

export interface PresignRequest {
  privateKeyPem: string;
  modules: string[];
  count: number;
}

/**
 * Signs `count` unique update bodies (fresh nonce, current timestamp) across `modules`, on every
 * core. Signing is the client's cost, so it happens before any timing starts.
 */
export async function presignUpdates(request: PresignRequest): Promise<string[]> {
  const workers = Math.max(1, availableParallelism());
  const share = Math.ceil(request.count / workers);
  const workerFile = fileURLToPath(new URL('./presign.worker.js', import.meta.url));
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, index) => {
      const count = Math.max(0, Math.min(share, request.count - index * share));
      return new Promise<string[]>((resolve, reject) => {
        const worker = new Worker(workerFile, {
          workerData: { ...request, count, offset: index * share },
        });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  return parts.flat();
}

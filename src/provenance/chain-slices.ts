import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { walkChainRangeByCopy } from './chain-copy-walk.js';
import {
  ChainVerification,
  combineSlices,
  type ChainSlice,
  type ChainWalkResult,
} from './chain-verifier.js';

/** Below this many entries per slice, a worker's start-up costs more than it saves. */
const MIN_ENTRIES_PER_SLICE = 50_000;

export interface SliceJob {
  databaseUrl: string;
  from: number;
  to: number;
  recordHashesAt: number[];
}

export type SliceMessage = { progress: number } | { slice: ChainSlice };

export interface SlicedWalkOptions {
  databaseUrl: string;
  /** The last sequence to verify: the chain's length when the walk starts (`ChainRepository.head`). */
  length: number;
  /** Slices walked at once, each on its own thread and connection; default one per core. */
  jobs?: number;
  recordHashesAt?: number[];
  onProgress?: (entries: number) => void;
}

/**
 * Verifies the chain in the database up to `length`, in `jobs` slices
 * of consecutive sequences walked in parallel (worker threads, one connection each), then joins
 * them with `combineSlices`: each entry's hash depends only on its own row, so only the joints
 * between slices need the neighbour, and the verdict is the one a single sequential walk gives.
 * With an explicit `jobs` the chain is split that many ways whatever its length (tests use this
 * to put joints between a handful of entries).
 */
export async function verifyChainBySlices(options: SlicedWalkOptions): Promise<ChainWalkResult> {
  const { databaseUrl, length: last, recordHashesAt = [], onProgress = () => undefined } = options;
  const jobs = Math.max(
    1,
    Math.min(
      options.jobs ?? Math.min(availableParallelism(), Math.floor(last / MIN_ENTRIES_PER_SLICE)),
      last,
    ),
  );
  const jobsFor = (index: number): SliceJob => ({
    databaseUrl,
    from: Math.floor((last * index) / jobs) + 1,
    to: index === jobs - 1 ? last : Math.floor((last * (index + 1)) / jobs),
    recordHashesAt,
  });
  if (jobs === 1) {
    const verification = new ChainVerification(undefined, recordHashesAt);
    await verifySliceByCopy(jobsFor(0), verification, onProgress);
    return verification;
  }
  const slices = await Promise.all(
    Array.from({ length: jobs }, (_, index) => runSliceWorker(jobsFor(index), onProgress)),
  );
  return combineSlices(slices);
}

/** Walks `job`'s sequences into `verification` on a connection of its own. */
export async function verifySliceByCopy(
  job: SliceJob,
  verification: ChainVerification,
  onProgress: (entries: number) => void,
): Promise<ChainSlice> {
  const client = new pg.Client({
    connectionString: job.databaseUrl,
    application_name: 'core-bucket-bridge chain:verify',
  });
  await client.connect();
  try {
    await walkChainRangeByCopy(client, job, verification, onProgress);
    return verification.slice();
  } finally {
    await client.end();
  }
}

function runSliceWorker(job: SliceJob, onProgress: (entries: number) => void): Promise<ChainSlice> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./chain-slice.worker.js', import.meta.url), {
      workerData: job,
    });
    let slice: ChainSlice | undefined;
    worker.on('message', (message: SliceMessage) => {
      if ('progress' in message) onProgress(message.progress);
      else slice = message.slice;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (slice) resolve(slice);
      else reject(new Error(`the worker for sequences ${job.from}..${job.to} exited (${code})`));
    });
  });
}

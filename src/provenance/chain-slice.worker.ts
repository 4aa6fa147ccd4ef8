/**
 * A worker thread of `verifyChainBySlices`: verifies one slice of the chain on its own database
 * connection and posts progress, then the slice, to the thread that started it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChainVerification } from './chain-verifier.js';
import { verifySliceByCopy, type SliceJob, type SliceMessage } from './chain-slices.js';

const job = workerData as SliceJob;
const post = (message: SliceMessage) => parentPort!.postMessage(message);
const slice = await verifySliceByCopy(
  job,
  ChainVerification.unanchored(job.recordHashesAt),
  (entries) => post({ progress: entries }),
);
post({ slice });

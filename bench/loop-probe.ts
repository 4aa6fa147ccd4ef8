/**
 * Preloaded into a server by the benchmark (`node --import ./dist/bench/loop-probe.js`, with
 * LOOP_PROBE_FILE set) to see stalls from inside without touching the server's code: every second
 * the event-loop delay histogram (perf_hooks.monitorEventLoopDelay) is read and reset and the bytes
 * allocated on the JS heap in that second are counted (v8.GCProfiler's heap before and after each
 * collection, plus the change of the used heap), every garbage collection is recorded with its duration, and on exit both go to LOOP_PROBE_FILE as JSON.
 * Times are epoch milliseconds, so the benchmark can match them against its own load windows.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics } from 'node:v8';

export interface LoopSecond {
  atMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Bytes allocated on the JS heap during the second. */
  allocatedBytes: number;
}

export interface GcPause {
  atMs: number;
  durationMs: number;
  /** perf_hooks' gc kind: 1 minor (scavenge), 2 major (mark-compact), 4 incremental, 8 weak callbacks. */
  kind: number;
}

export interface ProbeRecord {
  seconds: LoopSecond[];
  gc: GcPause[];
}

const file = process.env.LOOP_PROBE_FILE;
if (file) {
  const record: ProbeRecord = { seconds: [], gc: [] };
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const ms = (nanoseconds: number) => Math.round(nanoseconds / 1e4) / 100;
  const collections = new GCProfiler();
  collections.start();
  let usedBefore = getHeapStatistics().used_heap_size;
  setInterval(() => {
    const { statistics } = collections.stop();
    collections.start();
    const used = getHeapStatistics().used_heap_size;
    const freed = statistics.reduce(
      (total, { beforeGC, afterGC }) =>
        total + beforeGC.heapStatistics.usedHeapSize - afterGC.heapStatistics.usedHeapSize,
      0,
    );
    record.seconds.push({
      atMs: Date.now(),
      p50Ms: ms(delay.percentile(50)),
      p99Ms: ms(delay.percentile(99)),
      maxMs: ms(delay.max),
      allocatedBytes: used - usedBefore + freed,
    });
    usedBefore = used;
    delay.reset();
  }, 1000).unref();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      record.gc.push({
        atMs: Math.round(performance.timeOrigin + entry.startTime),
        durationMs: Math.round(entry.duration * 100) / 100,
        kind: (entry as { detail?: { kind?: number } }).detail?.kind ?? 0,
      });
    }
  }).observe({ entryTypes: ['gc'] });
  process.once('exit', () => writeFileSync(file, JSON.stringify(record)));
}

import { readFileSync } from 'node:fs';

/**
 * Samples a process's peak resident set (VmHWM, the kernel's own high-water mark) until stopped
 * or until the process is gone; reports megabytes.
 */
export class PeakRss {
  private peakKb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 50);
  }

  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return Math.round(this.peakKb / 1024);
  }

  private sample(): void {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      if (match) this.peakKb = Math.max(this.peakKb, Number(match[1]));
    } catch {
      // the process has exited; keep the last sample
    }
  }
}

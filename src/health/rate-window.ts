/**
 * Counts events in one-second buckets over the last `seconds` seconds: O(1) to record, and the
 * rate is the sum of the buckets still inside the window divided by its length.
 */
export class RateWindow {
  private readonly counts: Float64Array;
  /** The second (since the epoch) each bucket currently counts; -1 = never used. */
  private readonly bucketSecond: Float64Array;

  constructor(readonly seconds: number) {
    if (!Number.isInteger(seconds) || seconds < 1)
      throw new RangeError('seconds must be a positive integer');
    this.counts = new Float64Array(seconds);
    this.bucketSecond = new Float64Array(seconds).fill(-1);
  }

  record(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const index = second % this.seconds;
    // The bucket already counts a later second: this event is older than the window.
    if (this.bucketSecond[index] > second) return;
    if (this.bucketSecond[index] !== second) {
      this.bucketSecond[index] = second;
      this.counts[index] = 0;
    }
    this.counts[index] += 1;
  }

  /** Events per second over the window that ends with the current second. */
  perSecond(nowMs: number): number {
    const oldest = Math.floor(nowMs / 1000) - this.seconds + 1;
    let total = 0;
    for (let index = 0; index < this.seconds; index += 1) {
      if (this.bucketSecond[index] >= oldest) total += this.counts[index];
    }
    return total / this.seconds;
  }
}

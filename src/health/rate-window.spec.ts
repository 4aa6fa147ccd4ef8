import { RateWindow } from './rate-window.js';

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);

describe('RateWindow', () => {
  it('averages the events of the last `seconds` seconds', () => {
    const rate = new RateWindow(60);
    for (let second = 0; second < 30; second += 1) {
      rate.record(T0 + second * 1000);
      rate.record(T0 + second * 1000 + 999);
    }
    expect(rate.perSecond(T0 + 29_500)).toBe(1); // 60 events over 60 s
  });

  it('forgets seconds that slid out of the window', () => {
    const rate = new RateWindow(60);
    for (let i = 0; i < 120; i += 1) rate.record(T0);
    rate.record(T0 + 30_000);
    expect(rate.perSecond(T0 + 59_999)).toBe(121 / 60);
    expect(rate.perSecond(T0 + 60_000)).toBe(1 / 60);
    expect(rate.perSecond(T0 + 90_000)).toBe(0);
  });

  it('reuses a bucket for a later second instead of adding to its old count', () => {
    const rate = new RateWindow(2);
    rate.record(T0);
    rate.record(T0);
    rate.record(T0 + 2000); // same bucket as T0, two seconds later
    expect(rate.perSecond(T0 + 2000)).toBe(0.5);
  });

  it('ignores an event older than the second its bucket already counts', () => {
    const rate = new RateWindow(60);
    rate.record(T0 + 120_000);
    rate.record(T0); // same bucket, two minutes earlier (e.g. the wall clock stepped back)
    expect(rate.perSecond(T0 + 120_000)).toBe(1 / 60);
  });

  it('refuses a window that is not a positive integer', () => {
    expect(() => new RateWindow(0)).toThrow(RangeError);
  });
});

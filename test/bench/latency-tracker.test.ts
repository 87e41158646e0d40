import { describe, expect, it } from 'vitest';
import { LatencyTracker } from './latency-tracker.ts';

describe('LatencyTracker', () => {
  it('attributes each increase of a bucket count to the poll that saw it', () => {
    const t = new LatencyTracker(10);
    // 4 readings stamped in [1000,1010), 6 in [1010,1020); bucket 1020 still open.
    t.addExpected(
      [
        [1000, 4],
        [1010, 6],
      ],
      1020,
    );
    expect(t.lowWatermark()).toBe(1000);
    expect(t.highWatermark()).toBe(1020);
    // Poll at 1105: 4 of bucket 1000 and 1 of bucket 1010 are stored.
    t.observe(
      1105,
      new Map([
        [1000, 4],
        [1010, 1],
      ]),
    );
    // Bucket 1000 is complete and final, so the next query starts at 1010.
    expect(t.lowWatermark()).toBe(1010);
    // Poll at 1215: the other 5 of bucket 1010.
    t.observe(1215, new Map([[1010, 6]]));
    expect(t.stored).toBe(10);
    // Latencies (from bucket midpoints 1005 and 1015): 4 × 100, 1 × 90, 5 × 200.
    // Sorted: 90, 100×4, 200×5. p50 = 5th of 10 → 100; p99 = 10th → 200; p10 = 1st → 90.
    expect(t.percentile(0.5)).toBe(100);
    expect(t.percentile(0.99)).toBe(200);
    expect(t.percentile(0.1)).toBe(90);
  });

  it('does not settle the open bucket even when its count matches what is known so far', () => {
    const t = new LatencyTracker(10);
    t.addExpected([[2000, 3]], 2000);
    t.observe(2050, new Map([[2000, 3]]));
    // finalBefore is 2000: bucket 2000 may still receive readings.
    expect(t.lowWatermark()).toBe(2000);
    t.addExpected([[2000, 2]], 2010);
    expect(t.expectedReadings).toBe(5);
    expect(t.lowWatermark()).toBe(2000);
    t.observe(2100, new Map([[2000, 5]]));
    expect(t.lowWatermark()).toBeNull();
    // 3 at 2050-2005 = 45, 2 at 2100-2005 = 95.
    expect(t.percentile(0.5)).toBe(45);
    expect(t.percentile(1)).toBe(95);
  });

  it('reports no percentile before anything is stored', () => {
    const t = new LatencyTracker(10);
    t.addExpected([[0, 1]], 10);
    expect(t.percentile(0.5)).toBeNull();
  });

  it('refuses buckets that go back in time', () => {
    const t = new LatencyTracker(10);
    t.addExpected([[100, 1]], 110);
    expect(() => t.addExpected([[50, 1]], 110)).toThrow(/reported after/);
  });
});

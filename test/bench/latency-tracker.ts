/**
 * Publish-to-stored latency from repeated counts, without touching the consumer under test.
 *
 * Method: every reading's `time` is its publish wall-clock ms (bench-workload.ts). The publisher
 * reports how many readings it stamped in each `bucketMs` time bucket. The bench polls InfluxDB
 * every ~50 ms for per-bucket counts (`GROUP BY time(bucketMs)`) of the buckets not yet complete, and
 * attributes each increase of a bucket's count to that poll: those readings became countable at the
 * poll's response time at the latest and were published at the bucket's midpoint (± bucketMs/2).
 * Latencies are therefore upper bounds with a resolution of about poll interval + query time +
 * bucketMs/2; see README.md. Only buckets that are not complete are queried, so the cost of a poll
 * stays proportional to what the consumer has not stored yet, not to the run length.
 */
export class LatencyTracker {
  private readonly expected = new Map<number, number>();
  /** Buckets in ascending order; a bucket is appended once, when first reported. */
  private readonly order: number[] = [];
  private readonly seen = new Map<number, number>();
  private finalBefore = Number.NEGATIVE_INFINITY;
  /** Index into `order` of the first bucket that is not settled. */
  private low = 0;
  /** [latency ms, readings] samples. */
  private readonly samples: [number, number][] = [];
  private storedTotal = 0;
  private expectedTotal = 0;

  constructor(readonly bucketMs: number) {}

  addExpected(counts: readonly (readonly [number, number])[], finalBefore: number): void {
    const fresh = counts.filter(([b]) => !this.expected.has(b)).map(([b]) => b).sort((a, b) => a - b);
    for (const [b, n] of counts) {
      this.expected.set(b, (this.expected.get(b) ?? 0) + n);
      this.expectedTotal += n;
    }
    for (const b of fresh) {
      // The publisher's times never go backwards, so new buckets come after the known ones.
      const last = this.order[this.order.length - 1];
      if (last !== undefined && b < last) throw new Error(`bucket ${b} reported after ${last}`);
      this.order.push(b);
    }
    this.finalBefore = Math.max(this.finalBefore, finalBefore);
    this.settle();
  }

  /** First bucket start to query from, or null when nothing is outstanding. */
  lowWatermark(): number | null {
    return this.order[this.low] ?? null;
  }

  /** Exclusive upper bound for the query: the bucket after the last one reported. */
  highWatermark(): number | null {
    const last = this.order[this.order.length - 1];
    return last === undefined ? null : last + this.bucketMs;
  }

  /** Counts per bucket start (buckets from lowWatermark() on), as observed at `observedAtMs`. */
  observe(observedAtMs: number, counts: ReadonlyMap<number, number>): void {
    for (const [b, n] of counts) {
      const delta = n - (this.seen.get(b) ?? 0);
      if (delta <= 0) continue;
      this.seen.set(b, n);
      this.storedTotal += delta;
      this.samples.push([observedAtMs - (b + this.bucketMs / 2), delta]);
    }
    this.settle();
  }

  private settle(): void {
    while (this.low < this.order.length) {
      const b = this.order[this.low]!;
      if (b >= this.finalBefore || (this.seen.get(b) ?? 0) < (this.expected.get(b) ?? 0)) break;
      this.low++;
    }
  }

  get stored(): number {
    return this.storedTotal;
  }

  get expectedReadings(): number {
    return this.expectedTotal;
  }

  /** Nearest-rank percentile (0 < p ≤ 1) over readings, null without samples. */
  percentile(p: number): number | null {
    if (this.storedTotal === 0) return null;
    const sorted = [...this.samples].sort((a, b) => a[0] - b[0]);
    const rank = Math.ceil(p * this.storedTotal);
    let acc = 0;
    for (const [lat, n] of sorted) {
      acc += n;
      if (acc >= rank) return lat;
    }
    return sorted[sorted.length - 1]![0];
  }
}

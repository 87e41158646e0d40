/**
 * Opening hours of one torg as precomputed UTC intervals, extended on demand. The simulator asks
 * "open now?" and "when does this open stretch end?" once per step, so the luxon work of
 * devices/torg/opening-hours.ts is done once per week of simulated time, not once per step.
 */
import { openIntervals, type OpenInterval, type OpeningStatus } from '../devices/torg/opening-hours.ts';
import type { Torg } from '../devices/torg/torg-config.schema.ts';

const CHUNK_MS = 7 * 86_400_000;

export class CalendarCache {
  private readonly intervals: OpenInterval[] = [];
  private coveredFrom: number;
  private coveredTo: number;

  constructor(private readonly torg: Torg, fromMs: number) {
    this.coveredFrom = fromMs - 86_400_000;
    this.coveredTo = this.coveredFrom;
  }

  private ensure(untilMs: number): void {
    while (this.coveredTo <= untilMs) {
      const next = this.coveredTo + CHUNK_MS;
      for (const i of openIntervals(this.torg, this.coveredTo, next)) {
        const prev = this.intervals[this.intervals.length - 1];
        // openIntervals clips at the chunk edge; glue the halves of an interval cut by it.
        if (prev && prev.kind === i.kind && prev.endMs === i.startMs) prev.endMs = i.endMs;
        else this.intervals.push({ ...i });
      }
      this.coveredTo = next;
    }
  }

  /** Index of the interval containing ms, or -1. */
  private find(ms: number): number {
    if (ms < this.coveredFrom) throw new RangeError(`calendar asked for ${new Date(ms).toISOString()}, before its start`);
    // One extra day so that "end of the open stretch" can look past the current interval.
    this.ensure(ms + 86_400_000);
    let lo = 0;
    let hi = this.intervals.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const iv = this.intervals[mid]!;
      if (ms < iv.startMs) hi = mid - 1;
      else if (ms >= iv.endMs) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  status(ms: number): OpeningStatus {
    const i = this.find(ms);
    return i < 0 ? 'closed' : this.intervals[i]!.kind;
  }

  /** End of the contiguous open stretch (staffed and meråpent together) containing ms; null when closed. */
  openUntil(ms: number): number | null {
    let i = this.find(ms);
    if (i < 0) return null;
    let end = this.intervals[i]!.endMs;
    while (this.intervals[i + 1]?.startMs === end) {
      i++;
      end = this.intervals[i]!.endMs;
      this.ensure(end + 86_400_000);
    }
    return end;
  }
}

/**
 * Live occupancy of one torg from its entrance counters (issue 6; docs/product.md "Metric
 * definitions": occupancy = in − out accumulated, never below zero, reset to zero when the torg is
 * closed, and the size of every correction recorded as drift).
 *
 * Pure and incremental: fed counter deltas (the `periodIn`/`periodOut` of each counter reading — the
 * totals can reset or roll over, the period counts cannot) and clock ticks; time comes only from the
 * deltas, the tick argument and the injected clock.
 *
 * Rules (kept simple on purpose, and the same rules the metrics engine states in
 * dashboards/metrics/README.md):
 * - Day: the Oslo local date of a delta's `at` (end of its counting period). A delta of a later day
 *   starts that day (visits, outs, lines and drift start at 0); occupancy carries over, because a torg
 *   open across midnight still has its people — the closing reset is what empties it.
 * - Late delta of the current day: counts (visits and occupancy), whatever order it arrived in.
 * - Delta of an earlier day: does not change today's figures; counted in `lateIgnored`. The day's
 *   final numbers come from the metrics engine, which recomputes from raw readings (late data rule).
 * - Delta at or before the last closing reset (a late delta of the closing period): counts as visits,
 *   not as occupancy — the reset already declared the building empty as of that instant.
 * - Clamp: when in − out would take occupancy below zero it is set to 0 and the people added are
 *   recorded as a 'below_zero' correction (positive size).
 * - Closing reset: once per closing instant (end of the last open interval of a local day, from
 *   opening-hours.ts, so 23- and 25-hour days are exact), at the first tick at or after it; recorded
 *   as 'closing_reset' with size −occupancy when occupancy ≠ 0. Closings before the model was
 *   constructed are treated as done.
 */
import { localDay, dayIntervals } from '../../devices/torg/opening-hours.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { DateTime } from 'luxon';
import { z } from 'zod';

export interface CounterDelta {
  /** epoch ms, end of the counting period */
  at: number;
  device: string;
  entrance: string;
  line: string;
  in: number;
  out: number;
}

export interface DriftCorrection {
  torg: string;
  at: number;
  cause: 'below_zero' | 'closing_reset';
  /** people added (+) when clamping a negative value to 0, or removed (−) when resetting at closing */
  size: number;
}

export interface OccupancySnapshot {
  torg: string;
  at: number;
  occupancy: number;
  visitsToday: number;
  outToday: number;
  /** visits per `${entrance}/${line}` today */
  byLine: Record<string, { in: number; out: number }>;
  driftToday: DriftCorrection[];
  /** Oslo local date YYYY-MM-DD */
  day: string;
  /** Deltas of an earlier day than `day` that arrived after that day was left (not counted here). */
  lateIgnored: number;
}

/** zod schema of a snapshot, for serving it (live page, HTTP) and for its consumers to validate. */
export const driftCorrectionSchema = z.object({ torg: z.string(), at: z.number().int(), cause: z.enum(['below_zero', 'closing_reset']), size: z.number().int() }).strict();
export const occupancySnapshotSchema = z
  .object({
    torg: z.string(),
    at: z.number().int(),
    occupancy: z.number().int().min(0),
    visitsToday: z.number().int().min(0),
    outToday: z.number().int().min(0),
    byLine: z.record(z.string(), z.object({ in: z.number().int().min(0), out: z.number().int().min(0) }).strict()),
    driftToday: z.array(driftCorrectionSchema),
    day: z.iso.date(),
    lateIgnored: z.number().int().min(0),
  })
  .strict();

/**
 * The closing instant of a local date: end of its last open interval, or null when closed all day.
 */
export function closingOf(torg: Torg, date: string): number | null {
  const intervals = dayIntervals(torg, date);
  let end: number | null = null;
  for (const i of intervals) if (end === null || i.endMs > end) end = i.endMs;
  return end;
}

function previousDate(date: string, zone: string): string {
  return DateTime.fromISO(date, { zone }).minus({ days: 1 }).toISODate()!;
}

export class TorgOccupancy {
  private readonly torg: Torg;
  private readonly now: () => number;
  private day: string;
  /** [start, end) of `day` in ms: most deltas fall in it, and a calendar lookup per delta is costly. */
  private dayStartMs: number;
  private dayEndMs: number;
  private occupancy = 0;
  private visits = 0;
  private outs = 0;
  private byLine = new Map<string, { in: number; out: number }>();
  private drift: DriftCorrection[] = [];
  private lateIgnored = 0;
  /** Closing instant of the last reset; closings at or before it are done. */
  private lastClosingReset: number;

  constructor(opts: { torg: Torg; now: () => number }) {
    this.torg = opts.torg;
    this.now = opts.now;
    const t = opts.now();
    const day = localDay(t, opts.torg.timeZone);
    this.day = day.label;
    this.dayStartMs = day.startMs;
    this.dayEndMs = day.endMs;
    this.lastClosingReset = t;
  }

  apply(d: CounterDelta): void {
    if (d.at < this.dayStartMs) {
      this.lateIgnored++;
      return;
    }
    if (d.at >= this.dayEndMs) this.startDay(d.at);
    this.visits += d.in;
    this.outs += d.out;
    const key = `${d.entrance}/${d.line}`;
    const line = this.byLine.get(key) ?? { in: 0, out: 0 };
    line.in += d.in;
    line.out += d.out;
    this.byLine.set(key, line);
    if (d.at <= this.lastClosingReset) return;
    const next = this.occupancy + d.in - d.out;
    if (next < 0) {
      this.drift.push({ torg: this.torg.id, at: d.at, cause: 'below_zero', size: -next });
      this.occupancy = 0;
    } else {
      this.occupancy = next;
    }
  }

  tick(now: number): DriftCorrection | null {
    // A closing at 24:00 is the next local day's midnight, so yesterday's closing can be the one due.
    const today = localDay(now, this.torg.timeZone).label;
    let due: number | null = null;
    for (const date of [previousDate(today, this.torg.timeZone), today]) {
      const c = closingOf(this.torg, date);
      if (c !== null && c <= now && c > this.lastClosingReset && (due === null || c > due)) due = c;
    }
    let correction: DriftCorrection | null = null;
    if (due !== null) {
      this.lastClosingReset = due;
      if (this.occupancy !== 0) {
        correction = { torg: this.torg.id, at: due, cause: 'closing_reset', size: -this.occupancy };
        this.drift.push(correction);
        this.occupancy = 0;
      }
    }
    // The reset is recorded on the day that closed before a new day starts.
    if (now >= this.dayEndMs) this.startDay(now);
    return correction;
  }

  snapshot(): OccupancySnapshot {
    const at = this.now();
    const today = localDay(at, this.torg.timeZone).label;
    const fresh = today > this.day;
    return {
      torg: this.torg.id,
      at,
      occupancy: this.occupancy,
      visitsToday: fresh ? 0 : this.visits,
      outToday: fresh ? 0 : this.outs,
      byLine: fresh ? {} : Object.fromEntries([...this.byLine].map(([k, v]) => [k, { ...v }])),
      driftToday: fresh ? [] : this.drift.map((c) => ({ ...c })),
      day: fresh ? today : this.day,
      lateIgnored: this.lateIgnored,
    };
  }

  /** Occupancy now and the number of corrections recorded today, without copying (for replays). */
  get current(): { occupancy: number; day: string; driftCount: number } {
    return { occupancy: this.occupancy, day: this.day, driftCount: this.drift.length };
  }

  /** The corrections recorded today from index `from` on. */
  driftSince(from: number): DriftCorrection[] {
    return this.drift.slice(from).map((c) => ({ ...c }));
  }

  private startDay(atMs: number): void {
    const day = localDay(atMs, this.torg.timeZone);
    this.day = day.label;
    this.dayStartMs = day.startMs;
    this.dayEndMs = day.endMs;
    this.visits = 0;
    this.outs = 0;
    this.byLine = new Map();
    this.drift = [];
  }
}

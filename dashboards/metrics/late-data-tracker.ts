/**
 * Which computed hours late readings have made stale (issue 6: a gateway replaying a backlog).
 * Continuous queries cannot re-run on late data, so the platform tracks it itself.
 *
 * Pure: fed each ingested reading's torg and timestamp with the current time. The hourly job computes
 * an hour once it ended `settleMs` ago, so hours before hourOf(now − settleMs) are already computed; a
 * reading in such an hour marks that hour dirty. Readings older than the raw retention are ignored
 * (they are refused at ingest or expire anyway).
 *
 * A reading also changes the day before when it is a counter count stamped at local midnight (it
 * counted the previous day's last period) and the day after when it holds into it (up to one
 * reporting window, `holdMs`), so those days are marked too.
 *
 * Bounded: at most `maxHours` dirty hours are remembered (more are counted in `droppedHours`), but the
 * affected local days are always remembered — they are few (≤ retention days × torg) and the day is
 * the recompute unit (the torg occupancy replay starts at local midnight), so no late reading is
 * lost from a recompute even when its hour detail is.
 */
import { localDay } from '../../devices/torg/opening-hours.ts';

const HOUR_MS = 3_600_000;

export interface DirtyTorg {
  torg: string;
  /** Dirty hour starts (ms), ascending; may be incomplete when droppedHours > 0. */
  hours: number[];
  /** Local dates (YYYY-MM-DD) to recompute, ascending. */
  days: string[];
}

export class LateDataTracker {
  private readonly settleMs: number;
  private readonly retentionMs: number;
  private readonly maxHours: number;
  private readonly zone: string;
  private readonly holdMs: number;
  private hours = new Map<string, Set<number>>();
  private days = new Map<string, Set<string>>();
  private hourCount = 0;
  droppedHours = 0;
  lateReadings = 0;

  constructor(opts: { settleMs?: number; retentionMs?: number; maxHours?: number; zone?: string; holdMs?: number } = {}) {
    // Default: the metrics engine's default reporting window, 10 min × 2.5.
    this.holdMs = opts.holdMs ?? 25 * 60_000;
    this.settleMs = opts.settleMs ?? 15 * 60_000;
    this.retentionMs = opts.retentionMs ?? 90 * 24 * HOUR_MS;
    this.maxHours = opts.maxHours ?? 10_000;
    this.zone = opts.zone ?? 'Europe/Oslo';
  }

  /** The first hour not yet computed at `nowMs`. */
  watermark(nowMs: number): number {
    return Math.floor((nowMs - this.settleMs) / HOUR_MS) * HOUR_MS;
  }

  /** Returns true when the reading is late (its hour was already computed). */
  observe(torg: string, atMs: number, nowMs: number): boolean {
    const hour = Math.floor(atMs / HOUR_MS) * HOUR_MS;
    if (hour >= this.watermark(nowMs) || atMs < nowMs - this.retentionMs) return false;
    this.lateReadings++;
    let hours = this.hours.get(torg);
    if (!hours) this.hours.set(torg, (hours = new Set()));
    if (!hours.has(hour)) {
      if (this.hourCount < this.maxHours) {
        hours.add(hour);
        this.hourCount++;
      } else {
        this.droppedHours++;
      }
    }
    let days = this.days.get(torg);
    if (!days) this.days.set(torg, (days = new Set()));
    for (const t of [atMs - 1, atMs, atMs + this.holdMs]) days.add(localDay(t, this.zone).label);
    return true;
  }

  /** Everything dirty so far, per torg; clears the tracker. */
  take(): DirtyTorg[] {
    const out: DirtyTorg[] = [];
    for (const [torg, days] of this.days) {
      out.push({ torg, hours: [...(this.hours.get(torg) ?? [])].sort((a, b) => a - b), days: [...days].sort() });
    }
    this.hours = new Map();
    this.days = new Map();
    this.hourCount = 0;
    return out.sort((a, b) => (a.torg < b.torg ? -1 : a.torg > b.torg ? 1 : 0));
  }
}

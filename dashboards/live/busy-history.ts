/**
 * "Hvor travelt er det nå?" (issue 5): coarse busy bands for citizens, and how busy a torg usually is
 * at this hour on this weekday, from the last 8 weeks of entrance counter data in InfluxDB.
 *
 * Never a count leaves this module's callers: the public endpoint gets a band, the median stays here.
 */
import { DateTime } from 'luxon';
import { MEASUREMENTS, RP_RAW } from '../../devices/contract/influx-layout.ts';
import { localDay } from '../../devices/torg/opening-hours.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import type { BUSY_BANDS } from './live.schema.ts';
import { ident, type InfluxQuery } from '../influx-query.ts';

export type BusyBand = (typeof BUSY_BANDS)[number];

/**
 * Bands of people ÷ torg capacity: below 40 % "ledig", 40–75 % "litt travelt", above 75 % "travelt".
 * The torg capacity is the sum of the fire approvals (torg-config.schema.ts), so 75 % is when queues
 * and full rooms are likely; below 40 % there is room everywhere.
 */
export const BUSY_THRESHOLDS = { littTravelt: 0.4, travelt: 0.75 } as const;

export function busyBand(people: number, capacity: number): BusyBand {
  const ratio = people / capacity;
  return ratio < BUSY_THRESHOLDS.littTravelt ? 'ledig' : ratio <= BUSY_THRESHOLDS.travelt ? 'litt-travelt' : 'travelt';
}

export interface UsualBusyOptions {
  query: InfluxQuery;
  torgs: readonly Torg[];
  rp?: string;
  /** History looked at; default 8 weeks. */
  weeks?: number;
  /** Fewer days of this weekday with data than this: no "usual" (default 3). */
  minDays?: number;
  /** The table is recomputed at most this often; default one hour. */
  refreshMs?: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Median people present per (weekday, local hour) over the last weeks, per torg. A day's occupancy
 * is rebuilt from its hourly in/out sums: in − out from local midnight, never below zero. The live
 * state (TorgOccupancy) also empties the torg at closing and carries people over midnight; for a
 * torg closed at midnight both start the day at zero. "People at an hour" is the mean of the
 * occupancy at its start and end.
 * Hourly UTC buckets are local hours: Europe/Oslo's offsets are whole hours.
 */
export class UsualBusy {
  private table = new Map<string, Map<string, number[]>>();
  private computedAt: number | null = null;
  private inflight: Promise<void> | null = null;

  constructor(private readonly opts: UsualBusyOptions) {}

  /** Median people at the weekday/hour of `now`, or null without enough history. */
  usualPeople(torgId: string, now: number): number | null {
    const torg = this.opts.torgs.find((t) => t.id === torgId);
    if (!torg) return null;
    const local = DateTime.fromMillis(now, { zone: torg.timeZone });
    const xs = this.table.get(torgId)?.get(`${local.weekday}-${local.hour}`);
    if (!xs || xs.length < (this.opts.minDays ?? 3)) return null;
    return median(xs);
  }

  /** True when the table is older than the refresh interval (or was never computed). */
  due(now: number): boolean {
    return this.computedAt === null || now - this.computedAt >= (this.opts.refreshMs ?? 3_600_000);
  }

  /** Recomputes the table; concurrent callers share one query. */
  refresh(now: number): Promise<void> {
    this.inflight ??= this.compute(now).finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async compute(now: number): Promise<void> {
    const zone = this.opts.torgs[0]?.timeZone ?? 'Europe/Oslo';
    const todayStart = localDay(now, zone).startMs;
    const from = DateTime.fromMillis(todayStart, { zone }).minus({ weeks: this.opts.weeks ?? 8 }).toMillis();
    const m = `${ident(this.opts.rp ?? RP_RAW)}.${ident(MEASUREMENTS.counter.measurement)}`;
    const rows = await this.opts.query(
      `SELECT sum("periodIn") AS "in", sum("periodOut") AS "out" FROM ${m} WHERE time >= ${from}ms AND time < ${todayStart}ms GROUP BY time(1h), "torg" fill(none)`,
    );
    // torg → local date → hour → {in, out}
    const days = new Map<string, Map<string, Map<number, { in: number; out: number }>>>();
    for (const r of rows) {
      const torg = this.opts.torgs.find((t) => t.id === r['torg']);
      if (!torg || typeof r['time'] !== 'number') continue;
      const local = DateTime.fromMillis(r['time'], { zone: torg.timeZone });
      const byDay = days.get(torg.id) ?? new Map<string, Map<number, { in: number; out: number }>>();
      days.set(torg.id, byDay);
      const hours = byDay.get(local.toISODate()!) ?? new Map<number, { in: number; out: number }>();
      byDay.set(local.toISODate()!, hours);
      const prev = hours.get(local.hour) ?? { in: 0, out: 0 };
      hours.set(local.hour, { in: prev.in + (typeof r['in'] === 'number' ? r['in'] : 0), out: prev.out + (typeof r['out'] === 'number' ? r['out'] : 0) });
    }
    const table = new Map<string, Map<string, number[]>>();
    for (const [torgId, byDay] of days) {
      const zoneOf = this.opts.torgs.find((t) => t.id === torgId)!.timeZone;
      const cells = new Map<string, number[]>();
      for (const [date, hours] of byDay) {
        const weekday = DateTime.fromISO(date, { zone: zoneOf }).weekday;
        let occ = 0;
        for (let h = 0; h < 24; h++) {
          const start = occ;
          const c = hours.get(h);
          if (c) occ = Math.max(0, occ + c.in - c.out);
          const key = `${weekday}-${h}`;
          const list = cells.get(key) ?? [];
          list.push((start + occ) / 2);
          cells.set(key, list);
        }
      }
      table.set(torgId, cells);
    }
    this.table = table;
    this.computedAt = now;
  }
}

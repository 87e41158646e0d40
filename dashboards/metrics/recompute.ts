/**
 * Computes (or recomputes) the hourly aggregates of one Oslo local day for every torg and writes them
 * to RP_AGGREGATES, logging what changed (issue 6: "the affected hourly, daily and monthly aggregates
 * and indicator values are recomputed, and the change is logged").
 *
 * The day is the unit: the torg occupancy replay starts from 0 at local midnight (the torg was reset
 * at its last closing), and the municipality row needs every torg. Day, week and month rows are
 * rolled up from the stored hours when asked for (rollUpStored), so rewriting a day's hours is what
 * changes its week and month. Idempotent: the same raw readings produce the same points; the day's
 * points are deleted and rewritten so a value that became undefined does not linger.
 */
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { PlatformError } from '../../devices/contract/errors.ts';
import { localDay, localIsoWeek, localMonth } from '../../devices/torg/opening-hours.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import type { PointWriter } from '../../ingest/point-writer.ts';
import { rowValues } from './accumulator.ts';
import { hourBucketsToLines } from './agg-hourly.ts';
import type { MetricsStore } from './influx-metrics-reader.ts';
import type { MetricRow } from './metric-row.schema.ts';
import { computeHourBuckets, DEFAULT_METRICS_OPTIONS, hourLabel, rollUp } from './metrics-engine.ts';
import type { AssignmentLookup, HourBucket, MetricsOptions, RawReadings } from './metrics-engine.ts';

export interface RecomputeDeps {
  torgs: readonly Torg[];
  assignments: AssignmentLookup;
  store: MetricsStore;
  /** Writes to RP_AGGREGATES (e.g. InfluxWriter with rp: RP_AGGREGATES). */
  writer: PointWriter;
  log: Logger;
  options?: Partial<MetricsOptions>;
  /** Changes listed in one log line at most (the count is always logged). */
  maxLoggedChanges?: number;
}

const COMPARED = ['visits', 'avgOccupancy', 'peakOccupancy', 'peakRoomsInUse', 'utilisation', 'timeUsedShare', 'completeness'] as const;
type Compared = (typeof COMPARED)[number];

export interface HourChange {
  scope: HourBucket['scope'];
  scopeId: string;
  split: HourBucket['split'];
  hour: string;
  field: Compared;
  old: number | null;
  new: number | null;
}

export interface RecomputeOutcome {
  day: string;
  week: string;
  month: string;
  points: number;
  changes: HourChange[];
}

// Zone and module ids are unique only within a torg, so the torg is part of the key.
const keyOf = (b: HourBucket): string => `${b.scope}|${b.torg ?? ""}|${b.scopeId}|${b.hourStart}|${b.split}`;
const ZONE = 'Europe/Oslo';

/** The longest reporting window, which is how far before the day readings can hold into it. */
function lookbackMs(o: MetricsOptions): number {
  return Math.max(o.defaultExpectedIntervalMs, ...Object.values(o.expectedIntervalMs)) * o.reportingFactor;
}

export async function recomputeDay(deps: RecomputeDeps, date: string): Promise<RecomputeOutcome> {
  const o: MetricsOptions = { ...DEFAULT_METRICS_OPTIONS, ...deps.options };
  const start = DateTime.fromISO(date, { zone: ZONE });
  if (!start.isValid) throw new PlatformError('E_CONFIG_INVALID', `not a local date: ${date}`);
  const day = localDay(start.toMillis(), ZONE);
  const lookback = lookbackMs(o);
  const presence: RawReadings['presence'][number][] = [];
  const counter: RawReadings['counter'][number][] = [];
  const climate: RawReadings['climate'][number][] = [];
  for (const torg of deps.torgs) {
    // +1 ms: a counter reading stamped at the day's end counted the day's last period.
    const r = await deps.store.readRaw(torg.id, day.startMs - lookback, day.endMs + 1);
    // A loop, not push(...r): spreading a day of readings as arguments can exceed the call stack.
    for (const x of r.presence) presence.push(x);
    for (const x of r.counter) counter.push(x);
    for (const x of r.climate) climate.push(x);
  }
  const readings: RawReadings = { presence, counter, climate };
  const hours = computeHourBuckets({ torgs: deps.torgs, fromMs: day.startMs, toMs: day.endMs, readings, assignments: deps.assignments, options: o });
  const old = new Map((await deps.store.readAggHourly(day.startMs, day.endMs)).map((b) => [keyOf(b), b]));

  const changes: HourChange[] = [];
  const seen = new Set<string>();
  const compare = (before: HourBucket | undefined, after: HourBucket | undefined): void => {
    const base = (after ?? before)!;
    const a = before ? rowValues(before.acc, o.completenessThreshold) : undefined;
    const b = after ? rowValues(after.acc, o.completenessThreshold) : undefined;
    for (const field of COMPARED) {
      const x = a ? a[field] : null;
      const y = b ? b[field] : null;
      // Values round-trip through InfluxDB as float64; compare with a relative tolerance.
      const same = x === y || (x !== null && y !== null && Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x)));
      if (!same) changes.push({ scope: base.scope, scopeId: base.scopeId, split: base.split, hour: hourLabel(base.hourStart, ZONE), field, old: x, new: y });
    }
  };
  if (old.size > 0) {
    for (const b of hours) {
      seen.add(keyOf(b));
      compare(old.get(keyOf(b)), b);
    }
    for (const [k, b] of old) if (!seen.has(k)) compare(b, undefined);
  }

  await deps.store.deleteAggHourly(day.startMs, day.endMs);
  const lines = hourBucketsToLines(hours);
  const outcome = await deps.writer.write(lines);
  if (outcome.rejected.length > 0) {
    throw new PlatformError('E_INFLUX_REJECTED', `${outcome.rejected.length} agg_hourly points refused, first: ${outcome.rejected[0]!.reason}`);
  }
  const result: RecomputeOutcome = {
    day: day.label,
    week: localIsoWeek(day.startMs, ZONE).label,
    month: localMonth(day.startMs, ZONE).label,
    points: lines.length,
    changes,
  };
  deps.log.info(
    {
      event: old.size > 0 ? 'metrics_recomputed' : 'metrics_computed',
      day: result.day,
      week: result.week,
      month: result.month,
      points: result.points,
      changed: changes.length,
      changes: changes.slice(0, deps.maxLoggedChanges ?? 50),
    },
    old.size > 0 ? `hourly aggregates of ${result.day} recomputed: ${changes.length} values changed` : `hourly aggregates of ${result.day} computed`,
  );
  return result;
}

/** Rows for [fromMs, toMs) from the stored hours; callers pass whole weeks or months for those rows. */
export async function rollUpStored(store: MetricsStore, fromMs: number, toMs: number, options: Partial<MetricsOptions> = {}): Promise<MetricRow[]> {
  return rollUp(await store.readAggHourly(fromMs, toMs), options, ZONE);
}

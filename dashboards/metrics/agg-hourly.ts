/**
 * Hour buckets ⇄ `agg_hourly` points (devices/contract/influx-layout.ts AGG_HOURLY_MEASUREMENT).
 * Written with ms precision to RP_AGGREGATES; read back to roll days, weeks and months up without the
 * raw readings (which expire with RP_RAW).
 */
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';
import { AGG_HOURLY_MEASUREMENT } from '../../devices/contract/influx-layout.ts';
import { describeIssues } from '../../devices/contract/validate.ts';
import type { Series } from '../influx-query.ts';
import { emptyAccumulator, rowValues } from './accumulator.ts';
import type { Accumulator } from './accumulator.ts';
import type { HourBucket } from './metrics-engine.ts';
import { SCOPES, SPLITS } from './metric-row.schema.ts';

// Tag escaping per the line protocol reference (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/#special-characters):
// comma, equals sign and space in tag keys and values.
const escapeTag = (s: string): string => s.replace(/([,= ])/g, '\\$1');
// String field values escape double quote and backslash (same reference).
const escapeString = (s: string): string => s.replace(/(["\\])/g, '\\$1');

const SUM_FIELDS = [
  'spanMs',
  'reportedMs',
  'occMs',
  'usedMs',
  'utilNum',
  'utilDen',
  'targetKnownMs',
  'under60Ms',
  'from60to100Ms',
  'over100Ms',
  'co2OkMs',
  'co2KnownMs',
  'tempOkMs',
  'tempKnownMs',
  'humOkMs',
  'humKnownMs',
] as const satisfies readonly (keyof Accumulator & keyof typeof AGG_HOURLY_MEASUREMENT.fields)[];

const float = (v: number): string => (Number.isInteger(v) ? `${v}.0` : String(v));

/** One line per bucket; the derived values use the given completeness threshold only for the flag, which is not stored. */
export function hourBucketToLine(b: HourBucket): string {
  const tags = [`scope=${escapeTag(b.scope)}`, `scopeId=${escapeTag(b.scopeId)}`, `split=${b.split}`];
  if (b.torg !== null) tags.push(`torg=${escapeTag(b.torg)}`);
  tags.sort(); // InfluxDB recommends tags sorted by key for write performance.
  const a = b.acc;
  const fields: string[] = SUM_FIELDS.map((f) => `${f}=${float(a[f])}`);
  if (a.peak !== null) fields.push(`peak=${float(a.peak)}`);
  if (a.roomsInUsePeak !== null) fields.push(`peakRoomsInUse=${a.roomsInUsePeak}i`);
  if (a.visits !== null) fields.push(`visits=${a.visits}i`);
  if (a.driftBelowZero !== null) fields.push(`driftBelowZero=${a.driftBelowZero}i`);
  if (a.driftClosingReset !== null) fields.push(`driftClosingReset=${a.driftClosingReset}i`);
  fields.push(`dwellRuns="${escapeString(a.runs.join(','))}"`);
  const v = rowValues(a, 0);
  if (v.avgOccupancy !== null) fields.push(`avgOccupancy=${float(v.avgOccupancy)}`);
  if (v.utilisation !== null) fields.push(`utilisation=${float(v.utilisation)}`);
  if (v.completeness !== null) fields.push(`completeness=${float(v.completeness)}`);
  return `${AGG_HOURLY_MEASUREMENT.measurement},${tags.join(',')} ${fields.join(',')} ${b.hourStart}`;
}

/** Scope, torg, scope id and hour: the points of one hour of one scope, one per split. */
const seriesHourKey = (b: HourBucket): string => `${b.scope}|${b.torg ?? ''}|${b.scopeId}|${b.hourStart}`;

/** Nothing in it: no split time, no sensor time, no visit, run or drift (the 'all' bucket of a closed hour). */
function isEmpty(a: Accumulator): boolean {
  return (
    SUM_FIELDS.every((f) => a[f] === 0) &&
    a.peak === null &&
    a.roomsInUsePeak === null &&
    (a.visits ?? 0) === 0 &&
    (a.driftBelowZero ?? 0) === 0 &&
    (a.driftClosingReset ?? 0) === 0 &&
    a.runs.length === 0
  );
}

/**
 * The lines to store for a day's hour buckets. The 'all' split (open time) of a wholly closed hour is
 * empty, and it is not stored when another split of the same scope and hour is: hourBucketsFromSeries
 * restores it. That is 27 % of a month's points (31 864 of 119 318 in the issue 6 benchmark), and
 * InfluxDB's read time grows with the points read.
 */
export function hourBucketsToLines(buckets: readonly HourBucket[]): string[] {
  const withOtherSplit = new Set<string>();
  for (const b of buckets) if (b.split !== 'all') withOtherSplit.add(seriesHourKey(b));
  return buckets.filter((b) => !(b.split === 'all' && withOtherSplit.has(seriesHourKey(b)) && isEmpty(b.acc))).map(hourBucketToLine);
}

/** Restores the empty 'all' buckets hourBucketsToLines left out, each just before the first other split of its scope and hour. */
function restoreEmptyAll(buckets: readonly HourBucket[]): HourBucket[] {
  const withAll = new Set<string>();
  for (const b of buckets) if (b.split === 'all') withAll.add(seriesHourKey(b));
  const out: HourBucket[] = [];
  for (const b of buckets) {
    if (b.split !== 'all') {
      const key = seriesHourKey(b);
      if (!withAll.has(key)) {
        withAll.add(key);
        out.push({ scope: b.scope, scopeId: b.scopeId, torg: b.torg, hourStart: b.hourStart, split: 'all', acc: emptyAccumulator(b.scope === 'torg' || b.scope === 'municipality') });
      }
    }
    out.push(b);
  }
  return out;
}

// The stored point's values, checked column by column (one zod array parse per column of a day's
// answer, not an object parse per point: a month of stored hours is ~10^5 points, issue 6 benchmark).
const numbers = z.array(z.number().nullable());
const COLUMNS = {
  time: z.array(z.number().int()),
  scope: z.array(z.enum(SCOPES)),
  scopeId: z.array(z.string()),
  split: z.array(z.enum(SPLITS)),
  torg: z.array(z.string().nullable()),
  ...(Object.fromEntries(SUM_FIELDS.map((f) => [f, numbers])) as Record<(typeof SUM_FIELDS)[number], typeof numbers>),
  peak: numbers,
  peakRoomsInUse: numbers,
  visits: numbers,
  driftBelowZero: numbers,
  driftClosingReset: numbers,
  dwellRuns: z.array(z.string().nullable()),
};
type ColumnName = keyof typeof COLUMNS;
type Columns = { [K in ColumnName]: z.infer<(typeof COLUMNS)[K]> };
/** Every point has these; the fields may be missing from a point, or from a whole answer (null). */
const REQUIRED: readonly ColumnName[] = ['time', 'scope', 'scopeId', 'split'];

/**
 * Stored points → hour buckets (the inverse of hourBucketToLine), from `SELECT * FROM agg_hourly`
 * (epoch=ms) as InfluxDB answers it: tags as columns, or as the series' tags under GROUP BY; the
 * empty 'all' buckets that hourBucketsToLines leaves out are restored, so an answer must hold whole
 * hours. A value that does not fit the layout is E_INFLUX_REJECTED naming the column and the point's time.
 */
export function hourBucketsFromSeries(series: readonly Series[]): HourBucket[] {
  const out: HourBucket[] = [];
  for (const s of series) {
    const n = s.values.length;
    if (n === 0) continue;
    const cols = {} as Columns;
    for (const name of Object.keys(COLUMNS) as ColumnName[]) {
      const i = s.columns.indexOf(name);
      const tag = s.tags?.[name];
      let column: unknown[];
      if (i >= 0) column = s.values.map((v) => v[i] ?? null);
      // GROUP BY * names every tag key of the measurement; "" is a tag the series does not have (torg of the municipality).
      else if (tag !== undefined) column = new Array<unknown>(n).fill(tag === '' ? null : tag);
      else if (REQUIRED.includes(name)) throw new PlatformError('E_INFLUX_REJECTED', `agg_hourly answer has no "${name}" (columns: ${s.columns.join(', ')})`);
      else column = new Array<unknown>(n).fill(null);
      const parsed = COLUMNS[name].safeParse(column);
      if (!parsed.success) {
        const at = parsed.error.issues[0]?.path[0];
        const time = typeof at === 'number' ? s.values[at]?.[s.columns.indexOf('time')] : undefined;
        throw new PlatformError('E_INFLUX_REJECTED', `agg_hourly point at ${String(time)}: "${name}": ${describeIssues(parsed.error)}`);
      }
      (cols as Record<ColumnName, unknown>)[name] = parsed.data;
    }
    for (let k = 0; k < n; k++) {
      const scope = cols.scope[k]!;
      const withVisits = scope === 'torg' || scope === 'municipality';
      const acc = emptyAccumulator(withVisits);
      // A sum missing from a stored point (written by an older layout) reads as 0.
      for (const f of SUM_FIELDS) acc[f] = cols[f][k] ?? 0;
      acc.peak = cols.peak[k] ?? null;
      // A module point stored before peakRoomsInUse existed has no room count: null, which the roll-up
      // treats as unknown (accumulator.ts mergeInto), never as 0 rooms.
      acc.roomsInUsePeak = cols.peakRoomsInUse[k] ?? null;
      if (withVisits) {
        acc.visits = cols.visits[k] ?? 0;
        acc.driftBelowZero = cols.driftBelowZero[k] ?? 0;
        acc.driftClosingReset = cols.driftClosingReset[k] ?? 0;
      }
      const runs = cols.dwellRuns[k];
      acc.runs = runs ? runs.split(',').map(Number) : [];
      out.push({ scope, scopeId: cols.scopeId[k]!, torg: cols.torg[k] ?? null, hourStart: cols.time[k]!, split: cols.split[k]!, acc });
    }
  }
  return restoreEmptyAll(out);
}

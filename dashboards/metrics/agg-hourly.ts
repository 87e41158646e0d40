/**
 * Hour buckets ⇄ `agg_hourly` points (devices/contract/influx-layout.ts AGG_HOURLY_MEASUREMENT).
 * Written with ms precision to RP_AGGREGATES; read back to roll days, weeks and months up without the
 * raw readings (which expire with RP_RAW).
 */
import { z } from 'zod';
import { AGG_HOURLY_MEASUREMENT } from '../../devices/contract/influx-layout.ts';
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

const num = z.number();
/** A row of `SELECT * FROM agg_hourly` (epoch=ms), as the reader flattens it. */
export const aggHourlyRowSchema = z.looseObject({
  time: z.number().int(),
  scope: z.enum(SCOPES),
  scopeId: z.string(),
  torg: z.string().nullable().optional(),
  split: z.enum(SPLITS),
  // A sum missing from a stored point (written by an older layout) reads as 0.
  ...Object.fromEntries(SUM_FIELDS.map((f) => [f, num.nullable().optional()])),
  peak: num.nullable().optional(),
  peakRoomsInUse: num.nullable().optional(),
  visits: num.nullable().optional(),
  driftBelowZero: num.nullable().optional(),
  driftClosingReset: num.nullable().optional(),
  dwellRuns: z.string().nullable().optional(),
});

/** Stored point → hour bucket (the inverse of hourBucketToLine). */
export function hourBucketFromRow(input: unknown): HourBucket {
  const r = aggHourlyRowSchema.parse(input) as z.infer<typeof aggHourlyRowSchema> & Record<(typeof SUM_FIELDS)[number], number | null | undefined>;
  const withVisits = r.scope === 'torg' || r.scope === 'municipality';
  const acc = emptyAccumulator(withVisits);
  for (const f of SUM_FIELDS) acc[f] = r[f] ?? 0;
  acc.peak = r.peak ?? null;
  // A module point stored before peakRoomsInUse existed has no room count: null, which the roll-up
  // treats as unknown (accumulator.ts mergeInto), never as 0 rooms.
  acc.roomsInUsePeak = r.peakRoomsInUse ?? null;
  if (withVisits) {
    acc.visits = r.visits ?? 0;
    acc.driftBelowZero = r.driftBelowZero ?? 0;
    acc.driftClosingReset = r.driftClosingReset ?? 0;
  }
  acc.runs = r.dwellRuns ? r.dwellRuns.split(',').map(Number) : [];
  return { scope: r.scope, scopeId: r.scopeId, torg: r.torg ?? null, hourStart: r.time, split: r.split, acc };
}

/**
 * Reads what the metrics engine needs from InfluxDB 1.x through the v1 HTTP API (`POST /query`,
 * InfluxQL, `epoch=ms`; https://docs.influxdata.com/influxdb/v1/tools/api/#query-http-endpoint):
 * raw readings of one torg and range from RP_RAW, and stored hourly aggregates from RP_AGGREGATES.
 * Callers read one local day at a time (recompute.ts), so memory is bounded by one day of readings.
 */
import { z } from 'zod';
import { AGG_HOURLY_MEASUREMENT, MEASUREMENTS, RP_AGGREGATES, RP_RAW } from '../../devices/contract/influx-layout.ts';
import { ident, influxSeriesQuery, rowsOf, type InfluxSeriesQuery, type Row } from '../influx-query.ts';
import { hourBucketsFromSeries } from './agg-hourly.ts';
import type { ClimateSample, CounterSample, HourBucket, PresenceSample, RawReadings } from './metrics-engine.ts';
import type { Scope } from './metric-row.schema.ts';

/** What the recompute needs from storage; InfluxMetricsReader is the InfluxDB implementation. */
export interface MetricsStore {
  readRaw(torg: string, fromMs: number, toMs: number): Promise<RawReadings>;
  /**
   * Stored hour buckets of [fromMs, toMs), of the given scopes only when `scopes` is set (filtered by
   * InfluxDB through its tag index: reading fewer points is what makes a read faster).
   */
  readAggHourly(fromMs: number, toMs: number, scopes?: readonly Scope[]): Promise<HourBucket[]>;
  /** As readAggHourly, handed over 24 hours (from `fromMs`) at a time in time order, so a caller folding them holds a few days at most. */
  forEachAggHourlyDay(fromMs: number, toMs: number, scopes: readonly Scope[] | undefined, onDay: (buckets: HourBucket[]) => void): Promise<void>;
  deleteAggHourly(fromMs: number, toMs: number): Promise<void>;
}

const nullableNumber = z.number().nullable().optional();
const presenceRow = z.object({ time: z.number(), device: z.string(), occupied: z.boolean().nullable().optional(), count: nullableNumber, pending: z.boolean().nullable().optional() });
const counterRow = z.object({ time: z.number(), device: z.string(), line: z.string(), periodIn: nullableNumber, periodOut: nullableNumber, pending: z.boolean().nullable().optional() });
const climateRow = z.object({ time: z.number(), device: z.string(), co2: nullableNumber, temperature: nullableNumber, humidity: nullableNumber, pending: z.boolean().nullable().optional() });

/** InfluxQL string literal: single quotes, backslash-escaped (https://docs.influxdata.com/influxdb/v1/query_language/spec/#strings). */
const literal = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const DAY_MS = 86_400_000;
/** Day queries in flight at once in readAggHourly. */
const READ_CONCURRENCY = 4;

export class InfluxMetricsReader implements MetricsStore {
  private readonly run: InfluxSeriesQuery;

  /** `username`/`password`: InfluxDB 1.x credentials, or for 2.x/3.x's v1 API any user and the token. */
  constructor(opts: { url: string; db: string; timeoutMs?: number; username?: string; password?: string }) {
    this.run = influxSeriesQuery({ ...opts, timeoutMs: opts.timeoutMs ?? 30_000 });
  }

  /** The dashboards' one /query client (dashboards/influx-query.ts): POST, `partial` → error, statement in errors. */
  async query(influxql: string): Promise<Row[]> {
    return rowsOf(await this.run(influxql));
  }

  async readRaw(torg: string, fromMs: number, toMs: number): Promise<RawReadings> {
    const where = `WHERE "torg" = ${literal(torg)} AND time >= ${fromMs}ms AND time < ${toMs}ms`;
    const from = (m: string): string => `${ident(RP_RAW)}.${ident(m)}`;
    const [p, c, k] = await Promise.all([
      this.query(`SELECT "device", "occupied", "count", "pending" FROM ${from(MEASUREMENTS.presence.measurement)} ${where}`),
      this.query(`SELECT "device", "line", "periodIn", "periodOut", "pending" FROM ${from(MEASUREMENTS.counter.measurement)} ${where}`),
      this.query(`SELECT "device", "co2", "temperature", "humidity", "pending" FROM ${from(MEASUREMENTS.climate.measurement)} ${where}`),
    ]);
    // Readings stored while their device was pending (influx-layout.ts QUALITY_FIELDS.pending) stay out.
    const presence: PresenceSample[] = [];
    for (const raw of p) {
      const r = presenceRow.parse(raw);
      if (r.pending !== true) presence.push({ device: r.device, time: r.time, occupied: r.occupied ?? null, count: r.count ?? null });
    }
    const counter: CounterSample[] = [];
    for (const raw of c) {
      const r = counterRow.parse(raw);
      if (r.pending !== true) counter.push({ device: r.device, line: r.line, time: r.time, periodIn: r.periodIn ?? null, periodOut: r.periodOut ?? null });
    }
    const climate: ClimateSample[] = [];
    for (const raw of k) {
      const r = climateRow.parse(raw);
      if (r.pending !== true) climate.push({ device: r.device, time: r.time, co2: r.co2 ?? null, temperature: r.temperature ?? null, humidity: r.humidity ?? null });
    }
    return { presence, counter, climate };
  }

  async readAggHourly(fromMs: number, toMs: number, scopes?: readonly Scope[]): Promise<HourBucket[]> {
    const out: HourBucket[] = [];
    await this.forEachAggHourlyDay(fromMs, toMs, scopes, (day) => {
      for (const b of day) out.push(b);
    });
    return out;
  }

  async forEachAggHourlyDay(fromMs: number, toMs: number, scopes: readonly Scope[] | undefined, onDay: (buckets: HourBucket[]) => void): Promise<void> {
    if (scopes !== undefined && scopes.length === 0) return;
    // Only the scope is filtered here, never the split: hourBucketsFromSeries restores an hour's
    // empty 'all' bucket from the hour's other splits, so every split of a scope and hour is read.
    const scopeFilter = scopes === undefined ? '' : ` AND (${scopes.map((s) => `"scope" = ${literal(s)}`).join(' OR ')})`;
    const readDay = async (start: number, end: number): Promise<HourBucket[]> =>
      hourBucketsFromSeries(await this.run(`SELECT * FROM ${ident(RP_AGGREGATES)}.${ident(AGG_HOURLY_MEASUREMENT.measurement)} WHERE time >= ${start}ms AND time < ${end}ms${scopeFilter}`));
    // One query per 24 h keeps each response to a day of points (a month for the municipality is
    // ~10^5 points, beyond what one JSON response should carry). Up to READ_CONCURRENCY days are read
    // at once, so InfluxDB answers one while this process parses another; days are handed over in
    // order, the next query starting as the oldest is handed over, so at most READ_CONCURRENCY days
    // are held.
    const pending: Promise<HourBucket[]>[] = [];
    let start = fromMs;
    while (start < toMs || pending.length > 0) {
      while (start < toMs && pending.length < READ_CONCURRENCY) {
        const day = readDay(start, Math.min(start + DAY_MS, toMs));
        // Handled when awaited below; this keeps a later day's failure, while an earlier day is
        // awaited, from being an unhandled rejection.
        day.catch(() => undefined);
        pending.push(day);
        start += DAY_MS;
      }
      onDay(await pending.shift()!);
    }
  }

  async deleteAggHourly(fromMs: number, toMs: number): Promise<void> {
    // InfluxQL DELETE takes no RP; agg_hourly exists only in RP_AGGREGATES.
    await this.query(`DELETE FROM ${ident(AGG_HOURLY_MEASUREMENT.measurement)} WHERE time >= ${fromMs}ms AND time < ${toMs}ms`);
  }
}

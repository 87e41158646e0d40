/**
 * Reads what the metrics engine needs from InfluxDB 1.x through the v1 HTTP API (`POST /query`,
 * InfluxQL, `epoch=ms`; https://docs.influxdata.com/influxdb/v1/tools/api/#query-http-endpoint):
 * raw readings of one torg and range from RP_RAW, and stored hourly aggregates from RP_AGGREGATES.
 * Callers read one local day at a time (recompute.ts), so memory is bounded by one day of readings.
 */
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';
import { AGG_HOURLY_MEASUREMENT, MEASUREMENTS, RP_AGGREGATES, RP_RAW } from '../../devices/contract/influx-layout.ts';
import { hourBucketFromRow } from './agg-hourly.ts';
import type { ClimateSample, CounterSample, HourBucket, PresenceSample, RawReadings } from './metrics-engine.ts';

const seriesSchema = z.object({
  name: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  columns: z.array(z.string()),
  values: z.array(z.array(z.unknown())).optional(),
  partial: z.boolean().optional(),
});
const queryResponseSchema = z.object({
  results: z.array(
    z.object({ statement_id: z.number().optional(), series: z.array(seriesSchema).optional(), error: z.string().optional(), partial: z.boolean().optional() }),
  ),
  error: z.string().optional(),
});

/** What the recompute needs from storage; InfluxMetricsReader is the InfluxDB implementation. */
export interface MetricsStore {
  readRaw(torg: string, fromMs: number, toMs: number): Promise<RawReadings>;
  readAggHourly(fromMs: number, toMs: number): Promise<HourBucket[]>;
  deleteAggHourly(fromMs: number, toMs: number): Promise<void>;
}

const nullableNumber = z.number().nullable().optional();
const presenceRow = z.object({ time: z.number(), device: z.string(), occupied: z.boolean().nullable().optional(), count: nullableNumber, pending: z.boolean().nullable().optional() });
const counterRow = z.object({ time: z.number(), device: z.string(), line: z.string(), periodIn: nullableNumber, periodOut: nullableNumber, pending: z.boolean().nullable().optional() });
const climateRow = z.object({ time: z.number(), device: z.string(), co2: nullableNumber, temperature: nullableNumber, humidity: nullableNumber, pending: z.boolean().nullable().optional() });

/** InfluxQL string literal: single quotes, backslash-escaped (https://docs.influxdata.com/influxdb/v1/query_language/spec/#strings). */
const literal = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const DAY_MS = 86_400_000;
const ident = (s: string): string => `"${s.replace(/"/g, '\\"')}"`;

export class InfluxMetricsReader implements MetricsStore {
  private readonly url: string;
  private readonly db: string;
  private readonly timeoutMs: number;
  private readonly auth: Record<string, string>;

  /** `username`/`password`: InfluxDB 1.x credentials, or for 2.x/3.x's v1 API any user and the token. */
  constructor(opts: { url: string; db: string; timeoutMs?: number; username?: string; password?: string }) {
    this.url = opts.url.replace(/\/$/, '');
    this.db = opts.db;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.auth = opts.password !== undefined ? { authorization: `Basic ${Buffer.from(`${opts.username ?? ''}:${opts.password}`).toString('base64')}` } : {};
  }

  async query(influxql: string): Promise<Record<string, unknown>[]> {
    let text: string;
    let status: number;
    try {
      const response = await fetch(`${this.url}/query`, {
        method: 'POST',
        body: new URLSearchParams({ q: influxql, db: this.db, epoch: 'ms' }),
        // Basic auth in a header: credentials stay out of URLs and access logs.
        headers: this.auth,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (err) {
      throw new PlatformError('E_INFLUX_UNAVAILABLE', `query failed: ${(err as Error).message}`, { cause: err });
    }
    if (status >= 500 || status === 429) throw new PlatformError('E_INFLUX_UNAVAILABLE', `query answered ${status}: ${text.slice(0, 200)}`);
    let parsed: z.infer<typeof queryResponseSchema>;
    try {
      parsed = queryResponseSchema.parse(JSON.parse(text));
    } catch (err) {
      throw new PlatformError('E_INFLUX_REJECTED', `query answered ${status} with an unexpected body: ${text.slice(0, 200)}`, { cause: err });
    }
    const failed = parsed.error ?? parsed.results.find((r) => r.error !== undefined)?.error;
    // A statement error is a property of the query (or a missing database), not of the moment.
    if (failed !== undefined || status >= 400) throw new PlatformError('E_INFLUX_REJECTED', `${failed ?? status}: ${influxql.slice(0, 200)}`);
    // `partial` marks a result cut by the server's max-row-limit; a cut result would be silently wrong.
    if (parsed.results.some((r) => r.partial === true || (r.series ?? []).some((x) => x.partial === true))) {
      throw new PlatformError('E_INFLUX_REJECTED', `result truncated by max-row-limit; query a shorter range: ${influxql.slice(0, 200)}`);
    }
    const rows: Record<string, unknown>[] = [];
    for (const s of parsed.results.flatMap((r) => r.series ?? [])) {
      for (const values of s.values ?? []) {
        const row: Record<string, unknown> = { ...s.tags };
        s.columns.forEach((c, i) => {
          row[c] = values[i];
        });
        rows.push(row);
      }
    }
    return rows;
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

  async readAggHourly(fromMs: number, toMs: number): Promise<HourBucket[]> {
    // One query per 24 h keeps each response to a day of points (a month for the municipality is
    // ~10^5 points, beyond what one JSON response should carry).
    const out: HourBucket[] = [];
    for (let start = fromMs; start < toMs; start += DAY_MS) {
      const end = Math.min(start + DAY_MS, toMs);
      const rows = await this.query(
        `SELECT * FROM ${ident(RP_AGGREGATES)}.${ident(AGG_HOURLY_MEASUREMENT.measurement)} WHERE time >= ${start}ms AND time < ${end}ms`,
      );
      for (const r of rows) out.push(hourBucketFromRow(r));
    }
    return out;
  }

  async deleteAggHourly(fromMs: number, toMs: number): Promise<void> {
    // InfluxQL DELETE takes no RP; agg_hourly exists only in RP_AGGREGATES.
    await this.query(`DELETE FROM ${ident(AGG_HOURLY_MEASUREMENT.measurement)} WHERE time >= ${fromMs}ms AND time < ${toMs}ms`);
  }
}

/**
 * Reads what the metrics engine needs from InfluxDB 1.x through the v1 HTTP API (`POST /query`,
 * InfluxQL, `epoch=ms`; https://docs.influxdata.com/influxdb/v1/tools/api/#query-http-endpoint):
 * raw readings of one torg and range from RP_RAW, and stored hourly aggregates from RP_AGGREGATES.
 * Callers read one local day at a time (recompute.ts), so memory is bounded by one day of readings.
 */
import { z } from 'zod';
import { AGG_HOURLY_MEASUREMENT, MEASUREMENTS, RP_AGGREGATES, RP_RAW } from '../../devices/contract/influx-layout.ts';
import { ident, influxQuery, type InfluxQuery, type Row } from '../influx-query.ts';
import { hourBucketFromRow } from './agg-hourly.ts';
import type { ClimateSample, CounterSample, HourBucket, PresenceSample, RawReadings } from './metrics-engine.ts';

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
/** Day queries in flight at once in readAggHourly. */
const READ_CONCURRENCY = 4;

export class InfluxMetricsReader implements MetricsStore {
  private readonly run: InfluxQuery;

  /** `username`/`password`: InfluxDB 1.x credentials, or for 2.x/3.x's v1 API any user and the token. */
  constructor(opts: { url: string; db: string; timeoutMs?: number; username?: string; password?: string }) {
    this.run = influxQuery({ ...opts, timeoutMs: opts.timeoutMs ?? 30_000 });
  }

  /** The dashboards' one /query client (dashboards/influx-query.ts): POST, `partial` → error, statement in errors. */
  query(influxql: string): Promise<Row[]> {
    return this.run(influxql);
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
    // ~10^5 points, beyond what one JSON response should carry). READ_CONCURRENCY days are read at
    // once, so InfluxDB answers one while this process parses another; results keep day order.
    const ranges: [number, number][] = [];
    for (let start = fromMs; start < toMs; start += DAY_MS) ranges.push([start, Math.min(start + DAY_MS, toMs)]);
    const perDay: HourBucket[][] = new Array<HourBucket[]>(ranges.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ranges.length) {
        const i = next++;
        const [start, end] = ranges[i]!;
        const rows = await this.query(`SELECT * FROM ${ident(RP_AGGREGATES)}.${ident(AGG_HOURLY_MEASUREMENT.measurement)} WHERE time >= ${start}ms AND time < ${end}ms`);
        perDay[i] = rows.map(hourBucketFromRow);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, ranges.length) }, worker));
    return perDay.flat();
  }

  async deleteAggHourly(fromMs: number, toMs: number): Promise<void> {
    // InfluxQL DELETE takes no RP; agg_hourly exists only in RP_AGGREGATES.
    await this.query(`DELETE FROM ${ident(AGG_HOURLY_MEASUREMENT.measurement)} WHERE time >= ${fromMs}ms AND time < ${toMs}ms`);
  }
}

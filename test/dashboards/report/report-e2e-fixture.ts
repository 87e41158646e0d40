/**
 * A simulated month for the report's end-to-end test: two sample torg (Heggedal, Tofte — Tofte has a
 * meråpent zone) run through the simulator's fast-forward (simulator/model.ts TorgSimulator) in
 * 10-minute steps — the metrics engine's default expected interval — from `fromMs` to `toMs`, every
 * reading contract-checked and written as raw points to a real InfluxDB, then every local day's
 * hours computed and stored with recomputeDay, as the service's MetricsJob does.
 */
import pino from 'pino';
import { RP_AGGREGATES, RP_RAW } from '../../../devices/contract/influx-layout.ts';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { localDay } from '../../../devices/torg/opening-hours.ts';
import { loadTorgConfig, type Torg } from '../../../devices/torg/torg-config.schema.ts';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import type { AssignmentLookup, Place } from '../../../dashboards/metrics/metrics-engine.ts';
import { recomputeDay, type RecomputeDeps } from '../../../dashboards/metrics/recompute.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { readingToLine } from '../../../ingest/line-protocol.ts';
import { TorgSimulator } from '../../../simulator/model.ts';
import type { InfluxHandle } from '../../support/services.ts';
import { ROOT } from './pdf-tools.ts';

const ZONE = 'Europe/Oslo';
export const TORG_IDS = ['heggedal', 'tofte'] as const;

export interface SeededMonth {
  torgs: Torg[];
  assignments: AssignmentLookup;
  store: InfluxMetricsReader;
  agg: InfluxWriter;
  recompute: RecomputeDeps;
  readings: number;
  days: string[];
  close(): Promise<void>;
}

/**
 * Simulates [fromMs, toMs) and stores the hours of every local day in [hoursFromMs, toMs): the days
 * before `fromMs` have no readings (the platform was not installed yet), their hours stored as such,
 * as the MetricsJob would have stored them.
 */
export async function seedMonth(influx: InfluxHandle, opts: { hoursFromMs: number; fromMs: number; toMs: number; seed?: number }): Promise<SeededMonth> {
  const { fromMs, toMs } = opts;
  const seed = opts.seed ?? 7;
  const all = loadTorgConfig(`${ROOT}config/torg.asker.sample.json`).torg;
  const torgs = TORG_IDS.map((id) => all.find((t) => t.id === id)!);
  const places = new Map<string, { torg: string; place: Place }>();
  const sims = torgs.map((t) => new TorgSimulator(t, { seed, startMs: fromMs, stepSeconds: 600, faultRate: 0 }));
  for (const sim of sims) {
    for (const d of sim.devices) {
      if (d.role === 'counter') places.set(d.id, { torg: sim.torg.id, place: { type: 'entrance', entrance: d.entrance!, line: d.lines![0]! } });
      else if (d.zone !== undefined) places.set(d.id, { torg: sim.torg.id, place: { type: 'zone', zone: d.zone } });
    }
  }
  const assignments: AssignmentLookup = (device) => places.get(device) ?? null;
  const raw = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_RAW, precision: 'ms' });
  const agg = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_AGGREGATES, precision: 'ms' });
  let readings = 0;
  try {
    let lines: string[] = [];
    for (let t = fromMs; t < toMs; t += 600_000) {
      for (const sim of sims) {
        const step = sim.step();
        if (step.timeMs > toMs) continue;
        for (const r of step.readings) {
          const reading = readingSchema.parse(r);
          lines.push(readingToLine(sim.torg.id, reading, Date.parse(reading.time)));
        }
      }
      if (lines.length >= 20_000) {
        readings += await writeAll(raw, lines);
        lines = [];
      }
    }
    readings += await writeAll(raw, lines);
  } finally {
    await raw.close();
  }
  const store = new InfluxMetricsReader({ url: influx.url, db: influx.db, timeoutMs: 60_000 });
  const recompute: RecomputeDeps = { torgs, assignments, store, writer: agg, log: pino({ level: 'silent' }) };
  const days: string[] = [];
  for (let t = opts.hoursFromMs; t < toMs; ) {
    const d = localDay(t, ZONE);
    await recomputeDay(recompute, d.label);
    days.push(d.label);
    t = d.endMs;
  }
  return { torgs, assignments, store, agg, recompute, readings, days, close: () => agg.close() };
}

async function writeAll(w: InfluxWriter, lines: string[]): Promise<number> {
  if (lines.length === 0) return 0;
  const outcome = await w.write(lines);
  if (outcome.rejected.length > 0) throw new Error(`seed refused: ${outcome.rejected[0]!.reason}`);
  return lines.length;
}

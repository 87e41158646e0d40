/**
 * A real InfluxDB seeded with one small, hand-countable day of raw readings for the metrics API and
 * CLI tests; the hours are NOT precomputed, so the route has to compute the day on demand.
 *
 * Testtorg (fixture-torg.ts), Tuesday 2026-11-17, CET (UTC+1); staffed 10–15 local = 09:00Z–14:00Z.
 * - pir-a in sone-a (capacity 10, headcount): count 5 at 09:00Z, 09:10 … 09:50Z; count 0 at 10:00Z …
 *   10:50Z. Default interval 10 min → window 25 min, so the last reading holds to 11:15Z.
 * - co2-a in sone-a: 1200 ppm at 09:00Z, 800 ppm at 09:20Z and 09:40Z (the last holds to 10:05Z).
 * - teller-1 on hoved/line-1 (interval 20 min → window 50 min): in/out 0/0 at 09:00Z, 6/0 at
 *   09:30Z, 4/2 at 10:00Z.
 */
import pino from 'pino';
import { RP_AGGREGATES, RP_RAW } from '../../../devices/contract/influx-layout.ts';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import type { MetricsRoutesDeps } from '../../../dashboards/metrics/metrics-routes.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { readingToLine } from '../../../ingest/line-protocol.ts';
import { startInfluxDB, type InfluxHandle } from '../../support/services.ts';
import { assignments, makeTorg, t } from './fixture-torg.ts';

export const NOW = t('2026-11-24T08:00:00Z');

const line = (r: unknown): string => {
  const reading = readingSchema.parse(r);
  return readingToLine('testtorg', reading, Date.parse(reading.time));
};

export function fixtureLines(): string[] {
  const lines: string[] = [];
  for (const hm of ['09:00', '09:10', '09:20', '09:30', '09:40', '09:50']) lines.push(line({ kind: 'presence', device: 'pir-a', time: `2026-11-17T${hm}:00Z`, occupied: true, count: 5 }));
  for (const hm of ['10:00', '10:10', '10:20', '10:30', '10:40', '10:50']) lines.push(line({ kind: 'presence', device: 'pir-a', time: `2026-11-17T${hm}:00Z`, occupied: false, count: 0 }));
  lines.push(line({ kind: 'climate', device: 'co2-a', time: '2026-11-17T09:00:00Z', co2: 1200 }));
  lines.push(line({ kind: 'climate', device: 'co2-a', time: '2026-11-17T09:20:00Z', co2: 800 }));
  lines.push(line({ kind: 'climate', device: 'co2-a', time: '2026-11-17T09:40:00Z', co2: 800 }));
  const counter = (iso: string, periodIn: number, periodOut: number) => line({ kind: 'counter', device: 'teller-1', time: iso, line: 'line-1', periodIn, periodOut, periodSeconds: 1800 });
  lines.push(counter('2026-11-17T09:00:00Z', 0, 0), counter('2026-11-17T09:30:00Z', 6, 0), counter('2026-11-17T10:00:00Z', 4, 2));
  return lines;
}

export interface MetricsFixture {
  influx: InfluxHandle;
  deps: (over?: Partial<MetricsRoutesDeps>) => MetricsRoutesDeps;
  close(): Promise<void>;
}

export async function startMetricsFixture(): Promise<MetricsFixture> {
  const influx = await startInfluxDB();
  const raw = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_RAW, precision: 'ms' });
  const agg = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_AGGREGATES, precision: 'ms' });
  const outcome = await raw.write(fixtureLines());
  if (outcome.rejected.length > 0) throw new Error(`fixture refused: ${outcome.rejected[0]!.reason}`);
  const store = new InfluxMetricsReader({ url: influx.url, db: influx.db });
  const torg = makeTorg();
  const places = assignments('testtorg', {
    'pir-a': { type: 'zone', zone: 'sone-a' },
    'co2-a': { type: 'zone', zone: 'sone-a' },
    'teller-1': { type: 'entrance', entrance: 'hoved', line: 'line-1' },
  });
  const options = { expectedIntervalMs: { 'teller-1': 20 * 60_000 } };
  const log = pino({ level: 'silent' });
  return {
    influx,
    deps: (over = {}) => ({
      store,
      torgs: [torg],
      now: () => NOW,
      options,
      recompute: { torgs: [torg], assignments: places, store, writer: agg, log, options },
      ...over,
    }),
    close: async () => {
      await raw.close();
      await agg.close();
      await influx.dispose();
    },
  };
}

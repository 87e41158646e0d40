/**
 * A replayed backlog changes last week's numbers (issue 6), against a real InfluxDB 1.6: raw readings
 * written with the ingest's line protocol, hours computed into RP "forever", late readings written,
 * the day recomputed, and the changed values asserted from hand arithmetic.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGG_HOURLY_MEASUREMENT, RP_AGGREGATES, RP_RAW } from '../../../devices/contract/influx-layout.ts';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import { LateDataTracker } from '../../../dashboards/metrics/late-data-tracker.ts';
import { MetricsJob } from '../../../dashboards/metrics/metrics-job.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { recomputeDay, rollUpStored } from '../../../dashboards/metrics/recompute.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { readingToLine } from '../../../ingest/line-protocol.ts';
import { startInfluxDB } from '../../support/services.ts';
import type { InfluxHandle } from '../../support/services.ts';
import { assignments, makeTorg, t } from './fixture-torg.ts';
import { capturedLogger } from '../../support/captured-log.ts';

const torg = makeTorg();
const places = assignments('testtorg', {
  'pir-a': { type: 'zone', zone: 'sone-a' },
  'teller-1': { type: 'entrance', entrance: 'hoved', line: 'line-1' },
});
const options = { expectedIntervalMs: { 'teller-1': 20 * 60_000 } }; // counter window 50 min

const counter = (iso: string, periodIn: number, periodOut: number): string =>
  readingToLine('testtorg', readingSchema.parse({ kind: 'counter', device: 'teller-1', time: iso, line: 'line-1', periodIn, periodOut, periodSeconds: 1800 }), t(iso));
const presence = (iso: string, count: number, pending = false): string =>
  readingToLine('testtorg', readingSchema.parse({ kind: 'presence', device: 'pir-a', time: iso, occupied: count > 0, count }), t(iso), pending);

function row(rows: readonly MetricRow[], q: Partial<MetricRow>): MetricRow {
  const found = rows.filter((r) => Object.entries(q).every(([k, v]) => (r as Record<string, unknown>)[k] === v));
  if (found.length !== 1) throw new Error(`expected one row for ${JSON.stringify(q)}, found ${found.length}`);
  return found[0]!;
}

describe('recompute after late data (real InfluxDB)', () => {
  let influx: InfluxHandle;
  let raw: InfluxWriter;
  let agg: InfluxWriter;
  let reader: InfluxMetricsReader;
  const { log, logged } = capturedLogger();
  const deps = () => ({ torgs: [torg], assignments: places, store: reader, writer: agg, log, options });
  // ISO week 2026-W47: Monday 2026-11-16 00:00 CET to Monday 2026-11-23.
  const week = { from: t('2026-11-15T23:00:00Z'), to: t('2026-11-22T23:00:00Z') };

  beforeAll(async () => {
    influx = await startInfluxDB();
    raw = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_RAW, precision: 'ms' });
    agg = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_AGGREGATES, precision: 'ms' });
    reader = new InfluxMetricsReader({ url: influx.url, db: influx.db });
  });
  afterAll(async () => {
    await raw?.close();
    await agg?.close();
    await influx?.dispose();
  });

  it('recomputes the day, changes the day, week and month rows, logs old vs new, and is idempotent', async () => {
    // Tue 2026-11-17 (CET): 09:00Z = 10:00 local, staffed.
    await raw.write([
      counter('2026-11-17T09:00:00Z', 0, 0),
      counter('2026-11-17T09:30:00Z', 6, 0), // occupancy 6
      counter('2026-11-17T10:00:00Z', 4, 2), // 8; reporting until 10:50Z (window 50 min)
      presence('2026-11-17T09:00:00Z', 2),
      presence('2026-11-17T09:10:00Z', 2), // holds to 09:35Z (window 25 min), then a gap
      // Stored while the device was pending (QUALITY_FIELDS.pending): must count nowhere.
      presence('2026-11-17T09:05:00Z', 50, true),
    ]);
    const first = await recomputeDay(deps(), '2026-11-17');
    expect(first.changes).toEqual([]); // nothing stored before
    let rows = await rollUpStored(reader, week.from, week.to, options);
    expect(row(rows, { scope: 'torg', period: 'hour', label: '2026-11-17T10', split: 'staffed' }).visits).toBe(10); // 6 + 4
    const h11before = row(rows, { scope: 'torg', period: 'hour', label: '2026-11-17T11', split: 'staffed' });
    expect(h11before.visits).toBe(0);
    expect(h11before.avgOccupancy).toBe(8);
    expect(h11before.completeness).toBeCloseTo(50 / 60, 10);
    expect(row(rows, { scope: 'torg', period: 'week', label: '2026-W47', split: 'all' }).visits).toBe(10);
    const zoneBefore = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'hour', label: '2026-11-17T10', split: 'staffed' });
    expect(zoneBefore.completeness).toBeCloseTo(35 / 60, 10);
    expect(zoneBefore.avgOccupancy).toBe(2);

    // A gateway replays its backlog a week later.
    const now = t('2026-11-24T06:00:00Z');
    const late = [
      { line: counter('2026-11-17T10:30:00Z', 5, 1), at: '2026-11-17T10:30:00Z' }, // 8 + 5 − 1 = 12
      { line: counter('2026-11-17T11:00:00Z', 3, 0), at: '2026-11-17T11:00:00Z' }, // 15
      ...['09:20', '09:30', '09:40', '09:50'].map((hm) => ({ line: presence(`2026-11-17T${hm}:00Z`, 4), at: `2026-11-17T${hm}:00Z` })),
    ];
    await raw.write(late.map((l) => l.line));
    const tracker = new LateDataTracker();
    for (const l of late) tracker.observe('testtorg', t(l.at), now);
    const dirty = tracker.take();
    expect(dirty.map((d) => d.days)).toEqual([['2026-11-17']]);

    const second = await recomputeDay(deps(), dirty[0]!.days[0]!);
    expect(second).toMatchObject({ day: '2026-11-17', week: '2026-W47', month: '2026-11' });
    // Counts of 10:30Z and 11:00Z both end in hour 10–11Z (local T11): 5 + 3 = 8 visits.
    expect(second.changes).toContainEqual({ scope: 'torg', scopeId: 'testtorg', split: 'staffed', hour: '2026-11-17T11', field: 'visits', old: 0, new: 8 });
    // Zone 09–10Z: 2, 2, then 4 × 40 min → (20 + 20 + 160) / 60.
    expect(second.changes).toContainEqual({ scope: 'zone', scopeId: 'sone-a', split: 'staffed', hour: '2026-11-17T10', field: 'avgOccupancy', old: 2, new: 200 / 60 });
    const entry = logged.find((l) => l['event'] === 'metrics_recomputed');
    expect(entry).toMatchObject({ day: '2026-11-17', week: '2026-W47', month: '2026-11', changed: second.changes.length });

    rows = await rollUpStored(reader, week.from, week.to, options);
    const h11 = row(rows, { scope: 'torg', period: 'hour', label: '2026-11-17T11', split: 'staffed' });
    expect(h11.avgOccupancy).toBeCloseTo((30 * 8 + 30 * 12) / 60, 10);
    expect(h11.completeness).toBe(1);
    expect(row(rows, { scope: 'torg', period: 'day', label: '2026-11-17', split: 'all' }).visits).toBe(18);
    expect(row(rows, { scope: 'torg', period: 'week', label: '2026-W47', split: 'all' }).visits).toBe(18);
    expect(row(rows, { scope: 'municipality', period: 'week', label: '2026-W47', split: 'all' }).visits).toBe(18);
    expect(row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'hour', label: '2026-11-17T10', split: 'staffed' }).completeness).toBe(1);
    const month = await rollUpStored(reader, t('2026-10-31T23:00:00Z'), t('2026-11-30T23:00:00Z'), options);
    expect(row(month, { scope: 'torg', period: 'month', label: '2026-11', split: 'all' }).visits).toBe(18);

    // Idempotent: same readings, same points, nothing changed.
    const points = await influx.count(`"${RP_AGGREGATES}"."${AGG_HOURLY_MEASUREMENT.measurement}"`, 'spanMs');
    const third = await recomputeDay(deps(), '2026-11-17');
    expect(third.changes).toEqual([]);
    expect(await influx.count(`"${RP_AGGREGATES}"."${AGG_HOURLY_MEASUREMENT.measurement}"`, 'spanMs')).toBe(points);
    expect(points).toBe(third.points);
  });

  it('the job computes the current day, then tracked late days oldest first, a bounded number per tick', async () => {
    let now = t('2026-11-10T10:20:00Z'); // Tue; hours before 10:00Z are complete (settle 15 min)
    const tracker = new LateDataTracker();
    const registry = new Registry();
    const job = new MetricsJob({ deps: deps(), tracker, now: () => now, maxDaysPerTick: 1, metricsRegistry: registry });
    await raw.write([counter('2026-11-10T09:00:00Z', 0, 0), counter('2026-11-10T09:30:00Z', 3, 0)]);
    const firstTick = await job.tick();
    expect(logged.filter((l) => l['event'] === 'metrics_recompute_failed')).toEqual([]);
    expect(firstTick.map((o) => o.day)).toEqual(['2026-11-10']);
    let rows = await rollUpStored(reader, t('2026-11-08T23:00:00Z'), t('2026-11-10T23:00:00Z'), options);
    expect(row(rows, { scope: 'torg', period: 'hour', label: '2026-11-10T10', split: 'staffed' }).visits).toBe(3);

    // A point that a recompute must not leave behind (the day's points are deleted and rewritten).
    await agg.write([`agg_hourly,scope=zone,scopeId=ghost,split=all,torg=testtorg spanMs=1.0 ${t('2026-11-10T12:00:00Z')}`]);
    // Late: Monday's count arrives; an hour later the clock has moved on, so today is due as well.
    await raw.write([counter('2026-11-09T12:00:00Z', 2, 0)]);
    tracker.observe('testtorg', t('2026-11-09T12:00:00Z'), now);
    now = t('2026-11-10T11:20:00Z');
    expect((await job.tick()).map((o) => o.day)).toEqual(['2026-11-09']); // one day per tick, oldest first
    expect(job.pending).toEqual(['2026-11-10']);
    expect(await registry.getSingleMetricAsString('metrics_days_queued')).toContain('metrics_days_queued 1');
    expect((await job.tick()).map((o) => o.day)).toEqual(['2026-11-10']);
    expect(job.pending).toEqual([]);
    expect(logged.filter((l) => l['event'] === 'metrics_recompute_failed')).toEqual([]);
    expect(await registry.getSingleMetricAsString('metrics_days_computed_total')).toContain('metrics_days_computed_total{outcome="ok"} 3');
    rows = await rollUpStored(reader, t('2026-11-08T23:00:00Z'), t('2026-11-10T23:00:00Z'), options);
    expect(row(rows, { scope: 'torg', period: 'day', label: '2026-11-09', split: 'all' }).visits).toBe(2);
    expect(rows.filter((r) => r.scopeId === 'ghost')).toEqual([]);
  });
});

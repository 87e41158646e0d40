/**
 * IndicatorJob against a real InfluxDB 1.6 seeded with the raw readings of
 * test/dashboards/metrics/metrics-routes-fixture.ts (10 visits at testtorg on 2026-11-17, population
 * 1000): November is stored once after its last day's hours are computed, then a late batch for
 * 2026-11-18 goes through a real MetricsJob and its outcomes recompute November, with the change
 * logged. GET /api/v1/indicators then serves the stored values over real HTTP. Expected values are
 * hand arithmetic on the fixture.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RP_RAW } from '../../../devices/contract/influx-layout.ts';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { parseIndicatorFile } from '../../../dashboards/indicators/indicator-definition.schema.ts';
import { IndicatorJob } from '../../../dashboards/indicators/indicator-job.ts';
import { IndicatorStore } from '../../../dashboards/indicators/indicator-store.ts';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import { LateDataTracker } from '../../../dashboards/metrics/late-data-tracker.ts';
import { MetricsJob } from '../../../dashboards/metrics/metrics-job.ts';
import { createIndicatorComputer, effectRoutes, indicatorsResponseSchema, type EffectRoutesDeps } from '../../../dashboards/metrics/metrics-routes.ts';
import { recomputeDay, type RecomputeDeps } from '../../../dashboards/metrics/recompute.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { readingToLine } from '../../../ingest/line-protocol.ts';
import { startTestApi } from '../../ingest/api/api-server.ts';
import { t } from '../metrics/fixture-torg.ts';
import { startMetricsFixture, type MetricsFixture } from '../metrics/metrics-routes-fixture.ts';
import { capturedLogger } from '../../support/captured-log.ts';

const DEC1 = t('2026-12-01T08:00:00Z');

const file = (version: string) =>
  parseIndicatorFile({
    version,
    indicators: [
      {
        id: 'besok-per-1000',
        effectGoal: 2,
        name: { nb: 'Besøk per 1000 innbyggere', en: 'Visits per 1000 residents' },
        per: 'torg',
        formula: { kind: 'ratio', numerator: { kind: 'metric', ref: { metric: 'visits', scope: 'torg' } }, denominator: { kind: 'population', per: 1000 } },
        unit: { nb: 'besøk per 1000' },
        baseline: { value: 0, month: '2026-01' },
        target: { value: 100, month: '2026-12' },
        direction: 'higher-is-better',
        owner: 'Prosjektleder',
      },
    ],
  });

describe('IndicatorJob (real InfluxDB)', () => {
  let fx: MetricsFixture;
  let raw: InfluxWriter;
  let reader: InfluxMetricsReader;
  const { log, logged } = capturedLogger();
  let deps: EffectRoutesDeps;
  let recompute: RecomputeDeps;
  let store: IndicatorStore;

  beforeAll(async () => {
    fx = await startMetricsFixture();
    raw = new InfluxWriter({ url: fx.influx.url, db: fx.influx.db, rp: RP_RAW, precision: 'ms' });
    reader = new InfluxMetricsReader({ url: fx.influx.url, db: fx.influx.db });
    const base = fx.deps({ now: () => DEC1, maxComputeDays: 70 });
    recompute = { ...base.recompute!, log };
    deps = { ...base, recompute };
    store = new IndicatorStore({ writer: recompute.writer, influx: reader, log });
  }, 60_000);
  afterAll(async () => {
    await raw.close();
    await fx.close();
  });

  const newJob = (version: string) =>
    new IndicatorJob({
      compute: createIndicatorComputer(deps, { file: file(version) }),
      store,
      hoursStored: async (from, to) => (await reader.readAggHourly(from, to)).length > 0,
      log,
      now: () => DEC1,
      metricsRegistry: new Registry(),
    });

  it('stores the previous month once its last day is computed, recomputes it after a late batch and logs old → new', async () => {
    const job = newJob('v1');
    // 2026-11-30 has no stored hours yet: November is not stored.
    expect(await job.tick(DEC1)).toEqual([]);
    expect(await store.read('2026-11')).toEqual([]);

    await recomputeDay(recompute, '2026-11-30');
    const first = await job.tick(DEC1);
    expect(first.map((o) => o.month)).toEqual(['2026-11']);
    // 6 + 4 counted in on 2026-11-17 = 10 visits; population 1000 → 10 per 1000 residents.
    expect(first[0]!.changes).toEqual([{ indicator: 'besok-per-1000', scopeId: 'testtorg', old: null, new: { value: 10, status: expect.any(String) as string, definitionVersion: 'v1' } }]);
    const stored = await store.read('2026-11');
    expect(stored.map((s) => [s.indicator, s.scopeId, s.value, s.definitionVersion])).toEqual([['besok-per-1000', 'testtorg', 10, 'v1']]);
    // Computed once: a second tick in the same month does nothing.
    expect(await job.tick(DEC1)).toEqual([]);

    // Late batch for Wednesday 2026-11-18 (staffed 09–14Z): 5 in by 09:30Z.
    const late = [
      { kind: 'counter', device: 'teller-1', time: '2026-11-18T09:00:00Z', line: 'line-1', periodIn: 0, periodOut: 0, periodSeconds: 1800 },
      { kind: 'counter', device: 'teller-1', time: '2026-11-18T09:30:00Z', line: 'line-1', periodIn: 5, periodOut: 0, periodSeconds: 1800 },
    ].map((r) => readingSchema.parse(r));
    const written = await raw.write(late.map((r) => readingToLine('testtorg', r, Date.parse(r.time))));
    expect(written.rejected).toEqual([]);
    const tracker = new LateDataTracker();
    for (const r of late) expect(tracker.observe('testtorg', Date.parse(r.time), DEC1)).toBe(true);
    const metricsJob = new MetricsJob({ deps: recompute, tracker, now: () => DEC1, metricsRegistry: new Registry() });
    const outcomes = await metricsJob.tick();
    expect(outcomes.map((o) => o.day)).toContain('2026-11-18');

    logged.length = 0;
    const again = await job.afterMetrics(outcomes);
    // Only November: the current month (December, also touched by the job's tick) is not stored.
    expect(again.map((o) => o.month)).toEqual(['2026-11']);
    expect(again[0]!.changes).toMatchObject([{ indicator: 'besok-per-1000', scopeId: 'testtorg', old: { value: 10, definitionVersion: 'v1' }, new: { value: 15, definitionVersion: 'v1' } }]);
    const line = logged.find((l) => l['msg'] === 'indicators_recomputed');
    expect(line).toMatchObject({ month: '2026-11', definitionVersion: 'v1', changed: 1, replaced: true, changes: [{ old: { value: 10 }, new: { value: 15 } }] });
    expect((await store.read('2026-11')).map((s) => s.value)).toEqual([15]);
  }, 120_000);

  it('GET /api/v1/indicators serves stored values for the stored version, computes otherwise', async () => {
    const api = await startTestApi({ now: DEC1, extraRoutes: () => [...effectRoutes({ ...deps, indicators: { file: file('v1'), store } }), ...effectRoutes({ ...deps, indicators: { file: file('v2'), store } }).map((r) => ({ ...r, path: r.path.replace('/indicators', '/indicators-v2') }))] });
    try {
      const get = async (path: string) => {
        const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${api.tokens.analyst}` } });
        expect(res.status).toBe(200);
        return indicatorsResponseSchema.parse(await res.json());
      };
      const stored = await get('/api/v1/indicators?month=2026-11');
      expect(stored.source).toBe('stored');
      expect(stored.definitionVersion).toBe('v1');
      expect(stored.values.map((v) => [v.indicator, v.scopeId, v.torg, v.value, v.name.en])).toEqual([['besok-per-1000', 'testtorg', 'testtorg', 15, 'Visits per 1000 residents']]);
      // October was never stored.
      expect((await get('/api/v1/indicators?month=2026-10')).source).toBe('computed');
      // A new definition version is computed from the same hours, not read from v1's values.
      const v2 = await get('/api/v1/indicators-v2?month=2026-11');
      expect(v2.source).toBe('computed');
      expect(v2.definitionVersion).toBe('v2');
      expect(v2.values.map((v) => v.value)).toEqual([15]);
    } finally {
      await api.close();
    }
  }, 60_000);
});

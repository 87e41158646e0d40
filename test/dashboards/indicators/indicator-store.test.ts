/**
 * Indicator values stored in a real InfluxDB (RP "forever"), read back, and replaced on recompute
 * (late data) with the change logged and no stale field left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDICATOR_MEASUREMENT, RP_AGGREGATES } from '../../../devices/contract/influx-layout.ts';
import { computeIndicators } from '../../../dashboards/indicators/indicator-engine.ts';
import type { IndicatorContext, IndicatorValue } from '../../../dashboards/indicators/indicator-engine.ts';
import { parseIndicatorFile } from '../../../dashboards/indicators/indicator-definition.schema.ts';
import { indicatorValueToLine } from '../../../dashboards/indicators/indicator-point.ts';
import { IndicatorStore } from '../../../dashboards/indicators/indicator-store.ts';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { startInfluxDB } from '../../support/services.ts';
import type { InfluxHandle } from '../../support/services.ts';
import { row } from './metric-rows.ts';
import { capturedLogger } from '../../support/captured-log.ts';

const context: IndicatorContext = {
  torg: [
    { id: 'a', population: 1000 },
    { id: 'b', population: 2000 },
  ],
  municipality: 'Kommune',
};
const file = (version: string) =>
  parseIndicatorFile({
    version,
    indicators: [
      {
        id: 'besok-per-1000',
        effectGoal: 2,
        name: { nb: 'Besøk per 1000 innbyggere' },
        per: 'torg',
        formula: {
          kind: 'ratio',
          numerator: { kind: 'metric', ref: { metric: 'visits', scope: 'torg' } },
          denominator: { kind: 'population', per: 1000 },
        },
        unit: { nb: 'besøk per 1000' },
        baseline: { value: 100, month: '2026-01' },
        target: { value: 200, month: '2026-11' },
        direction: 'higher-is-better',
        owner: 'Prosjektleder',
      },
    ],
  });

describe('indicatorValueToLine', () => {
  it('writes tags, the version and only known optional fields, at the month start', () => {
    const v: IndicatorValue = {
      indicator: 'besok-per-1000',
      definitionVersion: 'v 1',
      effectGoal: 2,
      name: { nb: 'x' },
      unit: { nb: 'y' },
      month: '2026-06',
      start: 1780264800000,
      scopeId: 'Asker kommune',
      torg: null,
      value: 150,
      previousMonthValue: null,
      trendVsPreviousMonth: null,
      trendVsBaseline: 50,
      expected: 150,
      status: 'on-track',
      completeness: 0.5,
      lowCompleteness: true,
      missing: [],
    };
    expect(indicatorValueToLine(v)).toBe(
      'indicator,indicator=besok-per-1000,scopeId=Asker\\ kommune definitionVersion="v 1",effectGoal=2i,valueKnown=true,expected=150.0,status="on-track",lowCompleteness=true,missing="",value=150.0,trendVsBaseline=50.0,completeness=0.5 1780264800000',
    );
  });
});

describe('IndicatorStore (real InfluxDB)', () => {
  let influx: InfluxHandle;
  let writer: InfluxWriter;
  const { log, logged } = capturedLogger();
  let store: IndicatorStore;

  beforeAll(async () => {
    influx = await startInfluxDB();
    writer = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_AGGREGATES, precision: 'ms' });
    store = new IndicatorStore({ writer, influx: new InfluxMetricsReader({ url: influx.url, db: influx.db }), log });
  });
  afterAll(async () => {
    await writer?.close();
    await influx?.dispose();
  });

  it('stores a month with its version, then a recompute after late data replaces it and logs the change', async () => {
    // June: a 150 visits / 1 (thousand residents) = 150; b 500 / 2 = 250.
    const june = [row({ scope: 'torg', scopeId: 'a', label: '2026-06', visits: 150 }), row({ scope: 'torg', scopeId: 'b', label: '2026-06', visits: 500 })];
    const first = await store.save(computeIndicators(file('v1'), june, [], '2026-06', context));
    expect(first).toMatchObject({ points: 2, rejected: 0 });
    const stored = await store.read('2026-06');
    const a = stored.find((s) => s.scopeId === 'a')!;
    // Oslo summer time: June starts 2026-05-31T22:00Z.
    expect(a).toMatchObject({ time: Date.parse('2026-05-31T22:00:00Z'), definitionVersion: 'v1', value: 150, status: 'on-track', valueKnown: true, trendVsBaseline: 50 });
    expect(stored.find((s) => s.scopeId === 'b')).toMatchObject({ value: 250 });

    // Late data: a's June visits rise to 240, b's June row is gone (e.g. its hours were deleted for recompute).
    const late = [row({ scope: 'torg', scopeId: 'a', label: '2026-06', visits: 240 })];
    logged.length = 0;
    const second = await store.save(computeIndicators(file('v2'), late, [], '2026-06', context));
    expect(second.changes).toEqual([
      { indicator: 'besok-per-1000', scopeId: 'a', old: { value: 150, status: 'on-track', definitionVersion: 'v1' }, new: { value: 240, status: 'on-track', definitionVersion: 'v2' } },
      { indicator: 'besok-per-1000', scopeId: 'b', old: { value: 250, status: 'on-track', definitionVersion: 'v1' }, new: { value: null, status: 'unknown', definitionVersion: 'v2' } },
    ]);
    expect(logged.find((l) => l['msg'] === 'indicators_recomputed')).toMatchObject({ month: '2026-06', changed: 2, replaced: true });
    const again = await store.read('2026-06');
    expect(again).toHaveLength(2);
    expect(again.find((s) => s.scopeId === 'a')).toMatchObject({ value: 240, definitionVersion: 'v2' });
    const b = again.find((s) => s.scopeId === 'b')!;
    expect(b).toMatchObject({ value: null, valueKnown: false, status: 'unknown', missing: 'metric row visits torg b all 2026-06' });
    // The month was deleted before the rewrite, so b's old value and trend fields are gone, not merged.
    const raw = await influx.select(`SELECT "status", "value", "trendVsBaseline" FROM "${RP_AGGREGATES}"."${INDICATOR_MEASUREMENT.measurement}" WHERE "scopeId" = 'b'`);
    expect(raw.map((r) => [r['status'], r['value'], r['trendVsBaseline']])).toEqual([['unknown', null, null]]);
    // A month without points reads empty (May was never stored).
    expect(await store.read('2026-05')).toEqual([]);
  });
});

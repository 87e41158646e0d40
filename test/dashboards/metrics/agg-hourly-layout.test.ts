/**
 * What `agg_hourly` stores of a day's hour buckets, and that reading it back gives every bucket the
 * engine computed (issue 6 benchmark: the empty open-time bucket of a closed hour is not stored, the
 * reader restores it), through a real InfluxDB 1.6; and how a stored answer that does not fit the
 * layout is refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PlatformError } from '../../../devices/contract/errors.ts';
import { AGG_HOURLY_MEASUREMENT, RP_AGGREGATES } from '../../../devices/contract/influx-layout.ts';
import { emptyAccumulator } from '../../../dashboards/metrics/accumulator.ts';
import { hourBucketsFromSeries, hourBucketsToLines } from '../../../dashboards/metrics/agg-hourly.ts';
import { computeHourBuckets, rollUp } from '../../../dashboards/metrics/metrics-engine.ts';
import { createHourSource } from '../../../dashboards/metrics/metrics-routes.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import type { HourBucket, PresenceSample } from '../../../dashboards/metrics/metrics-engine.ts';
import { influxSeriesQuery } from '../../../dashboards/influx-query.ts';
import { useAggStore } from './agg-store-fixture.ts';
import { assignments, makeTorg, t } from './fixture-torg.ts';

const torg = makeTorg();
const places = assignments('testtorg', { 'pir-a': { type: 'zone', zone: 'sone-a' } });
const p = (iso: string, count: number): PresenceSample => ({ device: 'pir-a', time: t(iso), occupied: count > 0, count });
// Tue 2026-11-24 (CET, UTC+1). Open 07–22 local = 06Z–21Z: meråpent 06–09Z and 14–21Z, staffed
// 09–14Z; closed 23Z (the day starts at local midnight) to 06Z and 21–23Z: 9 hours. Readings only in
// open time, so the closed hours have nothing in them.
const day = { fromMs: t('2026-11-23T23:00:00Z'), toMs: t('2026-11-24T23:00:00Z') };
const presence = [p('2026-11-24T09:00:00Z', 3), p('2026-11-24T09:10:00Z', 0), p('2026-11-24T12:00:00Z', 2)];
const buckets = computeHourBuckets({ torgs: [torg], ...day, readings: { presence, counter: [], climate: [] }, assignments: places });
const keyOf = (b: HourBucket): string => `${b.scope}|${b.torg}|${b.scopeId}|${b.hourStart}|${b.split}`;
const byKey = (bs: readonly HourBucket[]): Map<string, HourBucket> => new Map(bs.map((b) => [keyOf(b), b]));

describe('hourBucketsToLines', () => {
  it("leaves out the empty 'all' bucket of each closed hour, and nothing else", () => {
    // 24 hours × 5 scopes (zones sone-a and sone-b, module møterom, torg, municipality), each hour
    // with its 'all' bucket and the one split it lies in.
    expect(buckets).toHaveLength(24 * 5 * 2);
    const lines = hourBucketsToLines(buckets);
    // 9 closed hours × 5 scopes.
    expect(lines).toHaveLength(240 - 45);
    const closedHourAll = lines.filter((l) => l.includes('split=all') && l.endsWith(` ${t('2026-11-24T03:00:00Z')}`));
    expect(closedHourAll).toEqual([]);
    expect(lines.filter((l) => l.includes('split=closed') && l.endsWith(` ${t('2026-11-24T03:00:00Z')}`))).toHaveLength(5);
    // Open hours keep their 'all' point: 15 open hours × 5 scopes.
    expect(lines.filter((l) => l.includes('split=all'))).toHaveLength(75);
  });

  it("keeps an empty 'all' bucket that is the only one of its scope and hour, and a closed hour's 'all' with anything in it", () => {
    const hour = t('2026-11-24T03:00:00Z');
    const lone: HourBucket = { scope: 'zone', scopeId: 'sone-a', torg: 'testtorg', hourStart: hour, split: 'all', acc: emptyAccumulator(false) };
    expect(hourBucketsToLines([lone])).toHaveLength(1);
    const closed: HourBucket = { ...lone, split: 'closed', acc: { ...emptyAccumulator(false), spanMs: 3_600_000 } };
    expect(hourBucketsToLines([lone, closed])).toHaveLength(1);
    const withRun: HourBucket = { ...lone, acc: { ...emptyAccumulator(false), runs: [12] } };
    expect(hourBucketsToLines([withRun, closed])).toHaveLength(2);
    const torgWithVisit: HourBucket = { scope: 'torg', scopeId: 'testtorg', torg: 'testtorg', hourStart: hour, split: 'all', acc: { ...emptyAccumulator(true), visits: 1 } };
    expect(hourBucketsToLines([torgWithVisit, { ...torgWithVisit, split: 'closed' }])).toHaveLength(2);
  });
});

describe('agg_hourly round trip (real InfluxDB)', () => {
  const store = useAggStore();
  beforeAll(async () => {
    expect((await store.agg.write(hourBucketsToLines(buckets))).rejected).toEqual([]);
  });

  it('stores 195 points and reads back all 240 buckets the engine computed, equal field by field', async () => {
    const [count] = await store.reader.query(`SELECT count("spanMs") FROM "${RP_AGGREGATES}"."${AGG_HOURLY_MEASUREMENT.measurement}"`);
    expect(count?.['count']).toBe(195);
    const stored = byKey(await store.reader.readAggHourly(day.fromMs, day.toMs));
    expect(stored.size).toBe(240);
    expect(stored).toEqual(byKey(buckets));
    const restored = stored.get(keyOf({ ...buckets[0]!, scope: 'torg', scopeId: 'testtorg', hourStart: t('2026-11-24T03:00:00Z'), split: 'all' }))!;
    expect(restored.acc).toEqual({ ...emptyAccumulator(true), visits: 0, driftBelowZero: 0, driftClosingReset: 0 });
  });

  it('scopes filter in InfluxDB, and days are handed over one at a time in time order', async () => {
    const torgOnly = await store.reader.readAggHourly(day.fromMs, day.toMs, ['torg', 'municipality']);
    expect(torgOnly).toHaveLength(24 * 2 * 2);
    expect(new Set(torgOnly.map((b) => b.scope))).toEqual(new Set(['torg', 'municipality']));
    expect(await store.reader.readAggHourly(day.fromMs, day.toMs, [])).toEqual([]);
    // 24-hour windows from `fromMs`: from 23 Nov 11Z, the stored day (23 Nov 23Z – 24 Nov 23Z) falls
    // into two windows, 23Z–10Z and 11Z–22Z, 12 hours each, handed over in that order.
    const seen: number[][] = [];
    await store.reader.forEachAggHourlyDay(t('2026-11-23T11:00:00Z'), t('2026-11-25T11:00:00Z'), ['torg'], (buckets) => seen.push([...new Set(buckets.map((b) => b.hourStart))].sort((x, y) => x - y)));
    expect(seen.map((hoursOfWindow) => hoursOfWindow.length)).toEqual([12, 12]);
    expect([seen[0]![0], seen[0]![11], seen[1]![0], seen[1]![11]]).toEqual(['2026-11-23T23', '2026-11-24T10', '2026-11-24T11', '2026-11-24T22'].map((h) => t(`${h}:00:00Z`)));
  });

  it('createHourSource: the stored day rolled up a day at a time equals the engine, and a missing day adds only the asked scopes', async () => {
    const source = createHourSource({ store: store.reader, torgs: [torg], now: () => t('2026-11-30T00:00:00Z') });
    // Tue 24 (stored) and Wed 25 (nothing stored, no recompute configured: a day of no reporting).
    const { rows, missingDays, computedDays } = await source({ startMs: day.fromMs, endMs: t('2026-11-25T23:00:00Z') }, { scopes: ['torg'] });
    expect(missingDays).toEqual(['2026-11-25']);
    expect(computedDays).toEqual([]);
    expect(new Set(rows.map((r) => r.scope))).toEqual(new Set(['torg']));
    const dayRows = (rs: readonly MetricRow[], label: string) => rs.filter((r) => r.period === 'day' && r.label === label).map((r) => JSON.stringify(r)).sort();
    expect(dayRows(rows, '2026-11-24')).toEqual(dayRows(rollUp(buckets.filter((b) => b.scope === 'torg')), '2026-11-24'));
    expect(rows.filter((r) => r.period === 'day' && r.label === '2026-11-25' && r.split === 'all')).toMatchObject([{ completeness: 0, lowCompleteness: true }]);
  });

  it('reads the GROUP BY form (tags per series) to the same buckets', async () => {
    const series = await influxSeriesQuery({ url: store.influx.url, db: store.influx.db })(
      `SELECT * FROM "${RP_AGGREGATES}"."${AGG_HOURLY_MEASUREMENT.measurement}" WHERE time >= ${day.fromMs}ms AND time < ${day.toMs}ms GROUP BY *`,
    );
    expect(series.length).toBeGreaterThan(1);
    expect(series[0]!.columns).not.toContain('scope');
    expect(byKey(hourBucketsFromSeries(series))).toEqual(byKey(buckets));
  });
});

describe('hourBucketsFromSeries refuses what does not fit the layout', () => {
  const columns = ['time', 'scope', 'scopeId', 'split', 'spanMs'];
  const rejection = (f: () => unknown): PlatformError => {
    try {
      f();
    } catch (err) {
      return err as PlatformError;
    }
    throw new Error('expected an error');
  };

  it('a value of the wrong type: E_INFLUX_REJECTED naming the column and the point', () => {
    const err = rejection(() =>
      hourBucketsFromSeries([{ columns, values: [[1000, 'zone', 'a', 'all', 5], [2000, 'zone', 'a', 'all', 'five']] }]),
    );
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.code).toBe('E_INFLUX_REJECTED');
    expect(err.retriable).toBe(false);
    expect(err.message).toContain('"spanMs"');
    expect(err.message).toContain('at 2000');
  });

  it('an unknown scope or split', () => {
    expect(rejection(() => hourBucketsFromSeries([{ columns, values: [[1000, 'room', 'a', 'all', 5]] }])).message).toContain('"scope"');
    expect(rejection(() => hourBucketsFromSeries([{ columns, values: [[1000, 'zone', 'a', 'evening', 5]] }])).message).toContain('"split"');
  });

  it('an answer without a tag every point has', () => {
    const err = rejection(() => hourBucketsFromSeries([{ columns: ['time', 'scope', 'split'], values: [[1000, 'zone', 'all']] }]));
    expect(err.code).toBe('E_INFLUX_REJECTED');
    expect(err.message).toContain('no "scopeId"');
  });

  it('fields missing from an answer read as 0 (sums) and null (peak), as from an older layout', () => {
    const [b] = hourBucketsFromSeries([{ columns, values: [[1000, 'zone', 'a', 'all', 5]] }]);
    expect(b).toEqual({ scope: 'zone', scopeId: 'a', torg: null, hourStart: 1000, split: 'all', acc: { ...emptyAccumulator(false), spanMs: 5 } });
  });
});

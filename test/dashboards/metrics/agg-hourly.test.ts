/**
 * `peakRoomsInUse` through `agg_hourly` in a real InfluxDB 1.6: written as an integer field on module
 * points only, read back as it was, and a module point stored before the field existed reads back as
 * null (unknown), which makes its day unknown as well.
 */
import { describe, expect, it } from 'vitest';
import { AGG_HOURLY_MEASUREMENT } from '../../../devices/contract/influx-layout.ts';
import { hourBucketToLine } from '../../../dashboards/metrics/agg-hourly.ts';
import { computeHourBuckets, rollUp } from '../../../dashboards/metrics/metrics-engine.ts';
import type { HourBucket, PresenceSample } from '../../../dashboards/metrics/metrics-engine.ts';
import { useAggStore } from './agg-store-fixture.ts';
import { assignments, makeTorg, t } from './fixture-torg.ts';

const torg = makeTorg();
const places = assignments('testtorg', { 'pir-a': { type: 'zone', zone: 'sone-a' }, 'pir-b': { type: 'zone', zone: 'sone-b' } });
const p = (device: string, iso: string, count: number): PresenceSample => ({ device, time: t(iso), occupied: count > 0, count });

// Tue 2026-11-24 (CET). Both rooms report 09:00–10:25Z (last readings at 10:00Z hold 25 min).
// 09Z: A 09:00–09:30, B 09:30–10:00 → 1 room at a time. 10Z: A and B both occupied 10:00–10:25 → 2.
const presence = [
  ...['09:00', '09:10', '09:20'].map((hm) => p('pir-a', `2026-11-24T${hm}:00Z`, 3)),
  ...['09:30', '09:40', '09:50'].map((hm) => p('pir-a', `2026-11-24T${hm}:00Z`, 0)),
  p('pir-a', '2026-11-24T10:00:00Z', 1),
  ...['09:00', '09:10', '09:20'].map((hm) => p('pir-b', `2026-11-24T${hm}:00Z`, 0)),
  ...['09:30', '09:40', '09:50'].map((hm) => p('pir-b', `2026-11-24T${hm}:00Z`, 2)),
  p('pir-b', '2026-11-24T10:00:00Z', 1),
];
const day = { fromMs: t('2026-11-23T23:00:00Z'), toMs: t('2026-11-24T23:00:00Z') };
const buckets = computeHourBuckets({ torgs: [torg], ...day, readings: { presence, counter: [], climate: [] }, assignments: places });
const find = (bs: readonly HourBucket[], scope: string, scopeId: string, hourIso: string): HourBucket => {
  const found = bs.filter((b) => b.scope === scope && b.scopeId === scopeId && b.split === 'all' && b.hourStart === t(hourIso));
  if (found.length !== 1) throw new Error(`expected one ${scope} ${scopeId} ${hourIso}, found ${found.length}`);
  return found[0]!;
};

describe('agg_hourly line: peakRoomsInUse', () => {
  it('an integer field on module points, absent elsewhere', () => {
    expect(hourBucketToLine(find(buckets, 'module', 'testtorg/møterom', '2026-11-24T10:00:00Z'))).toContain(',peakRoomsInUse=2i,');
    expect(hourBucketToLine(find(buckets, 'module', 'testtorg/møterom', '2026-11-24T09:00:00Z'))).toContain(',peakRoomsInUse=1i,');
    expect(hourBucketToLine(find(buckets, 'zone', 'sone-a', '2026-11-24T09:00:00Z'))).not.toContain('peakRoomsInUse');
    expect(AGG_HOURLY_MEASUREMENT.fields.peakRoomsInUse).toBe('integer');
  });
});

describe('agg_hourly roundtrip of peakRoomsInUse (real InfluxDB)', () => {
  const store = useAggStore();

  it('reads back 1 and 2 for the module, null for zones; the day is 2', async () => {
    const outcome = await store.agg.write(buckets.map(hourBucketToLine));
    expect(outcome.rejected).toEqual([]);
    const stored = await store.reader.readAggHourly(day.fromMs, day.toMs);
    expect(find(stored, 'module', 'testtorg/møterom', '2026-11-24T09:00:00Z').acc.roomsInUsePeak).toBe(1);
    expect(find(stored, 'module', 'testtorg/møterom', '2026-11-24T10:00:00Z').acc.roomsInUsePeak).toBe(2);
    // 11Z: not reported at all (the readings held to 10:25Z).
    expect(find(stored, 'module', 'testtorg/møterom', '2026-11-24T11:00:00Z').acc.roomsInUsePeak).toBeNull();
    expect(find(stored, 'zone', 'sone-a', '2026-11-24T09:00:00Z').acc.roomsInUsePeak).toBeNull();
    const dayRow = rollUp(stored).filter((r) => r.scope === 'module' && r.period === 'day' && r.split === 'all');
    expect(dayRow.map((r) => r.peakRoomsInUse)).toEqual([2]);
  });

  it('a module point written before the field existed reads back as null, and so does its day', async () => {
    // Wed 2026-11-25 09:00Z: a fully reported module hour in the old layout (peak, no peakRoomsInUse).
    const hour = t('2026-11-25T09:00:00Z');
    const old = `agg_hourly,scope=module,scopeId=testtorg/møterom,split=all,torg=testtorg spanMs=3600000.0,reportedMs=3600000.0,occMs=7200000.0,peak=3.0 ${hour}`;
    const fresh = { ...find(buckets, 'module', 'testtorg/møterom', '2026-11-24T10:00:00Z'), hourStart: t('2026-11-25T10:00:00Z') };
    expect((await store.agg.write([old, hourBucketToLine(fresh)])).rejected).toEqual([]);
    const stored = await store.reader.readAggHourly(t('2026-11-24T23:00:00Z'), t('2026-11-25T23:00:00Z'));
    const oldHour = find(stored, 'module', 'testtorg/møterom', '2026-11-25T09:00:00Z');
    expect(oldHour.acc.peak).toBe(3);
    expect(oldHour.acc.roomsInUsePeak).toBeNull();
    expect(find(stored, 'module', 'testtorg/møterom', '2026-11-25T10:00:00Z').acc.roomsInUsePeak).toBe(2);
    const rows = rollUp(stored).filter((r) => r.scope === 'module' && r.split === 'all');
    expect(rows.filter((r) => r.period === 'hour').map((r) => [r.label, r.peakRoomsInUse])).toEqual([
      ['2026-11-25T10', null],
      ['2026-11-25T11', 2],
    ]);
    // Unknown, not 2: the old hour could have had both rooms in use.
    expect(rows.filter((r) => r.period === 'day').map((r) => r.peakRoomsInUse)).toEqual([null]);
  });
});

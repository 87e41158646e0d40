/**
 * `peakRoomsInUse` (issue 6 dimensioning): the most rooms of a module occupied at the same moment,
 * computed in the engine's module sweep and merged as a maximum. Hand-built readings on Tue
 * 2026-11-24 (CET); open 07–22 local = 06:00Z–21:00Z, staffed 10–15 local = 09:00Z–14:00Z.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { metricRowsToCsv } from '../../../dashboards/metrics/csv.ts';
import { computeHourBuckets, rollUp } from '../../../dashboards/metrics/metrics-engine.ts';
import type { PresenceSample } from '../../../dashboards/metrics/metrics-engine.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { assignments, makeTorg, t } from './fixture-torg.ts';

const torg = makeTorg();
const places = assignments('testtorg', { 'pir-a': { type: 'zone', zone: 'sone-a' }, 'pir-b': { type: 'zone', zone: 'sone-b' } });
const MIN = 60_000;

/** A reading every 10 min in [from, to) with the count `f` gives at that instant (each holds 10 min). */
function readings(device: string, fromIso: string, toIso: string, f: (hhmm: string) => number): PresenceSample[] {
  const out: PresenceSample[] = [];
  for (let at = t(fromIso); at < t(toIso); at += 10 * MIN) {
    const count = f(new Date(at).toISOString().slice(11, 16));
    out.push({ device, time: at, occupied: count > 0, count });
  }
  return out;
}
const within = (hhmm: string, from: string, to: string): boolean => hhmm >= from && hhmm < to;

// Room A: 4 people 09:00–09:30Z, 2 people 10:00–10:40Z. Room B: 3 people 09:30–10:00Z (right after
// A's meeting), 5 people 10:20–10:50Z (overlapping A's second meeting 10:20–10:40Z).
const presence = [
  ...readings('pir-a', '2026-11-24T08:00:00Z', '2026-11-24T11:10:00Z', (h) => (within(h, '09:00', '09:30') ? 4 : within(h, '10:00', '10:40') ? 2 : 0)),
  ...readings('pir-b', '2026-11-24T08:00:00Z', '2026-11-24T11:10:00Z', (h) => (within(h, '09:30', '10:00') ? 3 : within(h, '10:20', '10:50') ? 5 : 0)),
];
const day = { fromMs: t('2026-11-23T23:00:00Z'), toMs: t('2026-11-24T23:00:00Z') };
const hours = computeHourBuckets({ torgs: [torg], ...day, readings: { presence, counter: [], climate: [] }, assignments: places });
const rows = rollUp(hours);

function one(q: Partial<MetricRow>): MetricRow {
  const found = rows.filter((r) => Object.entries(q).every(([k, v]) => (r as Record<string, unknown>)[k] === v));
  if (found.length !== 1) throw new Error(`expected one row for ${JSON.stringify(q)}, found ${found.length}`);
  return found[0]!;
}
const moduleHour = (label: string) => one({ scope: 'module', scopeId: 'testtorg/møterom', period: 'hour', label, split: 'all' });

describe('peakRoomsInUse in the engine', () => {
  it('two rooms used back to back within one hour: 1 room, although both rooms had people in the hour', () => {
    // 09Z = local T10: A 09:00–09:30, B 09:30–10:00, never together.
    expect(one({ scope: 'zone', scopeId: 'sone-a', period: 'hour', label: '2026-11-24T10', split: 'all' }).peakOccupancy).toBe(4);
    expect(one({ scope: 'zone', scopeId: 'sone-b', period: 'hour', label: '2026-11-24T10', split: 'all' }).peakOccupancy).toBe(3);
    expect(moduleHour('2026-11-24T10')).toMatchObject({ completeness: 1, peakRoomsInUse: 1, peakOccupancy: 4 });
  });

  it('overlapping meetings: 2 rooms; an empty reported hour: 0; an hour without reporting: null', () => {
    // 10Z = local T11: A 10:00–10:40, B 10:20–10:50 → both 10:20–10:40, 2 + 5 = 7 people.
    expect(moduleHour('2026-11-24T11')).toMatchObject({ completeness: 1, peakRoomsInUse: 2, peakOccupancy: 7 });
    // 08Z = local T09: both report, nobody there.
    expect(moduleHour('2026-11-24T09')).toMatchObject({ completeness: 1, peakRoomsInUse: 0 });
    // 11Z: the 11:00Z readings hold 25 min (window 10 min × 2.5) → 25 of 60 min reported, nobody there.
    expect(moduleHour('2026-11-24T12').completeness).toBeCloseTo(25 / 60, 12);
    expect(moduleHour('2026-11-24T12').peakRoomsInUse).toBe(0);
    // 06Z: open, no reading yet.
    expect(moduleHour('2026-11-24T07')).toMatchObject({ completeness: 0, peakRoomsInUse: null });
  });

  it('days take the highest hour; zone, torg and municipality rows have no room count', () => {
    expect(one({ scope: 'module', period: 'day', split: 'all' }).peakRoomsInUse).toBe(2);
    expect(one({ scope: 'module', period: 'week', split: 'all' }).peakRoomsInUse).toBe(2);
    // Meråpent 07–10 and 15–22 local: only hour 08Z (T09) was reported, with nobody there.
    expect(one({ scope: 'module', period: 'day', split: 'meraapent' }).peakRoomsInUse).toBe(0);
    const others = rows.filter((r) => r.scope !== 'module');
    expect(others.length).toBeGreaterThan(0);
    expect(others.filter((r) => r.peakRoomsInUse !== null)).toEqual([]);
  });

  it('a day with an hour of unknown room count (stored before the field) is unknown, not the highest of the rest', () => {
    const old = hours.map((b) =>
      b.scope === 'module' && b.split === 'all' && b.hourStart === t('2026-11-24T08:00:00Z') ? { ...b, acc: { ...b.acc, roomsInUsePeak: null } } : b,
    );
    const rolled = rollUp(old);
    const dayAll = rolled.filter((r) => r.scope === 'module' && r.period === 'day' && r.split === 'all');
    expect(dayAll.map((r) => r.peakRoomsInUse)).toEqual([null]);
    // The staffed split does not contain 08Z, so its day is still known.
    expect(rolled.filter((r) => r.scope === 'module' && r.period === 'day' && r.split === 'staffed').map((r) => r.peakRoomsInUse)).toEqual([2]);
  });

  it('is a CSV column (empty for null)', () => {
    const csv = parse(metricRowsToCsv([moduleHour('2026-11-24T10'), moduleHour('2026-11-24T07')]), { columns: true }) as Record<string, string>[];
    expect(csv.map((r) => r['peakRoomsInUse'])).toEqual(['1', '']);
  });
});

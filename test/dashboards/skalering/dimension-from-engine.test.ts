/**
 * dimension() over rows the metrics engine computed from hand-built presence readings, so the
 * simultaneous demand is the engine's own sweep. Readings every 10 min hold 25 min (default window).
 */
import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../../dashboards/metrics/metrics-engine.ts';
import type { AssignmentLookup, PresenceSample } from '../../../dashboards/metrics/metrics-engine.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { dimension } from '../../../dashboards/skalering/dimension.ts';
import { skaleringTorg } from './torg-fixture.ts';

// Weekdays open 07–22 local; Sunday meråpent round the clock, so a fall-back Sunday has 25 open hours.
const torg = skaleringTorg([['00:00', '24:00']]);
const zoneOf: Record<string, string> = { 'pir-1': 'mote-1', 'pir-2': 'mote-2', 'pir-3': 'arbeid', 'pir-4': 'arbeid-2' };
const assignments: AssignmentLookup = (device) => {
  const zone = zoneOf[device];
  return zone ? { torg: 'toppen', place: { type: 'zone', zone } } : null;
};
const H = 3_600_000;
const MIN = 60_000;

function readings(device: string, fromIso: string, toIso: string, f: (hhmm: string) => number): PresenceSample[] {
  const out: PresenceSample[] = [];
  for (let at = Date.parse(fromIso); at < Date.parse(toIso); at += 10 * MIN) {
    const count = f(new Date(at).toISOString().slice(11, 16));
    out.push({ device, time: at, occupied: count > 0, count });
  }
  return out;
}
const within = (hhmm: string, from: string, to: string): boolean => hhmm >= from && hhmm < to;
const rowsOf = (fromIso: string, toIso: string, presence: PresenceSample[]): MetricRow[] =>
  computeMetrics({ torgs: [torg], fromMs: Date.parse(fromIso), toMs: Date.parse(toIso), readings: { presence, counter: [], climate: [] }, assignments }).rows;

describe('dimension over engine rows: Tue 2026-11-24 (CET), hours 08Z–11Z', () => {
  const rows = rowsOf('2026-11-23T23:00:00Z', '2026-11-24T23:00:00Z', [
    // Rooms. 08Z: nobody. 09Z: mote-1 09:00–09:30, mote-2 09:30–10:00 (back to back). 10Z: mote-1
    // 10:00–10:40, mote-2 10:20–10:50 (together 10:20–10:40). 11Z: both occupied 11:00–11:10, but
    // mote-2's last reading (11:10) holds only to 11:35, so the hour is not fully reported.
    ...readings('pir-1', '2026-11-24T07:40:00Z', '2026-11-24T12:00:00Z', (h) =>
      within(h, '09:00', '09:30') ? 4 : within(h, '10:00', '10:40') ? 2 : within(h, '11:00', '11:30') ? 3 : 0,
    ),
    ...readings('pir-2', '2026-11-24T07:40:00Z', '2026-11-24T11:20:00Z', (h) =>
      within(h, '09:30', '10:00') ? 3 : within(h, '10:20', '10:50') ? 5 : within(h, '11:00', '11:20') ? 2 : 0,
    ),
    // Seats. 08Z: 1 + 0. 09Z: arbeid 4 until 09:20 then 3, arbeid-2 2 at 09:40–09:50 → at most
    // 3 + 2 = 5 at one moment (the zones' own peaks 4 + 2 = 6 never coincide). 10Z: 2 + 1. 11Z: 0.
    ...readings('pir-3', '2026-11-24T07:40:00Z', '2026-11-24T12:00:00Z', (h) =>
      within(h, '08:00', '09:00') ? 1 : within(h, '09:00', '09:20') ? 4 : within(h, '09:20', '10:00') ? 3 : within(h, '10:00', '11:00') ? 2 : 0,
    ),
    ...readings('pir-4', '2026-11-24T07:40:00Z', '2026-11-24T12:00:00Z', (h) => (within(h, '09:40', '09:50') ? 2 : within(h, '10:00', '11:00') ? 1 : 0)),
  ]);
  const window = { fromMs: Date.parse('2026-11-24T08:00:00Z'), toMs: Date.parse('2026-11-24T12:00:00Z') };

  it('rooms: back-to-back meetings need 1 room; the incomplete hour 11Z is left out', () => {
    // Demands 08Z 0, 09Z 1, 10Z 2; sorted 0, 1, 2. p 0.6 → rank ⌈1.8⌉ = 2 → 1 room (the zone-peak
    // count would have given 0, 2, 2 → 2). p 0.9 → rank 3 → 2.
    expect(dimension(rows, torg, 'møterom', { ...window, percentile: 0.6 })).toMatchObject({
      unit: 'rooms',
      hours: 3,
      hoursIncomplete: 1,
      hoursUnknown: 0,
      demandAtPercentile: 1,
      needed: 1,
      current: 2,
      difference: -1,
    });
    expect(dimension(rows, torg, 'møterom', { ...window, percentile: 0.9 })).toMatchObject({ needed: 2, difference: 0 });
  });

  it('seats: two zones peaking at different minutes give their simultaneous sum', () => {
    // Demands 1, 5, 3, 0 (all four hours fully reported); sorted 0, 1, 3, 5. Capacity 6 + 2 = 8.
    expect(dimension(rows, torg, 'arbeidsplasser', { ...window, percentile: 1 })).toMatchObject({
      unit: 'seats',
      hours: 4,
      hoursIncomplete: 0,
      presenceOnlyZones: [],
      demandAtPercentile: 5,
      needed: 5,
      current: 8,
      difference: -3,
      reason: null,
    });
    expect(dimension(rows, torg, 'arbeidsplasser', { ...window, percentile: 0.75 }).needed).toBe(3); // rank 3
  });

  it('seats: a presence-only room (no count) makes the module give no seat estimate', () => {
    const presenceOnly = rowsOf('2026-11-23T23:00:00Z', '2026-11-24T23:00:00Z', [
      ...readings('pir-3', '2026-11-24T07:40:00Z', '2026-11-24T12:00:00Z', () => 2),
      ...readings('pir-4', '2026-11-24T07:40:00Z', '2026-11-24T12:00:00Z', () => 1).map((s) => ({ ...s, count: null })),
    ]);
    expect(dimension(presenceOnly, torg, 'arbeidsplasser', { ...window, percentile: 0.9 })).toMatchObject({
      hours: 4,
      presenceOnlyZones: ['arbeid-2'],
      needed: null,
      current: 8,
      reason: { code: 'presence-only-zones' },
    });
  });
});

describe('dimension over engine rows: fall-back Sunday 2026-10-25, open round the clock (25 hours)', () => {
  // Both rooms report all day. mote-1 occupied 00:00–02:00Z, mote-2 01:00–02:00Z: the first 02 hour
  // (02+02:00 = 00Z) has 1 room in use, the repeated one (02+01:00 = 01Z) 2, every other hour 0.
  const rows = rowsOf('2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', [
    ...readings('pir-1', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', (h) => (within(h, '00:00', '02:00') ? 1 : 0)),
    ...readings('pir-2', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z', (h) => (within(h, '01:00', '02:00') ? 1 : 0)),
  ]);
  const day = { fromMs: Date.parse('2026-10-24T22:00:00Z'), toMs: Date.parse('2026-10-25T23:00:00Z') };

  it('both 02 hours count, each with its own demand', () => {
    const modHours = rows.filter((r) => r.scope === 'module' && r.scopeId === 'toppen/møterom' && r.period === 'hour' && r.split === 'all');
    expect(modHours.filter((r) => r.label.startsWith('2026-10-25T02')).map((r) => [r.label, r.peakRoomsInUse])).toEqual([
      ['2026-10-25T02+02:00', 1],
      ['2026-10-25T02+01:00', 2],
    ]);
    // 25 demands: 23 × 0, 1, 2. p 0.96 → rank ⌈24⌉ = 24 → 1; p 0.97 → rank ⌈24.25⌉ = 25 → 2;
    // p 0.92 → rank 23 → 0.
    expect(dimension(rows, torg, 'møterom', { ...day, percentile: 0.96 })).toMatchObject({ hours: 25, hoursIncomplete: 0, needed: 1 });
    expect(dimension(rows, torg, 'møterom', { ...day, percentile: 0.97 }).needed).toBe(2);
    expect(dimension(rows, torg, 'møterom', { ...day, percentile: 0.92 }).needed).toBe(0);
    expect(day.toMs - day.fromMs).toBe(25 * H);
  });
});

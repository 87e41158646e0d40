import { describe, expect, it } from 'vitest';
import { dimension, nearestRank } from '../../../dashboards/skalering/dimension.ts';
import { metricRowSchema } from '../../../dashboards/metrics/metric-row.schema.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { row } from '../indicators/metric-rows.ts';
import { skaleringTorg } from './torg-fixture.ts';

const H = 3_600_000;
// Monday 2026-02-02 (CET): open 07–22 local = 06:00Z–21:00Z, 15 open hours; t0 is the first.
const t0 = Date.parse('2026-02-02T06:00:00Z');
const day = { fromMs: t0, toMs: t0 + 24 * H };
const torg = skaleringTorg();

const moduleHour = (
  module: string,
  i: number,
  values: { peak: number | null; rooms?: number | null; completeness?: number; headcount?: boolean },
): MetricRow =>
  metricRowSchema.parse({
    ...row({
      scope: 'module',
      scopeId: `toppen/${module}`,
      torg: 'toppen',
      period: 'hour',
      label: `h${i}`,
      start: t0 + i * H,
      peakOccupancy: values.peak,
      headcount: values.headcount ?? true,
      ...(values.completeness === undefined ? {} : { completeness: values.completeness }),
    }),
    peakRoomsInUse: values.rooms ?? null,
  });
const zoneHour = (zone: string, i: number, peak: number, extra: { completeness?: number; headcount?: boolean } = {}): MetricRow =>
  row({ scope: 'zone', scopeId: zone, torg: 'toppen', period: 'hour', label: `h${i}`, start: t0 + i * H, peakOccupancy: peak, headcount: true, ...extra });

describe('nearestRank', () => {
  it('is the smallest value with at least p of the values at or below it', () => {
    const xs = [6, 1, 2, 5, 3, 5, 4, 6, 0, 6];
    expect(nearestRank(xs, 0.9)).toBe(6); // rank ⌈9⌉ = 9 of 0,1,2,3,4,5,5,6,6,6
    expect(nearestRank(xs, 0.7)).toBe(5); // rank 7 (0.7 × 10 is 7.000000000000001 in floating point)
    expect(nearestRank(xs, 0.05)).toBe(0); // rank 1
    expect(nearestRank(xs, 1)).toBe(6);
    expect(nearestRank([], 0.9)).toBeNull();
  });
});

describe('dimension: rooms from the module rows', () => {
  const rows = [
    moduleHour('møterom', 0, { peak: 3, rooms: 1 }),
    moduleHour('møterom', 1, { peak: 3, rooms: 2 }),
    moduleHour('møterom', 2, { peak: 0, rooms: 0 }),
    moduleHour('møterom', 3, { peak: 2, rooms: 1 }),
    moduleHour('møterom', 4, { peak: 9, rooms: 2 }),
    moduleHour('møterom', 5, { peak: 9, rooms: 2, completeness: 0.5 }), // a room not reporting part of the hour
    moduleHour('møterom', 6, { peak: 4, rooms: null }), // stored before peakRoomsInUse existed
    // Hours 7–14 are open but have no module row. Zone rows say both rooms had people in hour 0
    // (back to back, as the module row's 1 says): the zone rows are not read for rooms.
    zoneHour('mote-1', 0, 3),
    zoneHour('mote-2', 0, 2),
  ];

  it('p90 over the counted hours; incomplete and unknown hours are left out and counted', () => {
    // Counted: hours 0–4 → demands 1, 2, 0, 1, 2; sorted 0, 1, 1, 2, 2; p90 rank ⌈4.5⌉ = 5 → 2.
    // Incomplete: hour 5 (completeness 0.5) + hours 7–14 without a row = 9; unknown: hour 6.
    expect(dimension(rows, torg, 'møterom', { ...day, percentile: 0.9 })).toMatchObject({
      unit: 'rooms',
      hours: 5,
      hoursIncomplete: 9,
      hoursUnknown: 1,
      demandAtPercentile: 2,
      needed: 2,
      current: 2,
      difference: 0,
      presenceOnlyZones: [],
      reason: null,
    });
  });

  it('p60 needs 1 room; a window of hours 0–2 has 1, 2, 0', () => {
    // p = 0.6: rank ⌈3⌉ = 3 of 0, 1, 1, 2, 2 → 1 room; one of the two is spare.
    expect(dimension(rows, torg, 'møterom', { ...day, percentile: 0.6 })).toMatchObject({ needed: 1, difference: -1 });
    // Hours 0–2 only: sorted 0, 1, 2; p90 rank ⌈2.7⌉ = 3 → 2.
    expect(dimension(rows, torg, 'møterom', { fromMs: t0, toMs: t0 + 3 * H, percentile: 0.9 })).toMatchObject({
      hours: 3,
      hoursIncomplete: 0,
      hoursUnknown: 0,
      needed: 2,
    });
  });

  it('a closed hour (Saturday) is not an open hour even with a row', () => {
    const saturday = Date.parse('2026-02-07T10:00:00Z');
    const closedRow = metricRowSchema.parse({ ...moduleHour('møterom', 0, { peak: 5, rooms: 2 }), start: saturday, end: saturday + H });
    expect(dimension([closedRow], torg, 'møterom', { fromMs: saturday - 10 * H, toMs: saturday + 10 * H, percentile: 0.9 })).toMatchObject({
      hours: 0,
      hoursIncomplete: 0,
      needed: null,
      reason: { code: 'no-complete-hours' },
    });
  });
});

describe('dimension: seats from the module rows', () => {
  // Simultaneous module peaks of hours 0–9; hours 10–14 have no row.
  const peaks = [4, 6, 5, 2, 7, 3, 1, 0, 6, 5];

  it('head-counting module: the simultaneous peak, not the sum of the zones\' peaks', () => {
    const rows = [
      ...peaks.map((p, i) => moduleHour('arbeidsplasser', i, { peak: p, rooms: p > 0 ? 2 : 0 })),
      // Each zone at its capacity at some minute of every hour: summing zone peaks would give 6 + 2 = 8.
      ...peaks.map((_, i) => zoneHour('arbeid', i, 6)),
      ...peaks.map((_, i) => zoneHour('arbeid-2', i, 2)),
    ];
    const d = dimension(rows, torg, 'arbeidsplasser', { ...day, percentile: 0.9 });
    // Sorted 0, 1, 2, 3, 4, 5, 5, 6, 6, 7 → rank 9 → 6 seats; capacity 6 + 2 = 8.
    expect(d).toMatchObject({ unit: 'seats', hours: 10, hoursIncomplete: 5, presenceOnlyZones: [], demandAtPercentile: 6, needed: 6, current: 8, difference: -2, reason: null });
    expect(dimension(rows, torg, 'arbeidsplasser', { ...day, percentile: 0.7 }).needed).toBe(5); // rank 7
    expect(dimension(rows, torg, 'arbeidsplasser', { ...day, percentile: 1 }).needed).toBe(7);
  });

  it('a module with a presence-only zone gets no seat estimate, and names the zone', () => {
    const rows = [
      // The engine's module rows are presence-only (no time at target) when any room is.
      ...peaks.map((p, i) => moduleHour('arbeidsplasser', i, { peak: p, rooms: 1, headcount: false })),
      ...peaks.map((p, i) => zoneHour('arbeid', i, p)),
      ...peaks.map((_, i) => zoneHour('arbeid-2', i, 1, { headcount: false })),
    ];
    const d = dimension(rows, torg, 'arbeidsplasser', { ...day, percentile: 0.9 });
    expect(d).toMatchObject({ presenceOnlyZones: ['arbeid-2'], demandAtPercentile: null, needed: null, difference: null, current: 8 });
    expect(d.reason?.code).toBe('presence-only-zones');
    expect(d.reason?.message.nb).toContain('tilstedeværelse');
    // Without zone rows, the module row alone still tells that its total is not a head count.
    const moduleOnly = dimension(rows.filter((r) => r.scope === 'module'), torg, 'arbeidsplasser', { ...day, percentile: 0.9 });
    expect(moduleOnly).toMatchObject({ presenceOnlyZones: [], needed: null, reason: { code: 'presence-only-zones' } });
  });

  it('rooms of a presence-only module are still counted (occupied or not needs no head count)', () => {
    const rows = peaks.map((p, i) => moduleHour('møterom', i, { peak: p, rooms: p > 4 ? 2 : p > 0 ? 1 : 0, headcount: false }));
    // Rooms per hour 1, 2, 2, 1, 2, 1, 1, 0, 2, 2 → sorted 0, 1, 1, 1, 1, 2, 2, 2, 2, 2; p50 rank 5 → 1.
    expect(dimension(rows, torg, 'møterom', { ...day, percentile: 0.5 })).toMatchObject({ hours: 10, needed: 1, reason: null });
  });
});

describe('dimension: no data', () => {
  it('no rows: every open hour is incomplete, no estimate', () => {
    expect(dimension([], torg, 'møterom', { ...day, percentile: 0.9 })).toMatchObject({
      hours: 0,
      hoursIncomplete: 15,
      needed: null,
      difference: null,
      current: 2,
      reason: { code: 'no-complete-hours' },
    });
  });
});

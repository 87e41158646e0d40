import { describe, expect, it } from 'vitest';
import { dimension, nearestRank } from '../../../dashboards/skalering/dimension.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { row } from '../indicators/metric-rows.ts';
import { skaleringTorg } from './torg-fixture.ts';

const H = 3_600_000;
const t0 = Date.parse('2026-02-02T06:00:00Z');
const torg = skaleringTorg();
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

describe('dimension', () => {
  it('rooms: concurrent rooms in use per hour, incomplete hours left out', () => {
    const rows = [
      zoneHour('mote-1', 0, 3), zoneHour('mote-2', 0, 0), // 1 room
      zoneHour('mote-1', 1, 2), zoneHour('mote-2', 1, 1), // 2
      zoneHour('mote-1', 2, 0), zoneHour('mote-2', 2, 0), // 0
      zoneHour('mote-1', 3, 2), zoneHour('mote-2', 3, 0), // 1
      zoneHour('mote-1', 4, 5), zoneHour('mote-2', 4, 4), // 2
      zoneHour('mote-1', 5, 5, { completeness: 0.5 }), zoneHour('mote-2', 5, 4), // mote-1 not fully reporting
      zoneHour('mote-1', 6, 5), // mote-2 has no row
    ];
    const opts = { fromMs: t0, toMs: t0 + 24 * H };
    // Demands sorted: 0, 1, 1, 2, 2 (n = 5).
    const p90 = dimension(rows, torg, 'møterom', { ...opts, percentile: 0.9 });
    expect(p90).toMatchObject({ unit: 'rooms', hours: 5, hoursIncomplete: 2, demandAtPercentile: 2, needed: 2, current: 2, difference: 0 });
    // p = 0.6: rank ⌈3⌉ = 3 → 1 room; one of the two rooms is spare.
    expect(dimension(rows, torg, 'møterom', { ...opts, percentile: 0.6 })).toMatchObject({ needed: 1, difference: -1 });
    // The window excludes hours 3–6: demands 1, 2, 0 → p90 rank ⌈2.7⌉ = 3 → 2.
    expect(dimension(rows, torg, 'møterom', { fromMs: t0, toMs: t0 + 3 * H, percentile: 0.9 })).toMatchObject({ hours: 3, hoursIncomplete: 0, needed: 2 });
  });

  it('seats: Σ peak of head-counting zones; presence-only zones are named and left out', () => {
    const peaks = [4, 6, 5, 2, 6, 3, 1, 0, 6, 5];
    const rows = [
      ...peaks.map((p, i) => zoneHour('arbeid', i, p)),
      ...peaks.map((_, i) => zoneHour('arbeid-2', i, 1, { headcount: false })),
    ];
    const d = dimension(rows, torg, 'arbeidsplasser', { fromMs: t0, toMs: t0 + 24 * H, percentile: 0.9 });
    // Sorted 0,1,2,3,4,5,5,6,6,6 → rank 9 → 6 seats; capacity of the counted zone (arbeid) 6.
    expect(d).toMatchObject({ unit: 'seats', hours: 10, presenceOnlyZones: ['arbeid-2'], demandAtPercentile: 6, needed: 6, current: 6, difference: 0 });
    const d7 = dimension(rows, torg, 'arbeidsplasser', { fromMs: t0, toMs: t0 + 24 * H, percentile: 0.7 });
    expect(d7.needed).toBe(5);
  });

  it('no hours: no estimate', () => {
    expect(dimension([], torg, 'møterom', { fromMs: t0, toMs: t0 + H, percentile: 0.9 })).toMatchObject({ hours: 0, needed: null, difference: null, current: 2 });
  });
});

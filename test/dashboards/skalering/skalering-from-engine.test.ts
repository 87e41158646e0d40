/**
 * Skalering over rows the metrics engine produced from raw presence readings, so the row keys
 * (zone scopeId + torg, module `${torg}/${module}`, ISO week labels) are the engine's own.
 */
import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../../dashboards/metrics/metrics-engine.ts';
import type { AssignmentLookup, PresenceSample } from '../../../dashboards/metrics/metrics-engine.ts';
import { dimension, dimensionAll } from '../../../dashboards/skalering/dimension.ts';
import { recommend } from '../../../dashboards/skalering/recommend.ts';
import { parseSkaleringRules } from '../../../dashboards/skalering/skalering-rules.schema.ts';
import { torgSchema } from '../../../devices/torg/torg-config.schema.ts';

const weekday = { staffed: [['10:00', '15:00']], meraapent: [['07:00', '10:00'], ['15:00', '22:00']] };
const torg = torgSchema.parse({
  id: 'a',
  name: 'Torg A',
  population: 2000,
  holidays: 'none',
  openingHours: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday, sat: {}, sun: {} },
  entrances: [{ id: 'hoved', name: 'Hovedinngang', lines: ['main'] }],
  zones: [
    { id: 'mote-1', name: 'Møterom 1', module: 'møterom', capacity: 8, fireMax: 10 },
    { id: 'mote-2', name: 'Møterom 2', module: 'møterom', capacity: 4, fireMax: 6 },
  ],
  capacity: 50,
});
const assignments: AssignmentLookup = (device) =>
  device === 'pir-1' ? { torg: 'a', place: { type: 'zone', zone: 'mote-1' } } : device === 'pir-2' ? { torg: 'a', place: { type: 'zone', zone: 'mote-2' } } : null;

// Tuesday 2026-06-02 (CEST), open 07:00–22:00 local = 05:00Z–20:00Z. Both sensors report every 10 min
// (window 25 min), so every open hour is fully reported. mote-1 holds 2 people 08:00Z–10:00Z, mote-2
// holds 4 (its capacity) 09:00Z–10:00Z, nobody otherwise.
const H = 3_600_000;
const open = Date.parse('2026-06-02T05:00:00Z');
const presence: PresenceSample[] = [];
for (let t = open; t < open + 15 * H; t += 600_000) {
  const c1 = t >= Date.parse('2026-06-02T08:00:00Z') && t < Date.parse('2026-06-02T10:00:00Z') ? 2 : 0;
  const c2 = t >= Date.parse('2026-06-02T09:00:00Z') && t < Date.parse('2026-06-02T10:00:00Z') ? 4 : 0;
  presence.push({ device: 'pir-1', time: t, occupied: c1 > 0, count: c1 }, { device: 'pir-2', time: t, occupied: c2 > 0, count: c2 });
}
const { rows } = computeMetrics({
  torgs: [torg],
  fromMs: Date.parse('2026-06-01T22:00:00Z'),
  toMs: Date.parse('2026-06-02T22:00:00Z'),
  readings: { presence, counter: [], climate: [] },
  assignments,
});

describe('skalering over engine-computed rows', () => {
  it('dimension: hourly concurrent rooms 13 × 0, 1, 2 → p90 = 1 room, p95 = 2', () => {
    const opts = { fromMs: Date.parse('2026-06-01T22:00:00Z'), toMs: Date.parse('2026-06-02T22:00:00Z') };
    // 15 open hours; sorted demands 0 (×13), 1 (08Z), 2 (09Z). p90 rank ⌈13.5⌉ = 14 → 1; p95 rank ⌈14.25⌉ = 15 → 2.
    expect(dimension(rows, torg, 'møterom', { ...opts, percentile: 0.9 })).toMatchObject({ hours: 15, hoursIncomplete: 0, needed: 1, current: 2, difference: -1 });
    expect(dimension(rows, torg, 'møterom', { ...opts, percentile: 0.95 })).toMatchObject({ needed: 2, difference: 0 });
  });

  it('dimensionAll: the rules window of complete ISO weeks before asOf decides which hours count', () => {
    const rules = (weeks: number) =>
      parseSkaleringRules({
        version: 'e1',
        windowWeeks: 2,
        scaleUp: { utilisationAbove: 0.8, peakShareAbove: 0.9, minWeeks: 1 },
        scaleDown: { utilisationBelow: 0.2, minWeeks: 1 },
        extendMeraapent: { metric: 'avgOccupancy', above: 5, minWeeks: 1 },
        convert: { ghostShareAbove: 0.3, minWeeks: 1 },
        dimensioning: { percentile: 0.95, weeks },
      });
    // asOf in W24: the window (W23) holds 2026-06-02.
    expect(dimensionAll(rules(1), rows, [torg], Date.parse('2026-06-10T12:00:00Z'))).toMatchObject([{ module: 'møterom', hours: 15, needed: 2 }]);
    // asOf in W25 with one week: the window is W24 only, which has no rows.
    expect(dimensionAll(rules(1), rows, [torg], Date.parse('2026-06-17T12:00:00Z'))).toMatchObject([{ module: 'møterom', hours: 0, needed: null }]);
    // Two weeks (W23–W24) reach the day again.
    expect(dimensionAll(rules(2), rows, [torg], Date.parse('2026-06-17T12:00:00Z'))).toMatchObject([{ hours: 15, needed: 2 }]);
  });

  it('recommend: mote-2 at its capacity makes week 2026-W23 a scale-up week, and not a scale-down week despite low utilisation', () => {
    const rules = parseSkaleringRules({
      version: 'e1',
      windowWeeks: 1,
      scaleUp: { utilisationAbove: 0.8, peakShareAbove: 0.9, minWeeks: 1 },
      scaleDown: { utilisationBelow: 0.2, minWeeks: 1 },
      extendMeraapent: { metric: 'avgOccupancy', above: 5, minWeeks: 1 },
      convert: { ghostShareAbove: 0.3, minWeeks: 1 },
      dimensioning: { percentile: 0.9, weeks: 1 },
    });
    const r = recommend(rules, rows, { torg: [torg], hourRows: rows, ghostWeeks: [], asOfMs: Date.parse('2026-06-10T12:00:00Z') });
    expect(r.weeks).toEqual(['2026-W23']);
    const kinds = r.recommendations.map((x) => `${x.module}:${x.kind}`);
    expect(kinds).toEqual(['møterom:scale-up']);
    const up = r.recommendations[0]!;
    // Capacity-weighted utilisation: (2 people × 2 h + 4 × 1 h) ÷ ((8 + 4) seats × 15 h) = 8/180.
    expect(up.evidence[0]!.values['utilisation']).toBeCloseTo(8 / 180, 12);
    expect(up.evidence[0]!.values['peakShare']).toBe(1);
  });
});

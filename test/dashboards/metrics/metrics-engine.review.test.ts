import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../../dashboards/metrics/metrics-engine.ts';
import type { AssignmentLookup, CounterSample, PresenceSample } from '../../../dashboards/metrics/metrics-engine.ts';
import { torgSchema } from '../../../devices/torg/torg-config.schema.ts';
import type { Torg } from '../../../devices/torg/torg-config.schema.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { assignments, makeTorg, t } from './fixture-torg.ts';

const torg = makeTorg();
const places = assignments('testtorg', { 'teller-1': { type: 'entrance', entrance: 'hoved', line: 'line-1' } });

function row(rows: readonly MetricRow[], q: Partial<MetricRow>): MetricRow {
  const found = rows.filter((r) => Object.entries(q).every(([k, v]) => (r as Record<string, unknown>)[k] === v));
  if (found.length !== 1) throw new Error(`expected one row for ${JSON.stringify(q)}, found ${found.length}`);
  return found[0]!;
}

describe('review: a redelivered counter reading is one count (Tue 2026-11-24, staffed 10–11 local = 09–10Z)', () => {
  const c: CounterSample = { device: 'teller-1', line: 'line-1', time: t('2026-11-24T09:10:00Z'), periodIn: 3, periodOut: 1 };
  const result = computeMetrics({
    torgs: [torg],
    fromMs: t('2026-11-23T23:00:00Z'),
    toMs: t('2026-11-24T23:00:00Z'),
    // The same reading delivered twice (QoS 1 redelivery), as a separate object.
    readings: { presence: [], counter: [c, { ...c }], climate: [] },
    assignments: places,
  });
  const r = row(result.rows, { scope: 'torg', scopeId: 'testtorg', period: 'hour', label: '2026-11-24T10', split: 'staffed' });

  it('visits 3, not 6', () => {
    expect(r.visits).toBe(3);
    expect(row(result.rows, { scope: 'torg', period: 'day', label: '2026-11-24', split: 'all' }).visits).toBe(3);
  });

  it('occupancy in − out = 3 − 1 = 2, not 4', () => {
    // Reported 09:10–09:35Z (default window 10 min × 2.5) with occupancy 2 throughout.
    expect(r.peakOccupancy).toBe(2);
    expect(r.avgOccupancy).toBe(2);
    // capacity 50: 2 ÷ 50
    expect(r.utilisation).toBeCloseTo(0.04, 12);
  });
});

describe('review: module occupancy is the sum of its rooms at the same moment (staffed 10–11 local = 09–10Z)', () => {
  // Both rooms of module 'møterom' with capacity 10 (the fixture's sone-b has 4).
  const base = makeTorg();
  const torg10: Torg = { ...base, zones: base.zones.map((z) => ({ ...z, capacity: 10 })) };
  const zones = assignments('testtorg', { 'pir-a': { type: 'zone', zone: 'sone-a' }, 'pir-b': { type: 'zone', zone: 'sone-b' } });
  const p = (device: string, hhmm: string, count: number): PresenceSample => ({ device, time: t(`2026-11-24T${hhmm}:00Z`), occupied: count > 0, count });
  // Readings every 10–15 min (window 25 min): both rooms report the whole hour.
  // Room A: 4 people 09:00–09:30Z (10:00–10:30 local), then empty.
  const roomA = ['09:00', '09:10', '09:20'].map((h) => p('pir-a', h, 4)).concat(['09:30', '09:40', '09:50', '10:00'].map((h) => p('pir-a', h, 0)));
  // Room B: 3 people 09:15–09:45Z (10:15–10:45 local).
  const roomB = [p('pir-b', '09:00', 0), p('pir-b', '09:10', 0)]
    .concat(['09:15', '09:25', '09:35'].map((h) => p('pir-b', h, 3)))
    .concat([p('pir-b', '09:45', 0), p('pir-b', '09:55', 0)]);
  const result = computeMetrics({
    torgs: [torg10],
    fromMs: t('2026-11-23T23:00:00Z'),
    toMs: t('2026-11-24T23:00:00Z'),
    readings: { presence: [...roomA, ...roomB], counter: [], climate: [] },
    assignments: zones,
  });
  const m = row(result.rows, { scope: 'module', scopeId: 'testtorg/møterom', period: 'hour', label: '2026-11-24T10', split: 'staffed' });

  it('peak 7 (4 + 3 present together 10:15–10:30), not the busiest room (4)', () => {
    expect(row(result.rows, { scope: 'zone', scopeId: 'sone-a', period: 'hour', label: '2026-11-24T10', split: 'staffed' }).peakOccupancy).toBe(4);
    expect(m.peakOccupancy).toBe(7);
  });

  it('average over the hour 3.5, utilisation 0.175, fully reported', () => {
    // Quarters: 4, 4 + 3 = 7, 3, 0 → (4·15 + 7·15 + 3·15 + 0·15) / 60 = 210 / 60 = 3.5.
    expect(m.completeness).toBe(1);
    expect(m.avgOccupancy).toBeCloseTo(3.5, 12);
    // Σ capacity 10 + 10 = 20: 3.5 / 20.
    expect(m.utilisation).toBeCloseTo(0.175, 12);
    // Sum > 0 for the first three quarters.
    expect(m.timeUsedShare).toBeCloseTo(45 / 60, 12);
    // 7 / 20 = 0.35 at most: all of the hour under 60 %.
    expect(m.timeAtTarget.under60).toBe(1);
    // One run per room (A 30 min, B 30 min): dwell stays per room.
    expect(m.dwell).toEqual({ count: 2, meanMinutes: 30, p50Minutes: 30, maxMinutes: 30 });
  });

  it('a room not reporting makes the module not reporting for that time', () => {
    // Without room B's readings after 09:10Z, B's hold ends 09:35Z (09:10 + 25 min).
    const cut = computeMetrics({
      torgs: [torg10],
      fromMs: t('2026-11-23T23:00:00Z'),
      toMs: t('2026-11-24T23:00:00Z'),
      readings: { presence: [...roomA, p('pir-b', '09:00', 0), p('pir-b', '09:10', 0)], counter: [], climate: [] },
      assignments: zones,
    });
    const mc = row(cut.rows, { scope: 'module', scopeId: 'testtorg/møterom', period: 'hour', label: '2026-11-24T10', split: 'staffed' });
    // Reported 09:00–09:35Z = 35 of 60 min; sum 4 + 0 for 30 min, 0 for 5 min → ∫ = 120 person·min.
    expect(mc.completeness).toBeCloseTo(35 / 60, 12);
    expect(mc.avgOccupancy).toBeCloseTo(120 / 35, 12);
    expect(mc.peakOccupancy).toBe(4);
  });
});

describe('review: municipality occupancy is the sum of its torg at the same moment (staffed 10–11 local = 09–10Z)', () => {
  const lookup: AssignmentLookup = (device) =>
    device === 'teller-1'
      ? { torg: 'testtorg', place: { type: 'entrance', entrance: 'hoved', line: 'line-1' } }
      : device === 'teller-2'
        ? { torg: 'torg-2', place: { type: 'entrance', entrance: 'hoved', line: 'line-1' } }
        : null;
  const c = (device: string, hhmm: string, periodIn: number, periodOut: number): CounterSample => ({ device, line: 'line-1', time: t(`2026-11-24T${hhmm}:00Z`), periodIn, periodOut });
  // Counts every 15 min with a 15 min expected interval (window 37.5 min): both report 09:00–10:00Z.
  // testtorg: 4 in at 09:00, 4 out at 09:30 → 4 people 09:00–09:30Z.
  // torg-2: 3 in at 09:15, 3 out at 09:45 → 3 people 09:15–09:45Z.
  const counter = [
    c('teller-1', '09:00', 4, 0), c('teller-1', '09:15', 0, 0), c('teller-1', '09:30', 0, 4), c('teller-1', '09:45', 0, 0), c('teller-1', '10:00', 0, 0),
    c('teller-2', '09:00', 0, 0), c('teller-2', '09:15', 3, 0), c('teller-2', '09:30', 0, 0), c('teller-2', '09:45', 0, 3), c('teller-2', '10:00', 0, 0),
  ];
  const result = computeMetrics({
    torgs: [makeTorg(), makeTorg('torg-2')],
    fromMs: t('2026-11-23T23:00:00Z'),
    toMs: t('2026-11-24T23:00:00Z'),
    readings: { presence: [], counter, climate: [] },
    assignments: lookup,
    options: { expectedIntervalMs: { 'teller-1': 15 * 60_000, 'teller-2': 15 * 60_000 } },
  });
  const m = row(result.rows, { scope: 'municipality', scopeId: 'asker', period: 'hour', label: '2026-11-24T10', split: 'staffed' });

  it('peak 7, average 3.5, utilisation 3.5 / 100', () => {
    expect(row(result.rows, { scope: 'torg', scopeId: 'testtorg', period: 'hour', label: '2026-11-24T10', split: 'staffed' }).peakOccupancy).toBe(4);
    // Quarters: 4, 4 + 3 = 7, 3, 0 → 210 person·min / 60 min.
    expect(m.peakOccupancy).toBe(7);
    expect(m.avgOccupancy).toBeCloseTo(3.5, 12);
    // Σ capacity 50 + 50 = 100.
    expect(m.utilisation).toBeCloseTo(0.035, 12);
    expect(m.completeness).toBe(1);
    // Counts ending 09:00Z belong to the 09–10 local hour; in this hour: 3 (torg-2, 09:15) + 0 others.
    expect(m.visits).toBe(3);
  });
});

describe('review: municipality splits take the torg in that split at each moment', () => {
  // torg-2 has no staffed time (meråpent 07–22 local every weekday); testtorg is staffed 10–15.
  const allMeraapent = { meraapent: [['07:00', '22:00']] };
  const torg2 = torgSchema.parse({
    id: 'torg-2',
    name: 'Torg 2',
    population: 1000,
    holidays: 'none',
    openingHours: { mon: allMeraapent, tue: allMeraapent, wed: allMeraapent, thu: allMeraapent, fri: allMeraapent, sat: {}, sun: {} },
    entrances: [{ id: 'hoved', name: 'Hovedinngang', lines: ['line-1'] }],
    zones: [{ id: 'rom-1', name: 'Rom 1', module: 'møterom', capacity: 10, fireMax: 20 }],
    capacity: 50,
  });
  const lookup: AssignmentLookup = (device) =>
    device === 'teller-1'
      ? { torg: 'testtorg', place: { type: 'entrance', entrance: 'hoved', line: 'line-1' } }
      : device === 'teller-2'
        ? { torg: 'torg-2', place: { type: 'entrance', entrance: 'hoved', line: 'line-1' } }
        : null;
  const c = (device: string, hhmm: string, periodIn: number, periodOut: number): CounterSample => ({ device, line: 'line-1', time: t(`2026-11-24T${hhmm}:00Z`), periodIn, periodOut });
  // Same counts as above: testtorg 4 people 09:00–09:30Z, torg-2 3 people 09:15–09:45Z.
  const counter = [
    c('teller-1', '09:00', 4, 0), c('teller-1', '09:15', 0, 0), c('teller-1', '09:30', 0, 4), c('teller-1', '09:45', 0, 0), c('teller-1', '10:00', 0, 0),
    c('teller-2', '09:00', 0, 0), c('teller-2', '09:15', 3, 0), c('teller-2', '09:30', 0, 0), c('teller-2', '09:45', 0, 3), c('teller-2', '10:00', 0, 0),
  ];
  const { rows } = computeMetrics({
    torgs: [makeTorg(), torg2],
    fromMs: t('2026-11-23T23:00:00Z'),
    toMs: t('2026-11-24T23:00:00Z'),
    readings: { presence: [], counter, climate: [] },
    assignments: lookup,
    options: { expectedIntervalMs: { 'teller-1': 15 * 60_000, 'teller-2': 15 * 60_000 } },
  });
  const q = (split: MetricRow['split']): MetricRow => row(rows, { scope: 'municipality', scopeId: 'asker', period: 'hour', label: '2026-11-24T10', split });

  it('staffed: testtorg only; meråpent: torg-2 only; all: both summed', () => {
    // Staffed: 4 for 30 of 60 min → 120 / 60 = 2, peak 4, capacity 50.
    expect(q('staffed').avgOccupancy).toBeCloseTo(2, 12);
    expect(q('staffed').peakOccupancy).toBe(4);
    expect(q('staffed').utilisation).toBeCloseTo(2 / 50, 12);
    // Meråpent: 3 for 30 of 60 min → 90 / 60 = 1.5, peak 3.
    expect(q('meraapent').avgOccupancy).toBeCloseTo(1.5, 12);
    expect(q('meraapent').peakOccupancy).toBe(3);
    // All open time: both open the whole hour → 4, 7, 3, 0 by quarter → 3.5, peak 7, capacity 100.
    expect(q('all').avgOccupancy).toBeCloseTo(3.5, 12);
    expect(q('all').peakOccupancy).toBe(7);
    expect(q('all').utilisation).toBeCloseTo(0.035, 12);
  });
});

describe('review: zone ids repeat across torg (unique per torg only), their rows stay apart', () => {
  // Both fixture torg have a zone 'sone-a'. testtorg's holds 2 people, torg-2's 5, 09:00–10:00Z.
  const lookup: AssignmentLookup = (device) =>
    device === 'pir-1' ? { torg: 'testtorg', place: { type: 'zone', zone: 'sone-a' } } : device === 'pir-2' ? { torg: 'torg-2', place: { type: 'zone', zone: 'sone-a' } } : null;
  const presence: PresenceSample[] = [];
  for (let m = 0; m < 60; m += 10) {
    const time = t('2026-11-24T09:00:00Z') + m * 60_000;
    presence.push({ device: 'pir-1', time, occupied: true, count: 2 }, { device: 'pir-2', time, occupied: true, count: 5 });
  }
  const { rows } = computeMetrics({
    torgs: [makeTorg(), makeTorg('torg-2')],
    fromMs: t('2026-11-23T23:00:00Z'),
    toMs: t('2026-11-24T23:00:00Z'),
    readings: { presence, counter: [], climate: [] },
    assignments: lookup,
  });

  it('one hour row per torg, with its own occupancy and module', () => {
    const q = (torgId: string, scope: MetricRow['scope'], scopeId: string): MetricRow => row(rows, { scope, scopeId, torg: torgId, period: 'hour', label: '2026-11-24T10', split: 'staffed' });
    expect(q('testtorg', 'zone', 'sone-a').avgOccupancy).toBe(2);
    expect(q('torg-2', 'zone', 'sone-a').avgOccupancy).toBe(5);
    expect(q('testtorg', 'module', 'testtorg/møterom').peakOccupancy).toBe(2);
    expect(q('torg-2', 'module', 'torg-2/møterom').peakOccupancy).toBe(5);
  });
});

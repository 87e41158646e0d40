import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../../dashboards/metrics/metrics-engine.ts';
import type { ClimateSample, CounterSample, PresenceSample } from '../../../dashboards/metrics/metrics-engine.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { metricsResultSchema } from '../../../dashboards/metrics/metric-row.schema.ts';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { assignments, makeTorg, t } from './fixture-torg.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

function row(rows: readonly MetricRow[], q: Partial<MetricRow>): MetricRow {
  const found = rows.filter((r) => Object.entries(q).every(([k, v]) => (r as Record<string, unknown>)[k] === v));
  if (found.length !== 1) throw new Error(`expected one row for ${JSON.stringify(q)}, found ${found.length}`);
  return found[0]!;
}

const presence = (device: string, iso: string, count: number | null, occupied: boolean | null = count === null ? null : count > 0): PresenceSample => ({
  device,
  time: t(iso),
  count,
  occupied,
});
const counter = (iso: string, periodIn: number, periodOut: number): CounterSample => ({ device: 'teller-1', line: 'line-1', time: t(iso), periodIn, periodOut });

const torg = makeTorg();
const places = assignments('testtorg', {
  'pir-a': { type: 'zone', zone: 'sone-a' },
  'pir-b': { type: 'zone', zone: 'sone-b' },
  'klima-a': { type: 'zone', zone: 'sone-a' },
  'teller-1': { type: 'entrance', entrance: 'hoved', line: 'line-1' },
});

describe('metrics engine: zone metrics in one staffed hour (Tue 2026-11-24, 10–11 local = 09–10Z)', () => {
  // pir-a counts every 10 min (default interval 10 min → reporting window 25 min).
  const counts = [4, 8, 0, 11, 10, 0, 0];
  const pres = counts.map((c, i) => presence('pir-a', new Date(t('2026-11-24T09:00:00Z') + i * 10 * MIN).toISOString(), c));
  const climate: ClimateSample[] = [
    { device: 'klima-a', time: t('2026-11-24T09:00:00Z'), co2: 900, temperature: 21, humidity: 40 },
    // The first hold ends at 09:25 (window 25 min), so 09:25–09:30 has no climate value.
    { device: 'klima-a', time: t('2026-11-24T09:30:00Z'), co2: 1100, temperature: 25, humidity: 40 },
  ];
  // A pending sensor (no assignment): its readings must not count anywhere.
  const pending = [presence('pir-x', '2026-11-24T09:05:00Z', 30)];
  const result = computeMetrics({
    torgs: [torg],
    fromMs: t('2026-11-23T23:00:00Z'),
    toMs: t('2026-11-24T23:00:00Z'),
    readings: { presence: [...pres, ...pending], counter: [], climate },
    assignments: places,
  });
  const rows = result.rows;

  it('validates against the served schema', () => {
    expect(() => metricsResultSchema.parse(result)).not.toThrow();
  });

  it('average, peak, utilisation, time used, time at target, dwell, climate', () => {
    const r = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'hour', label: '2026-11-24T10', split: 'staffed' });
    // occupancy by 10-min step: 4, 8, 0, 11, 10, 0 → ∫ = 10 × 33 = 330 person·min over 60 min.
    expect(r.avgOccupancy).toBeCloseTo(330 / 60, 10);
    expect(r.peakOccupancy).toBe(11);
    expect(r.utilisation).toBeCloseTo(330 / 60 / 10, 10); // capacity 10
    expect(r.timeUsedShare).toBeCloseTo(40 / 60, 10); // steps 4, 8, 11, 10 are > 0
    // ratios 0.4, 0.8, 0, 1.1, 1.0, 0 → under 60 %: 3 steps, 60–100 %: 2 (1.0 inclusive), over: 1
    expect(r.timeAtTarget.under60).toBeCloseTo(30 / 60, 10);
    expect(r.timeAtTarget.from60to100).toBeCloseTo(20 / 60, 10);
    expect(r.timeAtTarget.over100).toBeCloseTo(10 / 60, 10);
    // Occupied runs 09:00–09:20 and 09:30–09:50.
    expect(r.dwell).toEqual({ count: 2, meanMinutes: 20, p50Minutes: 20, maxMinutes: 20 });
    // Occupied with climate: 09:00–09:20 (900 ppm, 21 °C, 40 %) and 09:30–09:50 (1100 ppm, 25 °C, 40 %).
    expect(r.climate).toEqual({ co2Compliance: 0.5, temperatureCompliance: 0.5, humidityCompliance: 1 });
    expect(r.completeness).toBe(1);
    expect(r.lowCompleteness).toBe(false);
    expect(r.visits).toBeNull(); // zones have no counting lines
    expect(r.start).toBe(t('2026-11-24T09:00:00Z'));
    expect(r.end).toBe(t('2026-11-24T10:00:00Z'));
  });

  it('the hour after: the last reading (10:00Z, 0) holds 25 min, the rest is a gap', () => {
    const r = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'hour', label: '2026-11-24T11', split: 'staffed' });
    expect(r.completeness).toBeCloseTo(25 / 60, 10);
    expect(r.lowCompleteness).toBe(true);
    expect(r.avgOccupancy).toBe(0);
    expect(r.dwell).toEqual({ count: 0, meanMinutes: null, p50Minutes: null, maxMinutes: null });
    expect(r.climate.co2Compliance).toBeNull(); // nobody present: undefined, not 0 or 1
  });

  it('an hour with no reporting sensor has nulls, not zeros', () => {
    const r = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'hour', label: '2026-11-24T08', split: 'meraapent' });
    expect(r.completeness).toBe(0);
    expect(r.lowCompleteness).toBe(true);
    expect(r.avgOccupancy).toBeNull();
    expect(r.peakOccupancy).toBeNull();
    expect(r.utilisation).toBeNull();
    expect(r.timeUsedShare).toBeNull();
  });

  it('day rows: staffed split and all open time', () => {
    // Staffed 10–15 local = 300 min; reported 09:00–10:25Z = 85 min; ∫ = 330 person·min.
    const staffed = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'day', label: '2026-11-24', split: 'staffed' });
    expect(staffed.completeness).toBeCloseTo(85 / 300, 10);
    expect(staffed.avgOccupancy).toBeCloseTo(330 / 85, 10);
    expect(staffed.busiestHour).toBe('2026-11-24T10');
    // All open time 07–22 local = 900 min.
    const all = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'day', label: '2026-11-24', split: 'all' });
    expect(all.completeness).toBeCloseTo(85 / 900, 10);
    expect(all.end - all.start).toBe(24 * HOUR);
    // Closed time (00–07 and 22–24 local) exists, the sensor never reported in it.
    const closed = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'day', label: '2026-11-24', split: 'closed' });
    expect(closed.completeness).toBe(0);
  });

  it('module sums its rooms at each moment; sone-b has no sensor seen, so it is not a member', () => {
    const m = row(rows, { scope: 'module', scopeId: 'testtorg/møterom', period: 'hour', label: '2026-11-24T10', split: 'staffed' });
    // Was 0.5 (60 of 120 room·min, per-member merge). Now the module's span is the 60 min of the
    // hour and its only member, sone-a, reports all of it: 60 / 60. Utilisation: 330 / (10 × 60).
    expect(m.completeness).toBe(1);
    expect(m.utilisation).toBeCloseTo(330 / 600, 10);
    expect(m.peakOccupancy).toBe(11);
    expect(m.dwell.count).toBe(2);
  });

  it('week and month rows carry the busiest day', () => {
    const w = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'week', label: '2026-W48', split: 'all' });
    expect(w.busiestDay).toBe('2026-11-24');
    expect(w.start).toBe(t('2026-11-22T23:00:00Z')); // Monday 2026-11-23 00:00 CET
    const m = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'month', label: '2026-11', split: 'all' });
    expect(m.busiestHour).toBe('2026-11-24T10');
  });
});

describe('metrics engine: torg from counters (Tue 2026-11-24, 09–12Z, staffed)', () => {
  const readings = [
    counter('2026-11-24T09:00:00Z', 0, 0), // period before the range: only marks the counter as reporting
    counter('2026-11-24T09:30:00Z', 6, 0), // occupancy 6
    counter('2026-11-24T10:00:00Z', 4, 2), // 8
    counter('2026-11-24T10:30:00Z', 0, 5), // 3
    counter('2026-11-24T11:00:00Z', 1, 6), // −2 → clamped to 0, 2 people added
    counter('2026-11-24T11:30:00Z', 2, 0), // 2
    counter('2026-11-24T12:00:00Z', 0, 0), // 2
  ];
  const { rows } = computeMetrics({
    torgs: [torg],
    fromMs: t('2026-11-24T09:00:00Z'),
    toMs: t('2026-11-24T12:00:00Z'),
    readings: { presence: [], counter: readings, climate: [] },
    assignments: places,
    options: { expectedIntervalMs: { 'teller-1': 20 * MIN } }, // window 50 min ≥ 30 min spacing
  });

  it('visits by the hour their counting period ends in, time-weighted occupancy, drift', () => {
    const h10 = row(rows, { scope: 'torg', scopeId: 'testtorg', period: 'hour', label: '2026-11-24T10', split: 'staffed' });
    expect(h10.visits).toBe(10); // 6 (…09:30) + 4 (…10:00)
    expect(h10.avgOccupancy).toBeCloseTo((30 * 0 + 30 * 6) / 60, 10);
    expect(h10.peakOccupancy).toBe(6);
    expect(h10.utilisation).toBeCloseTo(3 / 50, 10);
    expect(h10.timeAtTarget.under60).toBe(1);
    expect(h10.drift).toEqual({ belowZero: 0, closingReset: 0 });
    const h11 = row(rows, { scope: 'torg', scopeId: 'testtorg', period: 'hour', label: '2026-11-24T11', split: 'staffed' });
    expect(h11.visits).toBe(1); // 0 + 1
    expect(h11.avgOccupancy).toBeCloseTo((30 * 8 + 30 * 3) / 60, 10);
    expect(h11.peakOccupancy).toBe(8);
    expect(h11.drift).toEqual({ belowZero: 2, closingReset: 0 });
    const h12 = row(rows, { scope: 'torg', scopeId: 'testtorg', period: 'hour', label: '2026-11-24T12', split: 'staffed' });
    expect(h12.visits).toBe(2);
    expect(h12.avgOccupancy).toBeCloseTo((30 * 0 + 30 * 2) / 60, 10);
    expect(h12.timeUsedShare).toBeCloseTo(0.5, 10);
    expect(h12.completeness).toBe(1);
    const day = row(rows, { scope: 'torg', scopeId: 'testtorg', period: 'day', label: '2026-11-24', split: 'staffed' });
    expect(day.visits).toBe(13);
    expect(day.avgOccupancy).toBeCloseTo((180 + 330 + 60) / 180, 10);
    expect(day.peakOccupancy).toBe(8);
    expect(day.busiestHour).toBe('2026-11-24T10');
    const muni = row(rows, { scope: 'municipality', period: 'day', label: '2026-11-24', split: 'staffed' });
    expect(muni.visits).toBe(13);
  });
});

describe('metrics engine: counter-drift day (Tue 2026-11-24, whole local day)', () => {
  const { rows } = computeMetrics({
    torgs: [torg],
    fromMs: t('2026-11-23T23:00:00Z'),
    toMs: t('2026-11-24T23:00:00Z'),
    readings: {
      presence: [],
      counter: [
        counter('2026-11-24T08:00:00Z', 5, 0), // 5
        counter('2026-11-24T12:00:00Z', 3, 10), // −2 → 0, +2
        counter('2026-11-24T15:00:00Z', 7, 1), // 6
        counter('2026-11-24T20:59:00Z', 0, 2), // 4; reset at closing 22:00 local = 21:00Z removes 4
      ],
      climate: [],
    },
    assignments: places,
    options: { expectedIntervalMs: { 'teller-1': 4 * HOUR } }, // window 10 h
  });

  it('visits, clamps, closing reset and time-weighted average over reported open time', () => {
    const all = row(rows, { scope: 'torg', scopeId: 'testtorg', period: 'day', label: '2026-11-24', split: 'all' });
    expect(all.visits).toBe(15);
    expect(all.drift).toEqual({ belowZero: 2, closingReset: 4 });
    // Open 06:00–21:00Z = 900 min; the counter reports from 08:00Z on → 780 min.
    expect(all.completeness).toBeCloseTo(780 / 900, 10);
    expect(all.lowCompleteness).toBe(false);
    // 08–12Z: 5 × 240, 12–15Z: 0, 15:00–20:59Z: 6 × 359, 20:59–21:00Z: 4 × 1 → 3358 person·min.
    expect(all.avgOccupancy).toBeCloseTo(3358 / 780, 10);
    expect(all.peakOccupancy).toBe(6);
    // After the reset (21:00–23:00Z, closed) occupancy is 0 and reported.
    const closed = row(rows, { scope: 'torg', scopeId: 'testtorg', period: 'day', label: '2026-11-24', split: 'closed' });
    expect(closed.avgOccupancy).toBe(0);
    expect(closed.drift).toEqual({ belowZero: 0, closingReset: 0 });
  });
});

describe('metrics engine: a sensor gap is left out, not filled', () => {
  const { rows } = computeMetrics({
    torgs: [torg],
    fromMs: t('2026-11-24T09:00:00Z'),
    toMs: t('2026-11-24T10:00:00Z'),
    readings: {
      presence: [presence('pir-a', '2026-11-24T09:00:00Z', 2), presence('pir-a', '2026-11-24T09:10:00Z', 2), presence('pir-a', '2026-11-24T09:50:00Z', 2)],
      counter: [],
      climate: [],
    },
    assignments: places,
  });
  it('completeness 45/60 < 0.8 is flagged and the average is over the 45 reported minutes', () => {
    // holds: 09:00–09:10, 09:10–09:35 (window 25 min), 09:50–10:00 → 45 min.
    const r = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'hour', label: '2026-11-24T10', split: 'staffed' });
    expect(r.completeness).toBeCloseTo(0.75, 10);
    expect(r.lowCompleteness).toBe(true);
    expect(r.avgOccupancy).toBe(2); // filling the gap with 0 would give 1.5
    // The gap ends the first run (09:00–09:35); a second starts at 09:50 and is cut at the range end.
    expect(r.dwell).toEqual({ count: 2, meanMinutes: 22.5, p50Minutes: 22.5, maxMinutes: 35 });
  });
});

describe('metrics engine: DST days', () => {
  // pir-a: count 1 every 10 min from local midnight until Sunday opening (08:00 local), window 10 min
  // (interval 4 min × 2.5), so it reports exactly the closed morning.
  function morning(fromIso: string, toIso: string): PresenceSample[] {
    const out: PresenceSample[] = [];
    for (let at = t(fromIso); at < t(toIso); at += 10 * MIN) out.push({ device: 'pir-a', time: at, count: 1, occupied: true });
    return out;
  }
  const opts = { expectedIntervalMs: { 'pir-a': 4 * MIN } };

  it('spring forward 2026-03-29: 23 hour rows, no 02 hour, closed 9 h of which 7 reported', () => {
    const { rows } = computeMetrics({
      torgs: [torg],
      fromMs: t('2026-03-28T23:00:00Z'),
      toMs: t('2026-03-29T22:00:00Z'),
      readings: { presence: morning('2026-03-28T23:00:00Z', '2026-03-29T06:00:00Z'), counter: [], climate: [] },
      assignments: places,
      options: opts,
    });
    const hours = rows.filter((r) => r.scope === 'zone' && r.scopeId === 'sone-a' && r.period === 'hour' && r.split === 'all');
    expect(hours).toHaveLength(23);
    expect(hours.map((r) => r.label)).not.toContain('2026-03-29T02');
    expect(hours.map((r) => r.label)).toContain('2026-03-29T03');
    const day = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'day', split: 'closed' });
    expect(day.end - day.start).toBe(23 * HOUR);
    // closed: 00–08 local (7 h: 23:00–06:00Z) + 22–24 local (2 h) = 9 h; reported 7 h.
    expect(day.completeness).toBeCloseTo(7 / 9, 10);
    expect(day.lowCompleteness).toBe(true);
    expect(day.avgOccupancy).toBe(1);
    const open = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'day', split: 'all' });
    expect(open.completeness).toBe(0);
    expect(open.avgOccupancy).toBeNull();
  });

  it('fall back 2026-10-25: 25 hour rows, two 02 hours with offsets, closed 11 h of which 9 reported', () => {
    const { rows } = computeMetrics({
      torgs: [torg],
      fromMs: t('2026-10-24T22:00:00Z'),
      toMs: t('2026-10-25T23:00:00Z'),
      readings: { presence: morning('2026-10-24T22:00:00Z', '2026-10-25T07:00:00Z'), counter: [], climate: [] },
      assignments: places,
      options: opts,
    });
    const hours = rows.filter((r) => r.scope === 'zone' && r.scopeId === 'sone-a' && r.period === 'hour' && r.split === 'all');
    expect(hours).toHaveLength(25);
    expect(hours.map((r) => r.label).filter((l) => l.startsWith('2026-10-25T02'))).toEqual(['2026-10-25T02+02:00', '2026-10-25T02+01:00']);
    const day = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'day', split: 'closed' });
    expect(day.end - day.start).toBe(25 * HOUR);
    // closed: 00–08 local (9 h: 22:00–07:00Z) + 22–24 local (2 h) = 11 h; reported 9 h.
    expect(day.completeness).toBeCloseTo(9 / 11, 10);
    expect(day.lowCompleteness).toBe(false);
    const week = row(rows, { scope: 'zone', scopeId: 'sone-a', period: 'week', split: 'closed' });
    expect(week.label).toBe('2026-W43');
  });
});

describe('metrics engine: municipality merges torg rows', () => {
  const torg2 = makeTorg('torg-2');
  const lookup = (device: string) =>
    device === 'teller-1'
      ? { torg: 'testtorg', place: { type: 'entrance' as const, entrance: 'hoved', line: 'line-1' } }
      : device === 'teller-2'
        ? { torg: 'torg-2', place: { type: 'entrance' as const, entrance: 'hoved', line: 'line-1' } }
        : null;
  const { rows } = computeMetrics({
    torgs: [torg, torg2],
    fromMs: t('2026-11-24T09:00:00Z'),
    toMs: t('2026-11-24T10:00:00Z'),
    readings: {
      presence: [],
      counter: [
        counter('2026-11-24T09:00:00Z', 0, 0),
        counter('2026-11-24T09:30:00Z', 4, 0), // testtorg: 0 for 30 min, 4 for 30 min
        { device: 'teller-2', line: 'line-1', time: t('2026-11-24T09:00:00Z'), periodIn: 0, periodOut: 0 },
        { device: 'teller-2', line: 'line-1', time: t('2026-11-24T09:15:00Z'), periodIn: 10, periodOut: 0 }, // torg-2: 10 for 45 min
      ],
      climate: [],
    },
    assignments: lookup,
    options: { expectedIntervalMs: { 'teller-1': 30 * MIN, 'teller-2': 30 * MIN }, municipality: 'asker' },
  });
  it('visits add up; occupancy is the sum of both torg at each moment', () => {
    const m = row(rows, { scope: 'municipality', scopeId: 'asker', period: 'hour', label: '2026-11-24T10', split: 'staffed' });
    expect(m.visits).toBe(14);
    expect(m.torg).toBeNull();
    // Sum at each moment: 09:00–09:15Z 0 + 0 = 0, 09:15–09:30Z 0 + 10 = 10, 09:30–10:00Z 4 + 10 = 14.
    // ∫ = 0·15 + 10·15 + 14·30 = 570 person·min over 60 min (was 570 / 120 per open torg).
    expect(m.avgOccupancy).toBeCloseTo(570 / 60, 10);
    // Σ capacity 50 + 50 = 100: 9.5 / 100 (equal to the old capacity-weighted value).
    expect(m.utilisation).toBeCloseTo(570 / (100 * 60), 10);
    // Was 10 (busiest torg); 14 people are present at once 09:30–10:00Z.
    expect(m.peakOccupancy).toBe(14);
    // Sum > 0 from 09:15Z: 45 of 60 min (was (30 + 45) / 120).
    expect(m.timeUsedShare).toBeCloseTo(45 / 60, 10);
  });
});

describe('metrics engine: a public holiday in the sample config has no open time', () => {
  const sample = loadTorgConfig(new URL('../../../config/torg.asker.sample.json', import.meta.url).pathname).torg[0]!;
  const zone = sample.zones[0]!;
  // 1. juledag 2026-12-25 (Friday) is a public holiday: closed all day.
  const pres: PresenceSample[] = [];
  for (let at = t('2026-12-24T23:00:00Z'); at < t('2026-12-25T23:00:00Z'); at += 10 * MIN) pres.push({ device: 'pir', time: at, count: 1, occupied: true });
  const result = computeMetrics({
    torgs: [sample],
    fromMs: t('2026-12-24T23:00:00Z'),
    toMs: t('2026-12-25T23:00:00Z'),
    readings: { presence: pres, counter: [], climate: [] },
    assignments: (device) => (device === 'pir' ? { torg: sample.id, place: { type: 'zone', zone: zone.id } } : null),
  });
  it('the open-time row is all nulls (not zeros) and only the closed split has time', () => {
    expect(() => metricsResultSchema.parse(result)).not.toThrow();
    const all = row(result.rows, { scope: 'zone', scopeId: zone.id, period: 'day', split: 'all' });
    expect(all.completeness).toBeNull();
    expect(all.lowCompleteness).toBe(false);
    expect(all.avgOccupancy).toBeNull();
    expect(all.utilisation).toBeNull();
    const days = result.rows.filter((r) => r.scope === 'zone' && r.scopeId === zone.id && r.period === 'day').map((r) => r.split);
    expect(days.sort()).toEqual(['all', 'closed']);
    expect(row(result.rows, { scope: 'zone', scopeId: zone.id, period: 'day', split: 'closed' }).avgOccupancy).toBe(1);
  });
});

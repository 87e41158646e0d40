import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lastIsoWeeks, recommend } from '../../../dashboards/skalering/recommend.ts';
import type { GhostWeek, Recommendation, RecommendationResult } from '../../../dashboards/skalering/recommend.ts';
import { parseSkaleringRules } from '../../../dashboards/skalering/skalering-rules.schema.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { row } from '../indicators/metric-rows.ts';
import { skaleringTorg } from './torg-fixture.ts';

// Thursday of ISO week 2026-W10; the window is the four complete weeks before it, W06–W09
// (2026-01-01 is a Thursday, so W01 starts Monday 2025-12-29 and W06 Monday 2026-02-02).
const asOfMs = Date.parse('2026-03-05T12:00:00Z');
const WEEKS = ['2026-W06', '2026-W07', '2026-W08', '2026-W09'] as const;

function rules(over: Record<string, unknown> = {}) {
  return parseSkaleringRules({
    version: 'r1',
    windowWeeks: 4,
    scaleUp: { utilisationAbove: 0.8, peakShareAbove: 0.9, minWeeks: 2 },
    scaleDown: { utilisationBelow: 0.2, minWeeks: 3 },
    extendMeraapent: { metric: 'avgOccupancy', above: 5, minWeeks: 2 },
    convert: { ghostShareAbove: 0.3, minWeeks: 2 },
    dimensioning: { percentile: 0.9, weeks: 4 },
    ...over,
  });
}

const torg = skaleringTorg();
const moduleWeeks = (module: string, util: (number | null)[]): MetricRow[] =>
  util.map((u, i) => row({ scope: 'module', scopeId: `toppen/${module}`, torg: 'toppen', period: 'week', label: WEEKS[i]!, utilisation: u }));
const zoneWeek = (zone: string, week: string, peak: number): MetricRow =>
  row({ scope: 'zone', scopeId: zone, torg: 'toppen', period: 'week', label: week, peakOccupancy: peak, headcount: true });

function find(r: RecommendationResult, module: string | null, kind: Recommendation['kind']): Recommendation | undefined {
  return r.recommendations.find((x) => x.module === module && x.kind === kind);
}
const run = (weekRows: MetricRow[], opts: { rules?: ReturnType<typeof rules>; hourRows?: MetricRow[]; ghost?: GhostWeek[] } = {}) =>
  recommend(opts.rules ?? rules(), weekRows, { torg: [torg], hourRows: opts.hourRows ?? [], ghostWeeks: opts.ghost ?? [], asOfMs });

describe('lastIsoWeeks', () => {
  it('the complete ISO weeks before the current one, oldest first', () => {
    expect(lastIsoWeeks(asOfMs, 4).map((w) => w.label)).toEqual([...WEEKS]);
    // Across New Year: 2027-01-06 is in 2027-W01; the week before is 2026-W53 (2026 has 53 ISO weeks).
    expect(lastIsoWeeks(Date.parse('2027-01-06T12:00:00Z'), 2).map((w) => w.label)).toEqual(['2026-W52', '2026-W53']);
  });
});

describe('recommend: scale up', () => {
  // Utilisation above 0.8 only in W06 (0.80 is not above 0.8): 1 of 4 weeks, minWeeks 2.
  const util = [0.81, 0.8, 0.5, 0.5];
  it('does not fire at 1 of 4 weeks, and the module is held with its evidence', () => {
    const r = run(moduleWeeks('møterom', util));
    expect(find(r, 'møterom', 'scale-up')).toBeUndefined();
    const hold = find(r, 'møterom', 'hold')!;
    expect(hold.evidence.map((e) => [e.week, e.values.utilisation])).toEqual([
      ['2026-W06', 0.81],
      ['2026-W07', 0.8],
      ['2026-W08', 0.5],
      ['2026-W09', 0.5],
    ]);
  });
  it('a peak at exactly 90 % of capacity does not count; above it does (2 of 4 → fires)', () => {
    // mote-1 peak 9 of capacity 10 = 0.9 in W08 → not above 0.9.
    expect(find(run([...moduleWeeks('møterom', util), zoneWeek('mote-1', '2026-W08', 9)]), 'møterom', 'scale-up')).toBeUndefined();
    // mote-2 peak 4 of capacity 4 = 1.0 in W08 → W06 (utilisation) and W08 (peak) = 2 weeks.
    const r = run([...moduleWeeks('møterom', util), zoneWeek('mote-1', '2026-W08', 9), zoneWeek('mote-2', '2026-W08', 4)]);
    const up = find(r, 'møterom', 'scale-up')!;
    expect(up.weeksMet).toBe(2);
    expect(up.evidence.filter((e) => e.met).map((e) => e.week)).toEqual(['2026-W06', '2026-W08']);
    expect(up.evidence[2]!.values).toEqual({ utilisation: 0.5, peakShare: 1 });
    expect(up.message.nb).toContain('2 av 4 uker');
    expect(find(r, 'møterom', 'hold')).toBeUndefined();
  });
  it('a presence-only zone peak (no head count) is not compared with capacity', () => {
    const presenceOnly = row({ scope: 'zone', scopeId: 'mote-2', torg: 'toppen', period: 'week', label: '2026-W08', peakOccupancy: 4 });
    expect(find(run([...moduleWeeks('møterom', util), presenceOnly]), 'møterom', 'scale-up')).toBeUndefined();
  });
});

describe('recommend: low-completeness weeks are insufficient data', () => {
  // N=2 of M=3: utilisation above 0.8 in W07 and W09, W08 at 0.5 (window W07–W09).
  const r3 = rules({ windowWeeks: 3, scaleUp: { utilisationAbove: 0.8, peakShareAbove: 0.9, minWeeks: 2 }, scaleDown: { utilisationBelow: 0.2, minWeeks: 3 } });
  const weeks3 = (lowW09: boolean): MetricRow[] =>
    [
      ['2026-W07', 0.9, false],
      ['2026-W08', 0.5, false],
      ['2026-W09', 0.85, lowW09],
    ].map(([label, u, low]) =>
      row({ scope: 'module', scopeId: 'toppen/møterom', torg: 'toppen', period: 'week', label: label as string, utilisation: u as number, lowCompleteness: low as boolean }),
    );
  it('one of the two met weeks low-completeness → 1 of 3 → no recommendation, the week listed as insufficient', () => {
    const r = run(weeks3(true), { rules: r3 });
    expect(find(r, 'møterom', 'scale-up')).toBeUndefined();
    const hold = find(r, 'møterom', 'hold')!;
    expect(hold.evidence.map((e) => [e.week, e.values.utilisation, e.lowCompleteness])).toEqual([
      ['2026-W07', 0.9, false],
      ['2026-W08', 0.5, false],
      ['2026-W09', 0.85, true],
    ]);
    expect(hold.weeksMet).toBe(0);
  });
  it('the same week complete → 2 of 3 → scale up', () => {
    const up = find(run(weeks3(false), { rules: r3 }), 'møterom', 'scale-up')!;
    expect(up.weeksMet).toBe(2);
    expect(up.evidence.filter((e) => e.met).map((e) => e.week)).toEqual(['2026-W07', '2026-W09']);
  });
});

describe('recommend: scale down', () => {
  it('fires at 3 of 4 weeks below 20 % (0.20 itself is not below)', () => {
    const d = find(run(moduleWeeks('arbeidsplasser', [0.1, 0.19, 0.2, 0.05])), 'arbeidsplasser', 'scale-down')!;
    expect(d.weeksMet).toBe(3);
    expect(d.weeksWithData).toBe(4);
    expect(d.evidence.map((e) => e.met)).toEqual([true, true, false, true]);
  });
  it('a week without data does not count: 2 of 4 → hold', () => {
    const r = run(moduleWeeks('arbeidsplasser', [0.1, 0.19, 0.2, null]));
    expect(find(r, 'arbeidsplasser', 'scale-down')).toBeUndefined();
    const hold = find(r, 'arbeidsplasser', 'hold')!;
    expect(hold.weeksWithData).toBe(3);
  });
  it('rows of another split are not read', () => {
    const staffed = moduleWeeks('arbeidsplasser', [0.1, 0.1, 0.1, 0.1]).map((r) => ({ ...r, split: 'staffed' as const }));
    expect(find(run(staffed), 'arbeidsplasser', 'scale-down')).toBeUndefined();
    expect(find(run(staffed, { rules: rules({ split: 'staffed' }) }), 'arbeidsplasser', 'scale-down')!.weeksMet).toBe(4);
  });
});

describe('recommend: convert (ghost bookings)', () => {
  const g = (zone: string, week: string, bookedHours: number, ghostHours: number): GhostWeek => ({ torg: 'toppen', zone, week, bookedHours, ghostHours });
  // W06 4/10 = 0.4; W07 (3 + 4)/(10 + 10) = 0.35; W08 3/10 = 0.3 (not above); W09 no bookings.
  const ghost = [g('mote-1', '2026-W06', 10, 4), g('mote-1', '2026-W07', 10, 3), g('mote-2', '2026-W07', 10, 4), g('mote-1', '2026-W08', 10, 3), g('arbeid', '2026-W09', 10, 10)];
  it('fires at 2 of 4 weeks with the shares as evidence', () => {
    const c = find(run([], { ghost }), 'møterom', 'convert')!;
    expect(c.weeksMet).toBe(2);
    expect(c.weeksWithData).toBe(3);
    expect(c.evidence.map((e) => e.values.ghostShare)).toEqual([0.4, 0.35, 0.3, null]);
  });
  it('does not fire when minWeeks is 3', () => {
    expect(find(run([], { ghost, rules: rules({ convert: { ghostShareAbove: 0.3, minWeeks: 3 } }) }), 'møterom', 'convert')).toBeUndefined();
  });
});

describe('recommend: extend meråpent hours', () => {
  // Winter time (UTC+1). Per ISO week: Mon–Fri open 07:00 meråpent and close 22:00 meråpent, Sunday 08:00–22:00
  // meråpent, Saturday closed → six first hours (07–08 weekdays, 08–09 Sunday) and six last hours (21–22).
  const weekStart = (i: number): number => Date.parse('2026-02-01T23:00:00Z') + i * 7 * 86_400_000;
  const firstHours = (i: number): number[] => [0, 1, 2, 3, 4].map((d) => weekStart(i) + d * 86_400_000 + 7 * 3_600_000).concat([weekStart(i) + 6 * 86_400_000 + 8 * 3_600_000]);
  const hourRow = (start: number, avgOccupancy: number): MetricRow =>
    row({ scope: 'torg', scopeId: 'toppen', period: 'hour', label: 'h', split: 'meraapent', start, avgOccupancy });
  const values = [
    [6, 6, 6, 6, 6, 6], // mean 6 > 5: met
    [5, 5, 5, 5, 5, 5], // mean 5, not above
    [8, 8, 8, 2, 2, 2], // mean 5, not above
    [10, 10, 10, 10, 10, 10], // met
  ];
  const hourRows = values.flatMap((vs, i) => firstHours(i).map((start, d) => hourRow(start, vs[d]!)));
  // The 09–10 hour ends the morning meråpent but the staffed hours follow: not an edge of the opening.
  const notEdge = [0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3, 4].map((d) => hourRow(weekStart(i) + d * 86_400_000 + 9 * 3_600_000, 100)));
  it('fires "earlier" at 2 of 4 weeks from the first meråpent hours only', () => {
    const r = run([], { hourRows: [...hourRows, ...notEdge] });
    const e = find(r, null, 'extend-meraapent-earlier')!;
    expect(e.weeksMet).toBe(2);
    expect(e.evidence.map((x) => x.values)).toEqual([
      { edgeMean: 6, edgeHours: 6 },
      { edgeMean: 5, edgeHours: 6 },
      { edgeMean: 5, edgeHours: 6 },
      { edgeMean: 10, edgeHours: 6 },
    ]);
    expect(find(r, null, 'extend-meraapent-later')).toBeUndefined();
  });
  it('does not fire when only one week is above', () => {
    const oneWeek = hourRows.filter((h) => h.start < weekStart(3));
    expect(find(run([], { hourRows: oneWeek }), null, 'extend-meraapent-earlier')).toBeUndefined();
  });
  it('reads the last hour (21–22) for "later"', () => {
    const last = [0, 1].flatMap((i) => [0, 1, 2, 3, 4, 6].map((d) => hourRow(weekStart(i) + d * 86_400_000 + 21 * 3_600_000, 7)));
    const e = find(run([], { hourRows: last }), null, 'extend-meraapent-later')!;
    expect(e.evidence.map((x) => x.met)).toEqual([true, true, false, false]);
  });
});

describe('skalering rules file', () => {
  it('the shipped sample parses', () => {
    const r = parseSkaleringRules(JSON.parse(readFileSync(new URL('../../../config/skalering.sample.json', import.meta.url), 'utf8')));
    expect(r.windowWeeks).toBe(8);
  });
  it('names the bad key', () => {
    expect(() => rules({ scaleUp: { utilisationAbove: 0.8, peakShareAbove: 0.9, minWeeks: 5 } })).toThrow(/E_CONFIG_INVALID.*scaleUp\.minWeeks: must not exceed windowWeeks \(4\)/);
    expect(() => rules({ scaleDown: { utilisationBelow: 1.5, minWeeks: 1 } })).toThrow(/scaleDown\.utilisationBelow/);
    expect(() => rules({ extendMeraapent: { metric: 'dwell', above: 5, minWeeks: 2 } })).toThrow(/extendMeraapent\.metric/);
  });
});

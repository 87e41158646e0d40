import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coefficientOfVariation, computeIndicators, gini, monthStartMs, statusOf } from '../../../dashboards/indicators/indicator-engine.ts';
import type { IndicatorContext, IndicatorValue } from '../../../dashboards/indicators/indicator-engine.ts';
import { parseIndicatorFile } from '../../../dashboards/indicators/indicator-definition.schema.ts';
import type { BookingFact } from '../../../dashboards/indicators/booking-facts.ts';
import { row } from './metric-rows.ts';

const context: IndicatorContext = {
  torg: [
    { id: 'a', population: 1000 },
    { id: 'b', population: 2000 },
    { id: 'c', population: 4000 },
  ],
  municipality: 'Kommune',
};

function file(indicators: unknown[], extra: Record<string, unknown> = {}) {
  return parseIndicatorFile({ version: 'v7', indicators, ...extra });
}

const base = {
  effectGoal: 2,
  name: { nb: 'Test' },
  unit: { nb: 'enhet' },
  baseline: { value: 100, month: '2026-01' },
  target: { value: 200, month: '2026-11' },
  direction: 'higher-is-better',
  owner: 'Prosjektleder',
};

const visitsPer1000 = {
  ...base,
  id: 'besok-per-1000',
  per: 'torg',
  formula: {
    kind: 'ratio',
    numerator: { kind: 'metric', ref: { metric: 'visits', scope: 'torg', split: 'all' } },
    denominator: { kind: 'population', per: 1000 },
  },
};

const torgVisits = (label: string, visits: [number, number, number], completeness: [number, number, number] = [1, 1, 1]) =>
  (['a', 'b', 'c'] as const).map((id, i) => row({ scope: 'torg', scopeId: id, label, visits: visits[i]!, completeness: completeness[i]! }));

const one = (vs: IndicatorValue[], indicator: string, scopeId: string): IndicatorValue => {
  const v = vs.find((x) => x.indicator === indicator && x.scopeId === scopeId);
  if (!v) throw new Error(`no value ${indicator} ${scopeId}`);
  return v;
};

describe('computeIndicators', () => {
  it('ratio: visits per 1000 residents per torg, with trend vs previous month and baseline, stored with the version', () => {
    // June: a 150 visits / 1000 residents = 150; b 500 / 2 = 250; c 600 / 4 = 150. May: a 100, b 300, c 400.
    const rows = [...torgVisits('2026-06', [150, 500, 600]), ...torgVisits('2026-05', [100, 300, 400])];
    const r = computeIndicators(file([visitsPer1000]), rows, [], '2026-06', context);
    expect(r.values).toHaveLength(3);
    const a = one(r.values, 'besok-per-1000', 'a');
    expect(a.value).toBeCloseTo(150, 10);
    expect(a.previousMonthValue).toBeCloseTo(100, 10);
    expect(a.trendVsPreviousMonth).toBeCloseTo(50, 10);
    expect(a.trendVsBaseline).toBeCloseTo(50, 10);
    // June is 5 of 10 months from baseline (Jan) to target (Nov): expected 100 + 100 × 5/10 = 150 → on track.
    expect(a.expected).toBeCloseTo(150, 10);
    expect(a.status).toBe('on-track');
    expect(a.definitionVersion).toBe('v7');
    expect(a.start).toBe(Date.parse('2026-05-31T22:00:00Z'));
    const b = one(r.values, 'besok-per-1000', 'b');
    expect(b.value).toBeCloseTo(250, 10);
    expect(b.trendVsPreviousMonth).toBeCloseTo(100, 10);
    expect(one(r.values, 'besok-per-1000', 'c').value).toBeCloseTo(150, 10);
  });

  it('share: meråpent visits ÷ all visits of the municipality', () => {
    const def = {
      ...base,
      id: 'meraapent-andel',
      per: 'municipality',
      formula: {
        kind: 'ratio',
        numerator: { kind: 'metric', ref: { metric: 'visits', scope: 'municipality', split: 'meraapent' } },
        denominator: { kind: 'metric', ref: { metric: 'visits', scope: 'municipality', split: 'all' } },
      },
    };
    const rows = [
      row({ scope: 'municipality', scopeId: 'Kommune', label: '2026-06', split: 'meraapent', visits: 900 }),
      row({ scope: 'municipality', scopeId: 'Kommune', label: '2026-06', split: 'all', visits: 3600 }),
    ];
    const v = one(computeIndicators(file([def]), rows, [], '2026-06', context).values, 'meraapent-andel', 'Kommune');
    expect(v.value).toBeCloseTo(0.25, 12);
    expect(v.torg).toBeNull();
    // No May rows: no trend, and the missing input is named only for May (June is complete).
    expect(v.previousMonthValue).toBeNull();
    expect(v.trendVsPreviousMonth).toBeNull();
    expect(v.missing).toEqual([]);
  });

  it('gini and cv of visits per resident across the torg, computed by hand', () => {
    // Visits 1000, 4000, 4000 over 1000, 2000, 4000 residents → 1, 2, 1 per resident; mean 4/3.
    // Gini: Σ|xi − xj| over ordered pairs = 2 × (1 + 0 + 1) = 4; 4 ÷ (2 × 3² × 4/3) = 1/6.
    // CV: deviations −1/3, 2/3, −1/3 → variance (1/9 + 4/9 + 1/9)/3 = 2/9, sd = √2/3; ÷ 4/3 = √2/4.
    const mk = (measure: string) => ({
      ...base,
      id: `likeverd-${measure}`,
      per: 'municipality',
      direction: 'lower-is-better',
      baseline: { value: 0.3, month: '2026-01' },
      target: { value: 0.1, month: '2026-11' },
      formula: { kind: 'dispersion', measure, numerator: { kind: 'metric', ref: { metric: 'visits', scope: 'torg' } }, perCapita: 1 },
    });
    const r = computeIndicators(file([mk('gini'), mk('cv')]), torgVisits('2026-06', [1000, 4000, 4000]), [], '2026-06', context);
    const g = one(r.values, 'likeverd-gini', 'Kommune');
    expect(g.value).toBeCloseTo(1 / 6, 12);
    // Lower is better: expected in June 0.3 − 0.2 × 5/10 = 0.2; 1/6 is below it → on track.
    expect(g.status).toBe('on-track');
    expect(one(r.values, 'likeverd-cv', 'Kommune').value).toBeCloseTo(Math.SQRT2 / 4, 12);
  });

  it('gini/cv edge values: equal torg give 0, one torg with everything gives (n−1)/n', () => {
    expect(gini([5, 5, 5, 5])).toBe(0);
    expect(coefficientOfVariation([5, 5, 5, 5])).toBe(0);
    expect(gini([0, 0, 0, 8])).toBeCloseTo(3 / 4, 12);
    // CV of 0,0,0,8: mean 2, variance (4+4+4+36)/4 = 12, sd √12 → √12/2 = √3.
    expect(coefficientOfVariation([0, 0, 0, 8])).toBeCloseTo(Math.sqrt(3), 12);
    expect(gini([0, 0])).toBeNull();
  });

  it('a dispersion with one torg missing is null and names the missing row (no inequality over a subset)', () => {
    const def = { ...base, id: 'g', per: 'municipality', formula: { kind: 'dispersion', measure: 'gini', numerator: { kind: 'metric', ref: { metric: 'visits', scope: 'torg' } } } };
    const rows = torgVisits('2026-06', [1, 2, 3]).filter((r) => r.scopeId !== 'b');
    const v = one(computeIndicators(file([def]), rows, [], '2026-06', context).values, 'g', 'Kommune');
    expect(v.value).toBeNull();
    expect(v.status).toBe('unknown');
    expect(v.missing).toEqual(['metric row visits torg b all 2026-06']);
  });

  it('sum of booked hours by local groups from booking facts; a torg without facts is missing, not zero', () => {
    const def = {
      ...base,
      id: 'lokale-grupper',
      effectGoal: 1,
      per: 'torg',
      formula: { kind: 'value', of: { kind: 'booking', ref: { field: 'bookedHours', categories: ['lokal-gruppe', 'frivillighet'] } } },
    };
    const fact = (torg: string, category: string, bookedHours: number, completeness = 1): BookingFact => ({
      torg,
      month: '2026-06',
      category,
      bookedHours,
      events: 1,
      attendance: null,
      completeness,
    });
    const facts = [fact('a', 'lokal-gruppe', 12.5), fact('a', 'frivillighet', 7), fact('a', 'privat', 100), fact('b', 'privat', 3, 0.5)];
    const vs = computeIndicators(file([def]), [], facts, '2026-06', context).values;
    // a: 12.5 + 7 (privat is not a local group) = 19.5
    expect(one(vs, 'lokale-grupper', 'a').value).toBeCloseTo(19.5, 12);
    // b: facts exist but none of the categories → 0 hours, from a feed of completeness 0.5 → flagged.
    const b = one(vs, 'lokale-grupper', 'b');
    expect(b.value).toBe(0);
    expect(b.completeness).toBe(0.5);
    expect(b.lowCompleteness).toBe(true);
    const c = one(vs, 'lokale-grupper', 'c');
    expect(c.value).toBeNull();
    expect(c.missing).toEqual(['booking facts c 2026-06']);
  });

  it('attendance at local-democracy meetings: summed, and unknown when any event has no head count', () => {
    const def = {
      ...base,
      id: 'oppmote',
      per: 'torg',
      formula: { kind: 'value', of: { kind: 'booking', ref: { field: 'attendance', categories: ['lokaldemokrati'] } } },
    };
    const fact = (torg: string, attendance: number | null): BookingFact => ({ torg, month: '2026-06', category: 'lokaldemokrati', bookedHours: 2, events: 1, attendance, completeness: 1 });
    const vs = computeIndicators(file([def]), [], [fact('a', 25), fact('a', 17), fact('b', 30), fact('b', null), fact('c', 0)], '2026-06', context).values;
    expect(one(vs, 'oppmote', 'a').value).toBe(42);
    expect(one(vs, 'oppmote', 'b')).toMatchObject({ value: null, missing: ['booking attendance b 2026-06'] });
    expect(one(vs, 'oppmote', 'c').value).toBe(0);
  });

  it('climate compliance as a value; low completeness of the metric row is carried through', () => {
    const def = { ...base, id: 'co2', effectGoal: 4, per: 'torg', formula: { kind: 'value', of: { kind: 'metric', ref: { metric: 'co2Compliance', scope: 'torg' } } } };
    const rows = [
      row({ scope: 'torg', scopeId: 'a', label: '2026-06', co2: 0.9, completeness: 0.95 }),
      row({ scope: 'torg', scopeId: 'b', label: '2026-06', co2: 0.7, completeness: 0.5 }),
      row({ scope: 'torg', scopeId: 'c', label: '2026-06', co2: null, completeness: 1 }),
    ];
    const vs = computeIndicators(file([def]), rows, [], '2026-06', context).values;
    expect(one(vs, 'co2', 'a')).toMatchObject({ value: 0.9, completeness: 0.95, lowCompleteness: false });
    expect(one(vs, 'co2', 'b')).toMatchObject({ value: 0.7, completeness: 0.5, lowCompleteness: true });
    // Nobody present in c: compliance has no denominator, so the indicator has no value.
    expect(one(vs, 'co2', 'c')).toMatchObject({ value: null, status: 'unknown', missing: ['value co2Compliance torg c all 2026-06'] });
  });

  it('the threshold of the file decides the flag (0.5 with threshold 0.4 is not low)', () => {
    const def = { ...base, id: 'co2', per: 'torg', formula: { kind: 'value', of: { kind: 'metric', ref: { metric: 'co2Compliance', scope: 'torg' } } } };
    const rows = [row({ scope: 'torg', scopeId: 'a', label: '2026-06', co2: 0.7, completeness: 0.5, lowCompleteness: false })];
    const vs = computeIndicators(file([def], { completenessThreshold: 0.4 }), rows, [], '2026-06', context).values;
    expect(one(vs, 'co2', 'a').lowCompleteness).toBe(false);
  });
});

describe('statusOf', () => {
  const def = parseIndicatorFile({ version: '1', indicators: [visitsPer1000] }).indicators[0]!;
  const lower = parseIndicatorFile({
    version: '1',
    indicators: [{ ...visitsPer1000, direction: 'lower-is-better', baseline: { value: 0.3, month: '2026-01' }, target: { value: 0.1, month: '2026-11' } }],
  }).indicators[0]!;
  it('higher is better: expected 150 in June, tolerance 0.25 × 100 = 25', () => {
    expect(statusOf(def, 160, '2026-06', 0.25)).toBe('on-track');
    expect(statusOf(def, 130, '2026-06', 0.25)).toBe('at-risk');
    expect(statusOf(def, 124, '2026-06', 0.25)).toBe('off-track');
    expect(statusOf(def, null, '2026-06', 0.25)).toBe('unknown');
    // After the target month the expectation stays at the target (200).
    expect(statusOf(def, 190, '2027-06', 0.25)).toBe('at-risk');
    // Before the baseline month the expectation is the baseline.
    expect(statusOf(def, 100, '2025-12', 0.25)).toBe('on-track');
  });
  it('lower is better: expected 0.2 in June, tolerance 0.25 × 0.2 = 0.05', () => {
    expect(statusOf(lower, 0.18, '2026-06', 0.25)).toBe('on-track');
    expect(statusOf(lower, 0.24, '2026-06', 0.25)).toBe('at-risk');
    expect(statusOf(lower, 0.3, '2026-06', 0.25)).toBe('off-track');
  });
});

describe('indicator definition file', () => {
  it('the shipped sample parses and covers all four effect goals', () => {
    const f = parseIndicatorFile(JSON.parse(readFileSync(new URL('../../../config/indicators.sample.json', import.meta.url), 'utf8')));
    expect(new Set(f.indicators.map((d) => d.effectGoal))).toEqual(new Set([1, 2, 3, 4]));
  });
  it('names the bad key by indicator id', () => {
    expect(() => file([{ ...visitsPer1000, effectGoal: 5 }])).toThrow(/indicators\[besok-per-1000\]\.effectGoal/);
    expect(() => file([{ ...visitsPer1000, formula: { ...visitsPer1000.formula, denominator: { kind: 'population', per: -1 } } }])).toThrow(
      /indicators\[besok-per-1000\]\.formula\.denominator\.per/,
    );
    expect(() => file([{ ...visitsPer1000, formula: { kind: 'eval', code: '1+1' } }])).toThrow(/E_CONFIG_INVALID.*indicators\[besok-per-1000\]\.formula/);
    expect(() => file([visitsPer1000, visitsPer1000])).toThrow(/indicators\[besok-per-1000\]\.id: duplicate indicator id/);
    expect(() => file([{ ...visitsPer1000, per: 'torg', formula: { kind: 'dispersion', measure: 'cv', numerator: { kind: 'constant', value: 1 } } }])).toThrow(
      /indicators\[besok-per-1000\]\.per: a dispersion indicator is per municipality/,
    );
    expect(() => file([{ ...visitsPer1000, per: 'municipality' }])).toThrow(/indicators\[besok-per-1000\]\.formula\.numerator\.ref\.scope: a municipality indicator/);
  });
  it('month start is the Oslo local midnight (winter offset +01:00)', () => {
    expect(monthStartMs('2026-01')).toBe(Date.parse('2025-12-31T23:00:00Z'));
  });
});

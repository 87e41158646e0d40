/**
 * Indicators from rows the metrics engine itself produced (not hand-built rows), so the row keys the
 * indicators look up (scope ids, month labels, splits, the municipality id) are the engine's.
 */
import { describe, expect, it } from 'vitest';
import { computeIndicators } from '../../../dashboards/indicators/indicator-engine.ts';
import { parseIndicatorFile } from '../../../dashboards/indicators/indicator-definition.schema.ts';
import { computeMetrics } from '../../../dashboards/metrics/metrics-engine.ts';
import type { AssignmentLookup } from '../../../dashboards/metrics/metrics-engine.ts';
import { torgSchema } from '../../../devices/torg/torg-config.schema.ts';

const weekday = { staffed: [['10:00', '15:00']], meraapent: [['07:00', '10:00'], ['15:00', '22:00']] };
const torg = torgSchema.parse({
  id: 'a',
  name: 'Torg A',
  population: 2000,
  holidays: 'none',
  openingHours: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday, sat: {}, sun: {} },
  entrances: [{ id: 'hoved', name: 'Hovedinngang', lines: ['main'] }],
  zones: [{ id: 'mote-1', name: 'Møterom 1', module: 'møterom', capacity: 8, fireMax: 10 }],
  capacity: 50,
});
const assignments: AssignmentLookup = (device) => (device === 'teller' ? { torg: 'a', place: { type: 'entrance', entrance: 'hoved', line: 'main' } } : null);
const count = (iso: string, periodIn: number) => ({ device: 'teller', line: 'main', time: Date.parse(iso), periodIn, periodOut: 0 });

describe('indicators over engine-computed rows', () => {
  it('visits per 1000 residents and the meråpent share from one computed day', () => {
    // Tuesday 2026-06-02, CEST (UTC+2): 05:10Z = 07:10 meråpent (3 in), 08:30Z = 10:30 staffed (5 in),
    // 14:00Z = 16:00 meråpent (4 in). All = 12 visits, meråpent = 7.
    const result = computeMetrics({
      torgs: [torg],
      fromMs: Date.parse('2026-06-01T22:00:00Z'),
      toMs: Date.parse('2026-06-02T22:00:00Z'),
      readings: { presence: [], climate: [], counter: [count('2026-06-02T05:10:00Z', 3), count('2026-06-02T08:30:00Z', 5), count('2026-06-02T14:00:00Z', 4)] },
      assignments,
      options: { municipality: 'Kommune' },
    });
    const file = parseIndicatorFile({
      version: 'e1',
      indicators: [
        {
          id: 'besok-per-1000',
          effectGoal: 2,
          name: { nb: 'Besøk per 1000 innbyggere' },
          per: 'torg',
          formula: { kind: 'ratio', numerator: { kind: 'metric', ref: { metric: 'visits', scope: 'torg' } }, denominator: { kind: 'population', per: 1000 } },
          unit: { nb: 'besøk' },
          baseline: { value: 5, month: '2026-01' },
          target: { value: 10, month: '2026-11' },
          direction: 'higher-is-better',
          owner: 'PL',
        },
        {
          id: 'meraapent-andel',
          effectGoal: 4,
          name: { nb: 'Andel meråpent' },
          per: 'municipality',
          formula: {
            kind: 'ratio',
            numerator: { kind: 'metric', ref: { metric: 'visits', scope: 'municipality', split: 'meraapent' } },
            denominator: { kind: 'metric', ref: { metric: 'visits', scope: 'municipality', split: 'all' } },
          },
          unit: { nb: 'andel' },
          baseline: { value: 0.2, month: '2026-01' },
          target: { value: 0.4, month: '2026-11' },
          direction: 'higher-is-better',
          owner: 'PL',
        },
      ],
    });
    const r = computeIndicators(file, result.rows, [], '2026-06', { torg: [{ id: 'a', population: 2000 }], municipality: 'Kommune' });
    const perThousand = r.values.find((v) => v.indicator === 'besok-per-1000')!;
    // 12 visits ÷ (2000 / 1000) = 6.
    expect(perThousand.value).toBeCloseTo(6, 12);
    // The counter reported 3 × 25 min (its reporting window) of the 15 open hours: 75/900 = 1/12 → flagged.
    expect(perThousand.completeness).toBeCloseTo(1 / 12, 9);
    expect(perThousand.lowCompleteness).toBe(true);
    const share = r.values.find((v) => v.indicator === 'meraapent-andel')!;
    expect(share.scopeId).toBe('Kommune');
    expect(share.value).toBeCloseTo(7 / 12, 12);
  });
});

/**
 * RollUp, the streaming roll-up behind createHourSource (issue 6 benchmark: a month is folded in a
 * day at a time): rows independent of the order hours arrive in, ties for busiest day and hour
 * going to the earliest, and only the wanted rows built.
 */
import { describe, expect, it } from 'vitest';
import { emptyAccumulator } from '../../../dashboards/metrics/accumulator.ts';
import { RollUp, rollUp } from '../../../dashboards/metrics/metrics-engine.ts';
import type { HourBucket } from '../../../dashboards/metrics/metrics-engine.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { t } from './fixture-torg.ts';

const HOUR = 3_600_000;
/** A torg hour, all of it staffed and reported, with `visits` visits. */
const hour = (iso: string, visits: number, split: HourBucket['split'] = 'staffed'): HourBucket => ({
  scope: 'torg',
  scopeId: 'testtorg',
  torg: 'testtorg',
  hourStart: t(iso),
  split,
  acc: { ...emptyAccumulator(true), spanMs: HOUR, reportedMs: HOUR, visits },
});

// Tue 24 and Wed 25 November 2026 (CET, local = UTC+1), ISO week 48. Visits: Tue 10Z 5, 11Z 3,
// 12Z 5 (13 that day); Wed 10Z 5. Busiest hour of Tuesday: 10Z and 12Z tie at 5 → the earlier,
// 11 local. Of the week: three hours tie at 5 → Tuesday 11 local. Busiest day: Tuesday (13 > 5).
const hours = [hour('2026-11-24T10:00:00Z', 5), hour('2026-11-24T11:00:00Z', 3), hour('2026-11-24T12:00:00Z', 5), hour('2026-11-25T10:00:00Z', 5)];
const find = (rows: readonly MetricRow[], period: MetricRow['period'], label: string): MetricRow => {
  const found = rows.filter((r) => r.period === period && r.label === label && r.split === 'staffed');
  if (found.length !== 1) throw new Error(`expected one ${period} ${label}, found ${found.length}`);
  return found[0]!;
};
const canonical = (rows: readonly MetricRow[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

describe('RollUp', () => {
  it('busiest day and hour: the highest, the earliest on a tie', () => {
    const rows = rollUp(hours);
    expect(find(rows, 'day', '2026-11-24').busiestHour).toBe('2026-11-24T11');
    expect(find(rows, 'day', '2026-11-24').visits).toBe(13);
    expect(find(rows, 'day', '2026-11-25').busiestHour).toBe('2026-11-25T11');
    const week = find(rows, 'week', '2026-W48');
    expect(week.busiestHour).toBe('2026-11-24T11');
    expect(week.busiestDay).toBe('2026-11-24');
    expect(week.visits).toBe(18);
  });

  it('the same rows whatever order the hours are added in', () => {
    const inOrder = canonical(rollUp(hours));
    for (const order of [[3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]]) {
      const r = new RollUp();
      for (const i of order) r.add(hours[i]!);
      expect(canonical(r.rows())).toEqual(inOrder);
    }
  });

  it('builds only the wanted rows; the others are unchanged by it', () => {
    const all = rollUp(hours);
    const weeks = rollUp(hours, {}, 'Europe/Oslo', (period) => period === 'week');
    expect(weeks.map((r) => [r.period, r.split])).toEqual([['week', 'staffed']]);
    expect(canonical(weeks)).toEqual(canonical(all.filter((r) => r.period === 'week')));
    const tuesdayHours = rollUp(hours, {}, 'Europe/Oslo', (period, b) => period === 'hour' && b.split === 'staffed');
    expect(tuesdayHours.map((r) => r.label)).toEqual(['2026-11-24T11', '2026-11-24T12', '2026-11-24T13', '2026-11-25T11']);
  });
});

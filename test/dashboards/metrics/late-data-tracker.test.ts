import { describe, expect, it } from 'vitest';
import { LateDataTracker } from '../../../dashboards/metrics/late-data-tracker.ts';

const t = (iso: string): number => Date.parse(iso);

describe('LateDataTracker', () => {
  const now = t('2026-11-24T10:20:00Z'); // settle 15 min → hours before 10:00Z are computed

  it('marks the hour and local day of a reading in an already computed hour', () => {
    const tracker = new LateDataTracker();
    expect(tracker.observe('asker', t('2026-11-24T10:05:00Z'), now)).toBe(false); // current hour, not yet computed
    expect(tracker.observe('asker', t('2026-11-24T09:59:00Z'), now)).toBe(true);
    expect(tracker.observe('asker', t('2026-11-17T10:30:00Z'), now)).toBe(true); // last week's backlog
    expect(tracker.observe('asker', t('2026-11-17T10:40:00Z'), now)).toBe(true); // same hour again
    expect(tracker.observe('heggedal', t('2026-11-18T12:00:00Z'), now)).toBe(true);
    expect(tracker.take()).toEqual([
      { torg: 'asker', hours: [t('2026-11-17T10:00:00Z'), t('2026-11-24T09:00:00Z')], days: ['2026-11-17', '2026-11-24'] },
      { torg: 'heggedal', hours: [t('2026-11-18T12:00:00Z')], days: ['2026-11-18'] },
    ]);
    expect(tracker.lateReadings).toBe(4);
    expect(tracker.take()).toEqual([]); // cleared
  });

  it('a count stamped at local midnight marks the day before; a hold past midnight marks the day after', () => {
    const tracker = new LateDataTracker();
    tracker.observe('asker', t('2026-11-17T23:00:00Z'), now); // 00:00 CET on 11-18
    tracker.observe('asker', t('2026-11-19T22:50:00Z'), now); // 23:50 on 11-19, holds 25 min into 11-20
    expect(tracker.take()[0]!.days).toEqual(['2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20']);
  });

  it('bounds the remembered hours but never loses a day; ignores readings beyond retention', () => {
    const tracker = new LateDataTracker({ maxHours: 2 });
    for (const h of ['08', '09', '10', '11']) tracker.observe('asker', t(`2026-11-17T${h}:00:00Z`), now);
    expect(tracker.observe('asker', t('2026-08-01T10:00:00Z'), now)).toBe(false); // older than 90 days
    const [dirty] = tracker.take();
    expect(dirty!.hours).toHaveLength(2);
    expect(dirty!.days).toEqual(['2026-11-17']);
    expect(tracker.droppedHours).toBe(2);
  });
});

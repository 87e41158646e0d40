import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../devices/contract/errors.ts';
import { runWindow, selectTorg, type RunOptions } from '../../simulator/run-options.ts';

const base: RunOptions = { seed: 1, realtime: false, speed: 1, catchUpHours: 24, step: 60, faultRate: 0 };
const at = (iso: string) => Date.parse(iso);

function refusal(fn: () => unknown): PlatformError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PlatformError);
    return err as PlatformError;
  }
  throw new Error('expected a refusal');
}

describe('selectTorg', () => {
  const all = [{ id: 'asker-sentrum' }, { id: 'heggedal' }, { id: 'tofte' }];

  it('takes every torg without --torg, and the named ones in config order with it', () => {
    expect(selectTorg(all, undefined)).toEqual(all);
    expect(selectTorg(all, ['tofte', 'asker-sentrum'])).toEqual([{ id: 'asker-sentrum' }, { id: 'tofte' }]);
  });

  it('refuses an unknown id, naming it and the known ones', () => {
    const e = refusal(() => selectTorg(all, ['heggedal', 'royken']));
    expect(e.code).toBe('E_CONFIG_INVALID');
    expect(e.message).toContain('--torg: unknown torg royken (known: asker-sentrum, heggedal, tofte)');
  });
});

describe('runWindow', () => {
  // 08:00:30.5 UTC: one-minute steps align it down to 08:00:00.
  const now = at('2026-11-24T08:00:30.500Z');

  it('backfill starts whole days (or fractions) before now aligned to the step', () => {
    expect(runWindow({ ...base, backfillDays: 2 }, now)).toEqual({ stepMs: 60_000, alignedNow: at('2026-11-24T08:00:00Z'), startMs: at('2026-11-22T08:00:00Z') });
    // 1.5 days = 36 h before 24 Nov 08:00.
    expect(runWindow({ ...base, backfillDays: 1.5 }, now).startMs).toBe(at('2026-11-22T20:00:00Z'));
    // 29 days is the most: the ingest keeps readings up to 30 days old, less a day of margin.
    expect(runWindow({ ...base, backfillDays: 29 }, now).startMs).toBe(at('2026-10-26T08:00:00Z'));
    expect(refusal(() => runWindow({ ...base, backfillDays: 29.5 }, now)).message).toContain('--backfill-days at most 29');
  });

  it('realtime starts now at speed 1, and --catch-up-hours before now (in whole steps) when faster', () => {
    expect(runWindow({ ...base, realtime: true }, now).startMs).toBe(at('2026-11-24T08:00:00Z'));
    expect(runWindow({ ...base, realtime: true, speed: 60 }, now).startMs).toBe(at('2026-11-23T08:00:00Z'));
    // 15-minute steps: 08:10 aligns to 08:00; half an hour is two steps, six minutes rounds to none.
    const quarter = { ...base, realtime: true, speed: 10, step: 900 };
    expect(runWindow({ ...quarter, catchUpHours: 0.5 }, at('2026-11-24T08:10:00Z'))).toEqual({ stepMs: 900_000, alignedNow: at('2026-11-24T08:00:00Z'), startMs: at('2026-11-24T07:30:00Z') });
    expect(runWindow({ ...quarter, catchUpHours: 0.1 }, at('2026-11-24T08:10:00Z')).startMs).toBe(at('2026-11-24T08:00:00Z'));
  });
});

import { describe, expect, it } from 'vitest';
import { occupancySnapshotSchema, TorgOccupancy } from '../../../dashboards/occupancy/torg-occupancy.ts';
import type { CounterDelta } from '../../../dashboards/occupancy/torg-occupancy.ts';
import { torgSchema } from '../../../devices/torg/torg-config.schema.ts';
import type { Torg } from '../../../devices/torg/torg-config.schema.ts';

const weekday = { staffed: [['10:00', '15:00']], meraapent: [['07:00', '10:00'], ['15:00', '22:00']] };

function makeTorg(sunday: unknown = { meraapent: [['08:00', '22:00']] }): Torg {
  return torgSchema.parse({
    id: 'testtorg',
    name: 'Testtorg',
    population: 1000,
    // Palm Sunday 2026-03-29 is not a public holiday, but 'none' keeps the fixture independent of the holiday table.
    holidays: 'none',
    openingHours: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday, sat: {}, sun: sunday },
    entrances: [{ id: 'hoved', name: 'Hovedinngang', lines: ['line-1', 'line-2'] }],
    zones: [{ id: 'sone-a', name: 'Sone A', module: 'innbyggerservice', capacity: 10, fireMax: 20 }],
    capacity: 50,
  });
}

const t = (iso: string): number => Date.parse(iso);
const delta = (at: string, line: string, inCount: number, outCount: number): CounterDelta => ({
  at: t(at),
  device: 'teller-1',
  entrance: 'hoved',
  line,
  in: inCount,
  out: outCount,
});

describe('TorgOccupancy', () => {
  it('a normal day: accumulates in − out per line and resets once at closing (Tue 2026-11-24, CET)', () => {
    let now = t('2026-11-24T06:00:00Z'); // 07:00 local
    const occ = new TorgOccupancy({ torg: makeTorg(), now: () => now });
    occ.apply(delta('2026-11-24T08:00:00Z', 'line-1', 5, 0)); // 0 + 5 − 0 = 5
    occ.apply(delta('2026-11-24T09:00:00Z', 'line-2', 3, 1)); // 5 + 3 − 1 = 7
    occ.apply(delta('2026-11-24T10:00:00Z', 'line-1', 2, 4)); // 7 + 2 − 4 = 5
    now = t('2026-11-24T10:00:00Z');
    const s = occ.snapshot();
    expect(s.occupancy).toBe(5);
    expect(s.visitsToday).toBe(10); // 5 + 3 + 2
    expect(s.outToday).toBe(5); // 0 + 1 + 4
    expect(s.byLine).toEqual({ 'hoved/line-1': { in: 7, out: 4 }, 'hoved/line-2': { in: 3, out: 1 } });
    expect(s.driftToday).toEqual([]);
    expect(s.day).toBe('2026-11-24');

    // Closing is 22:00 local = 21:00Z.
    expect(occ.tick(t('2026-11-24T20:59:59.999Z'))).toBeNull();
    const reset = occ.tick(t('2026-11-24T21:00:00Z'));
    expect(reset).toEqual({ torg: 'testtorg', at: t('2026-11-24T21:00:00Z'), cause: 'closing_reset', size: -5 });
    expect(occ.tick(t('2026-11-24T21:30:00Z'))).toBeNull(); // once per closing

    // A late delta of the closing period counts as visits, not as occupancy (the reset emptied the torg).
    occ.apply(delta('2026-11-24T20:00:00Z', 'line-2', 1, 0));
    now = t('2026-11-24T21:30:00Z');
    expect(occ.snapshot()).toMatchObject({ occupancy: 0, visitsToday: 11, driftToday: [reset] });

    // Next day starts at 0 visits; a delta for the earlier day is left out and counted.
    occ.apply(delta('2026-11-25T07:00:00Z', 'line-1', 2, 0));
    occ.apply(delta('2026-11-24T12:00:00Z', 'line-1', 9, 0));
    now = t('2026-11-25T07:00:00Z');
    expect(occ.snapshot()).toMatchObject({ day: '2026-11-25', occupancy: 2, visitsToday: 2, outToday: 0, driftToday: [], lateIgnored: 1 });
  });

  it('more leave than enter: clamps to zero and records each clamp with its size', () => {
    let now = t('2026-11-24T06:00:00Z');
    const occ = new TorgOccupancy({ torg: makeTorg(), now: () => now });
    occ.apply(delta('2026-11-24T08:00:00Z', 'line-1', 2, 0)); // 2
    occ.apply(delta('2026-11-24T08:15:00Z', 'line-1', 0, 5)); // 2 − 5 = −3 → 0, +3 added
    occ.apply(delta('2026-11-24T08:30:00Z', 'line-2', 1, 2)); // 0 + 1 − 2 = −1 → 0, +1 added
    occ.apply(delta('2026-11-24T08:45:00Z', 'line-2', 4, 1)); // 0 + 4 − 1 = 3
    now = t('2026-11-24T09:00:00Z');
    const s = occ.snapshot();
    expect(s.occupancy).toBe(3);
    expect(s.visitsToday).toBe(7);
    expect(s.outToday).toBe(8);
    expect(occupancySnapshotSchema.parse(s)).toEqual(s);
    expect(s.driftToday).toEqual([
      { torg: 'testtorg', at: t('2026-11-24T08:15:00Z'), cause: 'below_zero', size: 3 },
      { torg: 'testtorg', at: t('2026-11-24T08:30:00Z'), cause: 'below_zero', size: 1 },
    ]);
    expect(occ.tick(t('2026-11-24T21:00:00Z'))).toMatchObject({ cause: 'closing_reset', size: -3 });
  });

  it('late delta of the same day counts even when it arrives out of order', () => {
    let now = t('2026-11-24T06:00:00Z');
    const occ = new TorgOccupancy({ torg: makeTorg(), now: () => now });
    occ.apply(delta('2026-11-24T09:00:00Z', 'line-1', 4, 0)); // 4
    occ.apply(delta('2026-11-24T08:00:00Z', 'line-1', 1, 2)); // arrives later, earlier period: 4 + 1 − 2 = 3
    now = t('2026-11-24T09:00:00Z');
    expect(occ.snapshot()).toMatchObject({ occupancy: 3, visitsToday: 5, outToday: 2, driftToday: [] });
  });

  it('no reset when empty at closing, and none on a day that is closed', () => {
    let now = t('2026-11-28T06:00:00Z'); // Saturday, closed all day
    const occ = new TorgOccupancy({ torg: makeTorg(), now: () => now });
    // The closing that counts for Saturday would be Friday's (before the model existed): treated as done.
    occ.apply(delta('2026-11-28T10:00:00Z', 'line-1', 2, 0));
    expect(occ.tick(t('2026-11-28T23:00:00Z'))).toBeNull();
    now = t('2026-11-28T23:00:00Z'); // 00:00 Sunday local
    expect(occ.snapshot()).toMatchObject({ occupancy: 2, day: '2026-11-29', visitsToday: 0 });
    // Sunday closes 22:00 local = 21:00Z: reset then.
    expect(occ.tick(t('2026-11-29T21:00:00Z'))).toMatchObject({ size: -2 });
    expect(occ.tick(t('2026-11-30T21:00:00Z'))).toBeNull(); // Monday closing, already empty
  });

  it('spring-forward day 2026-03-29 (23 h): closing 22:00 CEST is 20:00Z, day runs 23:00Z–22:00Z', () => {
    let now = t('2026-03-28T23:00:00Z'); // 00:00 CET on 03-29
    const occ = new TorgOccupancy({ torg: makeTorg(), now: () => now });
    occ.apply(delta('2026-03-28T23:30:00Z', 'line-1', 1, 0)); // 00:30 local 03-29
    occ.apply(delta('2026-03-29T06:00:00Z', 'line-1', 6, 2)); // 08:00 CEST; 1 + 6 − 2 = 5
    now = t('2026-03-29T06:00:00Z');
    expect(occ.snapshot()).toMatchObject({ day: '2026-03-29', visitsToday: 7, occupancy: 5 });
    // 20:00Z would be 21:00 local on a CET day; on this day it is 22:00 CEST, the closing.
    expect(occ.tick(t('2026-03-29T19:59:59.999Z'))).toBeNull();
    expect(occ.tick(t('2026-03-29T20:00:00Z'))).toEqual({ torg: 'testtorg', at: t('2026-03-29T20:00:00Z'), cause: 'closing_reset', size: -5 });
    // 21:59Z is 23:59 local, still 03-29; 22:00Z is Monday 00:00.
    occ.apply(delta('2026-03-29T21:59:00Z', 'line-1', 1, 0));
    now = t('2026-03-29T21:59:00Z');
    expect(occ.snapshot()).toMatchObject({ day: '2026-03-29', visitsToday: 8, occupancy: 1 });
    occ.apply(delta('2026-03-29T22:00:00Z', 'line-1', 3, 0));
    now = t('2026-03-29T22:00:00Z');
    expect(occ.snapshot()).toMatchObject({ day: '2026-03-30', visitsToday: 3, occupancy: 4 });
  });

  it('fall-back day 2026-10-25 (25 h): closing 22:00 CET is 21:00Z, not 20:00Z', () => {
    let now = t('2026-10-24T22:00:00Z'); // 00:00 CEST on 10-25
    const occ = new TorgOccupancy({ torg: makeTorg(), now: () => now });
    occ.apply(delta('2026-10-25T07:00:00Z', 'line-2', 4, 1)); // 08:00 CET; 3
    expect(occ.tick(t('2026-10-25T20:00:00Z'))).toBeNull(); // 21:00 CET
    expect(occ.tick(t('2026-10-25T21:00:00Z'))).toEqual({ torg: 'testtorg', at: t('2026-10-25T21:00:00Z'), cause: 'closing_reset', size: -3 });
    now = t('2026-10-25T22:59:00Z'); // 23:59 CET, still 10-25 (the day ends 23:00Z, 25 h after 22:00Z the day before)
    expect(occ.snapshot()).toMatchObject({ day: '2026-10-25', visitsToday: 4 });
  });

  it('a closing at 24:00 on the fall-back day is reset by a tick in the next local day', () => {
    let now = t('2026-10-24T22:00:00Z');
    const occ = new TorgOccupancy({ torg: makeTorg({ meraapent: [['08:00', '24:00']] }), now: () => now });
    occ.apply(delta('2026-10-25T22:00:00Z', 'line-1', 2, 0)); // 23:00 CET
    expect(occ.tick(t('2026-10-25T22:59:59.999Z'))).toBeNull();
    // 24:00 on 10-25 = 00:00 CET on 10-26 = 23:00Z.
    expect(occ.tick(t('2026-10-25T23:00:00Z'))).toEqual({ torg: 'testtorg', at: t('2026-10-25T23:00:00Z'), cause: 'closing_reset', size: -2 });
    now = t('2026-10-25T23:00:00Z');
    expect(occ.snapshot()).toMatchObject({ day: '2026-10-26', occupancy: 0, visitsToday: 0 });
  });
});

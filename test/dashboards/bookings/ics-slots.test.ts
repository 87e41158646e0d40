import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expandSlots, parseCalendar } from '../../../dashboards/bookings/ics-slots.ts';
import type { BookingSlot } from '../../../dashboards/bookings/bookings.schema.ts';
import { PlatformError } from '../../../devices/contract/errors.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/ics/${name}`, import.meta.url));
const iso = (s: string): number => Date.parse(s);
const events = parseCalendar(readFileSync(fixture('moterom-fjorden.ics'), 'utf8'), 'fjorden');
const base = { torg: 'asker-sentrum', zone: 'fjorden', categories: [{ id: 'lokal-gruppe', field: 'categories' as const, values: ['lag og foreninger'] }] };
const span = (s: BookingSlot): [string, string] => [new Date(s.startMs).toISOString(), new Date(s.endMs).toISOString()];

describe('expandSlots (hand-written fixture moterom-fjorden.ics)', () => {
  // October and November 2026 in Oslo: 2026-10-01 00:00 CEST = 09-30 22:00Z; 2026-12-01 00:00 CET = 11-30 23:00Z.
  const slots = expandSlots(events, { ...base, fromMs: iso('2026-09-30T22:00:00Z'), toMs: iso('2026-11-30T23:00:00Z') });

  it('keeps a weekly 10:00 Oslo booking at 10:00 local across the fall-back (08:00Z before, 09:00Z after), drops EXDATE and cancellations, applies the move', () => {
    expect(slots.map(span)).toEqual([
      ['2026-10-13T08:00:00.000Z', '2026-10-13T10:00:00.000Z'], // Tue 10–12 CEST
      ['2026-10-20T08:00:00.000Z', '2026-10-20T10:00:00.000Z'], // Tue 10–12 CEST
      ['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z'], // all-day Sun 25 Oct: 25 hours
      ['2026-10-27T09:00:00.000Z', '2026-10-27T11:00:00.000Z'], // Tue 10–12 CET
      // 11-03 excluded by EXDATE; 10-21 STATUS:CANCELLED
      ['2026-11-10T13:00:00.000Z', '2026-11-10T14:30:00.000Z'], // RECURRENCE-ID moved to 14:00–15:30 CET
      // 11-17 cancelled by a RECURRENCE-ID override with STATUS:CANCELLED
    ]);
  });

  it.each(['Pacific/Auckland', 'America/Los_Angeles'])('gives the same slots when the server runs in %s', (tz) => {
    // node-ical keeps all-day dates as host-local midnight; a fresh process is the only way to change the host zone.
    const code = `
      import { readFileSync } from 'node:fs';
      const m = await import(${JSON.stringify(fileURLToPath(new URL('../../../dashboards/bookings/ics-slots.ts', import.meta.url)))});
      const ev = m.parseCalendar(readFileSync(${JSON.stringify(fixture('moterom-fjorden.ics'))}, 'utf8'), 'x');
      const s = m.expandSlots(ev, { torg: 't', zone: 'z', fromMs: Date.parse('2026-09-30T22:00:00Z'), toMs: Date.parse('2026-11-30T23:00:00Z'), categories: [] });
      process.stdout.write(JSON.stringify(s.map((x) => [new Date(x.startMs).toISOString(), new Date(x.endMs).toISOString()])));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, TZ: tz }, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([
      ['2026-10-13T08:00:00.000Z', '2026-10-13T10:00:00.000Z'],
      ['2026-10-20T08:00:00.000Z', '2026-10-20T10:00:00.000Z'],
      ['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z'],
      ['2026-10-27T09:00:00.000Z', '2026-10-27T11:00:00.000Z'],
      ['2026-11-10T13:00:00.000Z', '2026-11-10T14:30:00.000Z'],
    ]);
  });

  it('marks the all-day event and the override, and lasts 25 hours on the fall-back day', () => {
    const allDay = slots.filter((s) => s.allDay);
    expect(allDay).toHaveLength(1);
    expect(allDay[0]!.endMs - allDay[0]!.startMs).toBe(25 * 3_600_000);
    expect(slots.filter((s) => s.override).map((s) => s.summary)).toEqual(['Styremøte Asker Sjakklubb (flyttet)']);
  });

  it('classifies slots into the configured categories by category, case-insensitively, or by organiser', () => {
    // Fixture order: styremøte 10-13, 10-20 (Lag og foreninger, Asker Sjakklubb), the all-day Opptelling
    // (Kommunen, no organiser), styremøte 10-27, the moved 11-10 instance (Lag og foreninger, Asker Sjakklubb).
    const L = ['lokal-gruppe'];
    expect(slots.map((s) => s.bookingCategories)).toEqual([L, L, [], L, L]);
    const byOrganizer = expandSlots(events, {
      ...base,
      categories: [{ id: 'lokal-gruppe', field: 'organizer', values: ['ASKER SJAKKLUBB'] }],
      fromMs: iso('2026-09-30T22:00:00Z'),
      toMs: iso('2026-11-30T23:00:00Z'),
    });
    expect(byOrganizer.map((s) => s.bookingCategories)).toEqual([L, L, [], L, L]);
    expect(byOrganizer[0]!.organizer).toBe('Asker Sjakklubb');
  });

  it('puts a slot in every category it matches, in config order, and matches whole values only', () => {
    const s = expandSlots(events, {
      ...base,
      categories: [
        { id: 'kommunal', field: 'categories', values: ['KOMMUNEN'] },
        { id: 'sjakk', field: 'organizer', values: ['asker sjakklubb'] },
        { id: 'lokal-gruppe', field: 'categories', values: ['Lag og foreninger'] },
        // "Lag" is part of "Lag og foreninger" but not the whole value: no match.
        { id: 'delord', field: 'categories', values: ['Lag'] },
        { id: 'tom', field: 'categories', values: [] },
      ],
      fromMs: iso('2026-09-30T22:00:00Z'),
      toMs: iso('2026-11-30T23:00:00Z'),
    });
    const both = ['sjakk', 'lokal-gruppe'];
    expect(s.map((x) => x.bookingCategories)).toEqual([both, both, ['kommunal'], both, both]);
  });

  it('returns slots overlapping the period, including one that started before it', () => {
    // Oslo day 2026-10-25 from 12:00Z: only the all-day slot overlaps.
    const day = expandSlots(events, { ...base, fromMs: iso('2026-10-25T12:00:00Z'), toMs: iso('2026-10-26T00:00:00Z') });
    expect(day.map(span)).toEqual([['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']]);
    // A period ending exactly when a slot starts does not contain it (half-open).
    expect(expandSlots(events, { ...base, fromMs: iso('2026-10-13T00:00:00Z'), toMs: iso('2026-10-13T08:00:00Z') })).toEqual([]);
  });

  it('reads floating times (no TZID) as Oslo wall-clock time, across the fall-back, in CRLF files with folded lines', () => {
    const floating = parseCalendar(readFileSync(fixture('floating-local-times.ics'), 'utf8'), 'floating');
    const s = expandSlots(floating, { ...base, fromMs: iso('2026-09-30T22:00:00Z'), toMs: iso('2026-11-30T23:00:00Z') });
    expect(s.map(span)).toEqual([
      ['2026-10-20T08:00:00.000Z', '2026-10-20T09:00:00.000Z'], // 10:00 CEST
      ['2026-10-27T09:00:00.000Z', '2026-10-27T10:00:00.000Z'], // 10:00 CET; 11-03 excluded
    ]);
    expect(s[0]!.summary).toBe('Strikkekafé (flytende tid uten TZID)');
  });

  it('refuses a feed that is not a calendar with E_BOOKING_FEED_INVALID naming the room', () => {
    const junk = readFileSync(fixture('not-a-calendar.ics'), 'utf8');
    let err: unknown;
    try {
      parseCalendar(junk, 'torg asker-sentrum, rom fjorden');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe('E_BOOKING_FEED_INVALID');
    expect((err as PlatformError).retriable).toBe(false);
    expect((err as PlatformError).message).toContain('rom fjorden');
  });
});

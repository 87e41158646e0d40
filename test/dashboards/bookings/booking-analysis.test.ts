import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyseBookings } from '../../../dashboards/bookings/booking-analysis.ts';
import { bookingAnalysisResultSchema } from '../../../dashboards/bookings/bookings.schema.ts';
import type { BookingSlot } from '../../../dashboards/bookings/bookings.schema.ts';
import { expandSlots, parseCalendar } from '../../../dashboards/bookings/ics-slots.ts';
import { presenceTimeline } from '../../../dashboards/bookings/presence-timeline.ts';
import type { PresenceSample } from '../../../dashboards/metrics/metrics-engine.ts';
import { torgSchema } from '../../../devices/torg/torg-config.schema.ts';

const iso = (s: string): number => Date.parse(s);
const MIN = 60_000;
const day = { staffed: [['08:00', '16:00']] as [string, string][] };
/** Open 08:00–16:00 local every day, no holidays: on 2026-10-20 (CEST) that is 06:00Z–14:00Z. */
const torg = torgSchema.parse({
  id: 'test-torg',
  name: 'Testtorg',
  population: 1000,
  holidays: 'none',
  openingHours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day },
  entrances: [{ id: 'hoved', name: 'Hovedinngang' }],
  zones: [
    { id: 'fjorden', name: 'Møterom Fjorden', module: 'møterom', capacity: 8, fireMax: 10, bookable: true },
    { id: 'skogen', name: 'Møterom Skogen', module: 'møterom', capacity: 6, fireMax: 8, bookable: true },
    { id: 'kafe', name: 'Kafé', module: 'innbyggerservice', capacity: 30, fireMax: 40 },
  ],
  capacity: 60,
});

const slot = (uid: string, start: string, end: string, bookingCategories: string[] = [], zone = 'fjorden'): BookingSlot => ({
  torg: 'test-torg',
  zone,
  uid,
  summary: uid,
  startMs: iso(start),
  endMs: iso(end),
  allDay: false,
  override: false,
  categories: [],
  organizer: null,
  bookingCategories,
});

describe('analyseBookings on a small presence fixture (Tue 2026-10-20, open 06:00Z–14:00Z)', () => {
  // One presence sensor, a reading every 10 minutes 06:00Z–12:50Z (window 10 min × 2.5 = 25 min, so
  // it reports until 13:15Z). Occupied 08:20–09:50 (holds to 10:00) and 10:30–10:50 (holds to 11:00).
  const samples: PresenceSample[] = [];
  for (let t = iso('2026-10-20T06:00:00Z'); t <= iso('2026-10-20T12:50:00Z'); t += 10 * MIN) {
    const occupied = (t >= iso('2026-10-20T08:20:00Z') && t <= iso('2026-10-20T09:50:00Z')) || (t >= iso('2026-10-20T10:30:00Z') && t <= iso('2026-10-20T10:50:00Z'));
    samples.push({ device: 'pir-1', time: t, occupied, count: null });
  }
  const fromMs = iso('2026-10-19T22:00:00Z'); // Oslo midnight
  const toMs = iso('2026-10-20T22:00:00Z');
  const slots = [
    slot('used', '2026-10-20T08:00:00Z', '2026-10-20T10:00:00Z', ['lokal-gruppe']),
    slot('overlapping', '2026-10-20T08:30:00Z', '2026-10-20T09:00:00Z'),
    slot('ghost', '2026-10-20T11:00:00Z', '2026-10-20T12:00:00Z', ['lokal-gruppe']),
    slot('short', '2026-10-20T12:00:00Z', '2026-10-20T12:10:00Z'),
    slot('unreported', '2026-10-20T13:00:00Z', '2026-10-20T14:00:00Z'),
    slot('evening', '2026-10-20T19:00:00Z', '2026-10-20T20:00:00Z'),
  ];
  const result = analyseBookings({
    torgs: [torg],
    fromMs,
    toMs,
    slots,
    presence: new Map([['test-torg/fjorden', presenceTimeline(samples, fromMs, toMs)]]),
    categories: ['lokal-gruppe', 'lokaldemokrati'],
  });
  const fjorden = result.zones.find((z) => z.zone === 'fjorden')!;
  const status = Object.fromEntries(fjorden.slotDetails.map((d) => [d.uid, [d.status, d.unknownReason]]));

  it('classifies each slot: presence → used; reported and empty ≥ 15 min → ghost; little reported or too short → unknown', () => {
    expect(status).toEqual({
      used: ['used', null],
      overlapping: ['used', null],
      ghost: ['ghost', null],
      short: ['unknown', 'too-short'], // 10 reported empty minutes < 15
      unreported: ['unknown', 'not-reported'], // reported 13:00–13:15 only: 25 %
      evening: ['unknown', 'not-reported'],
    });
    expect(fjorden.ghost.count).toBe(1);
    expect(fjorden.used).toBe(2);
    expect(fjorden.unknown).toBe(3);
    expect(fjorden.ghost.share).toBeCloseTo(1 / 3, 12); // 1 ghost of 3 known slots
    expect(fjorden.ghost.hours).toBe(1);
  });

  it('counts booked hours once for overlapping slots, within open time, and closed time apart', () => {
    // Union in open time: 08–10 (2 h) + 11–12 (1 h) + 12:00–12:10 + 13–14 (1 h) = 4 h 10 min.
    expect(fjorden.bookedHours).toBeCloseTo(4 + 10 / 60, 12);
    expect(fjorden.bookedHoursClosed).toBe(1); // 19–20Z = 21–22 local, closed
  });

  it('finds unbooked use and the booking-to-occupancy ratio', () => {
    expect(fjorden.unbookedUseHours).toBe(0.5); // 10:30–11:00Z, between bookings
    expect(fjorden.unbookedUseHoursClosed).toBe(0);
    // Occupied open reported: 08:20–10:00 (100) + 10:30–11:00 (30) = 130 min.
    // Booked open reported: 08–10 (120) + 11–12 (60) + 12:00–12:10 (10) + 13:00–13:15 (15) = 205 min.
    expect(fjorden.bookingToOccupancyRatio).toBeCloseTo(130 / 205, 12);
    expect(fjorden.bookedTimeOccupiedShare).toBeCloseTo(100 / 205, 12);
  });

  it('reports completeness over open time and per-category hours, listing a configured category without slots as zero', () => {
    expect(fjorden.completeness).toBeCloseTo(435 / 480, 12); // reported 06:00–13:15 of 06:00–14:00
    expect(fjorden.lowCompleteness).toBe(false);
    // A presence-only room (no counts): no slot has an attendance.
    expect(fjorden.categories).toEqual([
      { id: 'lokal-gruppe', slots: 2, bookedHours: 3, usedBookedHours: 2, ghosts: 1, attendance: null, slotsWithAttendance: 0 },
      { id: 'lokaldemokrati', slots: 0, bookedHours: 0, usedBookedHours: 0, ghosts: 0, attendance: 0, slotsWithAttendance: 0 },
    ]);
  });

  it('has no attendance in a presence-only room: no-headcount when reported, not-reported below the coverage', () => {
    const att = Object.fromEntries(fjorden.slotDetails.map((d) => [d.uid, [d.attendance, d.attendanceUnknownReason]]));
    expect(att).toEqual({
      used: [null, 'no-headcount'],
      overlapping: [null, 'no-headcount'],
      ghost: [null, 'no-headcount'],
      short: [null, 'no-headcount'],
      unreported: [null, 'not-reported'],
      evening: [null, 'not-reported'],
    });
  });

  it('includes bookable rooms without slots and without presence as unreported, skips non-bookable rooms', () => {
    expect(result.zones.map((z) => z.zone)).toEqual(['fjorden', 'skogen']);
    const skogen = result.zones[1]!;
    expect(skogen.slots).toBe(0);
    expect(skogen.completeness).toBe(0);
    expect(skogen.lowCompleteness).toBe(true);
    expect(skogen.bookingToOccupancyRatio).toBeNull();
    expect(skogen.ghost.share).toBeNull();
  });

  it('serves a result that passes its own schema and states its rules', () => {
    expect(bookingAnalysisResultSchema.safeParse(JSON.parse(JSON.stringify(result))).success).toBe(true);
    expect(result.rules.ghost).toContain('15 minutes');
  });
});

describe('analyseBookings over a window without open time', () => {
  it('completeness is null (nothing to report on), not 0, and not flagged low', () => {
    // 00:00Z–05:00Z on 2026-10-20 is 02:00–07:00 Oslo (CEST), before the 08:00 opening.
    const fromMs = iso('2026-10-20T00:00:00Z');
    const toMs = iso('2026-10-20T05:00:00Z');
    const r = analyseBookings({ torgs: [torg], fromMs, toMs, slots: [], presence: new Map() });
    expect(r.zones.map((z) => [z.zone, z.completeness, z.lowCompleteness])).toEqual([
      ['fjorden', null, false],
      ['skogen', null, false],
    ]);
    expect(bookingAnalysisResultSchema.safeParse(JSON.parse(JSON.stringify(r))).success).toBe(true);
  });
});

describe('analyseBookings on the fall-back day with the ICS fixture', () => {
  it('splits the 25-hour all-day booking into 8 open and 17 closed hours; no presence → unknown, never ghost', () => {
    const fixture = fileURLToPath(new URL('../../fixtures/ics/moterom-fjorden.ics', import.meta.url));
    // Oslo day 2026-10-25: 24 22:00Z – 25 23:00Z; open 08:00–16:00 CET = 07:00Z–15:00Z.
    const fromMs = iso('2026-10-24T22:00:00Z');
    const toMs = iso('2026-10-25T23:00:00Z');
    const slots = expandSlots(parseCalendar(readFileSync(fixture, 'utf8'), 'fjorden'), {
      torg: 'test-torg',
      zone: 'fjorden',
      fromMs,
      toMs,
      categories: [],
    });
    const r = analyseBookings({ torgs: [torg], fromMs, toMs, slots, presence: new Map() });
    const z = r.zones.find((x) => x.zone === 'fjorden')!;
    expect(z.slots).toBe(1);
    expect(z.bookedHours).toBe(8);
    expect(z.bookedHoursClosed).toBe(17);
    expect(z.ghost.count).toBe(0);
    expect(z.slotDetails[0]!.status).toBe('unknown');
    expect(z.slotDetails[0]!.unknownReason).toBe('not-reported');
  });

  it('a reported, empty all-day booking is a ghost and its ghost hours are its open hours', () => {
    const fromMs = iso('2026-10-24T22:00:00Z');
    const toMs = iso('2026-10-25T23:00:00Z');
    const allDay: BookingSlot = { ...slot('allday', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z'), allDay: true };
    // Reported and empty for the whole day: a reading every 10 minutes from the period start.
    const samples: PresenceSample[] = [];
    for (let t = fromMs; t < toMs; t += 10 * MIN) samples.push({ device: 'pir-1', time: t, occupied: false, count: 0 });
    const r = analyseBookings({ torgs: [torg], fromMs, toMs, slots: [allDay], presence: new Map([['test-torg/fjorden', presenceTimeline(samples, fromMs, toMs)]]) });
    const z = r.zones.find((x) => x.zone === 'fjorden')!;
    expect(z.ghost.count).toBe(1);
    expect(z.ghost.hours).toBe(8);
    expect(z.completeness).toBe(1);
    expect(z.bookingToOccupancyRatio).toBe(0);
  });
});

describe('attendance: peak head count per slot (Tue 2026-10-20, open 06:00Z–14:00Z)', () => {
  // fjorden: one head-counting sensor, a reading every 10 minutes 06:00Z–12:50Z (window 25 min, so it
  // reports until 13:15Z). Counts by reading time; every other reading is 0.
  const counts: Record<string, number> = {
    '08:00': 3, '08:10': 7, '08:20': 12, '08:30': 9, '08:40': 4, // slot A
    '09:50': 30, // held 09:50–10:00, just before slot B: not in it
    '10:10': 20, '10:20': 15, // slot B
  };
  const fromMs = iso('2026-10-19T22:00:00Z');
  const toMs = iso('2026-10-20T22:00:00Z');
  const fjordenSamples: PresenceSample[] = [];
  for (let t = iso('2026-10-20T06:00:00Z'); t <= iso('2026-10-20T12:50:00Z'); t += 10 * MIN) {
    const count = counts[new Date(t).toISOString().slice(11, 16)] ?? 0;
    fjordenSamples.push({ device: 'cam-1', time: t, occupied: count > 0, count });
  }
  // skogen: presence only (no counts), occupied 08:00–09:00Z, empty otherwise, same cadence.
  const skogenSamples: PresenceSample[] = [];
  for (let t = iso('2026-10-20T06:00:00Z'); t <= iso('2026-10-20T12:50:00Z'); t += 10 * MIN) {
    skogenSamples.push({ device: 'pir-9', time: t, occupied: t >= iso('2026-10-20T08:00:00Z') && t < iso('2026-10-20T09:00:00Z'), count: null });
  }
  const LD = 'lokaldemokrati';
  const slots = [
    slot('A-lokalutvalg', '2026-10-20T08:00:00Z', '2026-10-20T09:00:00Z', ['lokal-gruppe', LD]),
    slot('B-folkemote', '2026-10-20T10:00:00Z', '2026-10-20T11:00:00Z', [LD]),
    slot('D-tomt', '2026-10-20T11:00:00Z', '2026-10-20T12:00:00Z', [LD]),
    slot('C-sent', '2026-10-20T12:30:00Z', '2026-10-20T13:30:00Z', [LD]),
    slot('E-skogen', '2026-10-20T08:00:00Z', '2026-10-20T09:00:00Z', [LD], 'skogen'),
  ];
  const result = analyseBookings({
    torgs: [torg],
    fromMs,
    toMs,
    slots,
    presence: new Map([
      ['test-torg/fjorden', presenceTimeline(fjordenSamples, fromMs, toMs)],
      ['test-torg/skogen', presenceTimeline(skogenSamples, fromMs, toMs)],
    ]),
    categories: ['lokal-gruppe', LD],
  });
  const zone = (id: string) => result.zones.find((z) => z.zone === id)!;
  const bySlot = Object.fromEntries(result.zones.flatMap((z) => z.slotDetails).map((d) => [d.uid, [d.status, d.attendance, d.attendanceUnknownReason]]));

  it('takes the highest count held during the slot, ignores one held only before it, and is 0 for an empty reported slot', () => {
    expect(bySlot).toEqual({
      'A-lokalutvalg': ['used', 12, null], // 3, 7, 12, 9, 4, 0 → 12
      'B-folkemote': ['used', 20, null], // 0, 20, 15, 0 … → 20; the 30 ends at 10:00
      'D-tomt': ['ghost', 0, null],
      // reported 12:30–13:15Z = 45 of 60 min = 75 % < 80 %
      'C-sent': ['unknown', null, 'not-reported'],
      // presence-only room: occupied, but "1 per occupied sensor" is not a head count
      'E-skogen': ['used', null, 'no-headcount'],
    });
  });

  it('sums attendance per category over the slots that have one; a slot in two categories counts in both', () => {
    expect(zone('fjorden').categories).toEqual([
      { id: 'lokal-gruppe', slots: 1, bookedHours: 1, usedBookedHours: 1, ghosts: 0, attendance: 12, slotsWithAttendance: 1 },
      // A 12 + B 20 + D 0; C unknown. Booked open hours 1 + 1 + 1 + 1 (12:30–13:30Z is open).
      { id: LD, slots: 4, bookedHours: 4, usedBookedHours: 2, ghosts: 1, attendance: 32, slotsWithAttendance: 3 },
    ]);
    expect(zone('skogen').categories).toEqual([
      { id: 'lokal-gruppe', slots: 0, bookedHours: 0, usedBookedHours: 0, ghosts: 0, attendance: 0, slotsWithAttendance: 0 },
      { id: LD, slots: 1, bookedHours: 1, usedBookedHours: 1, ghosts: 0, attendance: null, slotsWithAttendance: 0 },
    ]);
    expect(result.rules.attendance).toContain('peak head count');
    expect(bookingAnalysisResultSchema.safeParse(JSON.parse(JSON.stringify(result))).success).toBe(true);
  });

  it('overlapping slots of one category are one meeting: booked time once, attendance the highest', () => {
    // Folkemøtet B (10–11Z, peak 20) booked again in a second feed, and a 10:30–11:00Z slot of the
    // same category, in which the room was empty (the 15 of 10:20 holds until 10:30).
    const twice = analyseBookings({
      torgs: [torg],
      fromMs,
      toMs,
      slots: [
        slot('B-folkemote', '2026-10-20T10:00:00Z', '2026-10-20T11:00:00Z', [LD]),
        slot('B-folkemote-kopi', '2026-10-20T10:00:00Z', '2026-10-20T11:00:00Z', [LD]),
        slot('B-andre-halvdel', '2026-10-20T10:30:00Z', '2026-10-20T11:00:00Z', [LD, 'lokal-gruppe']),
      ],
      presence: new Map([['test-torg/fjorden', presenceTimeline(fjordenSamples, fromMs, toMs)]]),
      categories: ['lokal-gruppe', LD],
    });
    const details = Object.fromEntries(twice.zones[0]!.slotDetails.map((d) => [d.uid, [d.status, d.attendance]]));
    expect(details).toEqual({ 'B-folkemote': ['used', 20], 'B-folkemote-kopi': ['used', 20], 'B-andre-halvdel': ['ghost', 0] });
    expect(twice.zones[0]!.categories).toEqual([
      // The 10:30–11:00Z slot alone: half an hour, nobody there.
      { id: 'lokal-gruppe', slots: 1, bookedHours: 0.5, usedBookedHours: 0, ghosts: 1, attendance: 0, slotsWithAttendance: 1 },
      // One meeting 10–11Z: 1 booked hour (not 2.5), attendance max(20, 20, 0) = 20 (not 40).
      { id: LD, slots: 3, bookedHours: 1, usedBookedHours: 1, ghosts: 1, attendance: 20, slotsWithAttendance: 3 },
    ]);
  });
});

/**
 * bookingFactsFrom → the indicator engine → `lokaldemokrati-oppmote` of config/indicators.sample.json,
 * once over an in-memory analysis (hand-counted presence) and once end to end over the bookings query
 * with presence from a real InfluxDB 1.6 (the metrics fixture) and slots from an ICS file.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyseBookings } from '../../../dashboards/bookings/booking-analysis.ts';
import { bookingFactsFrom } from '../../../dashboards/bookings/booking-facts.ts';
import { createBookingsQuery } from '../../../dashboards/bookings/bookings-routes.ts';
import { bookingsConfigSchema } from '../../../dashboards/bookings/bookings.schema.ts';
import type { BookingSlot } from '../../../dashboards/bookings/bookings.schema.ts';
import { presenceTimeline } from '../../../dashboards/bookings/presence-timeline.ts';
import { bookingFactsSchema } from '../../../dashboards/indicators/booking-facts.ts';
import { loadIndicatorFile } from '../../../dashboards/indicators/indicator-definition.schema.ts';
import { computeIndicators } from '../../../dashboards/indicators/indicator-engine.ts';
import type { PresenceSample } from '../../../dashboards/metrics/metrics-engine.ts';
import { torgSchema } from '../../../devices/torg/torg-config.schema.ts';
import { startMetricsFixture, type MetricsFixture } from '../metrics/metrics-routes-fixture.ts';

const iso = (s: string): number => Date.parse(s);
const MIN = 60_000;
const indicators = loadIndicatorFile(fileURLToPath(new URL('../../../config/indicators.sample.json', import.meta.url)));
const fixturesDir = fileURLToPath(new URL('../../fixtures/ics/', import.meta.url));
const oppmote = (r: ReturnType<typeof computeIndicators>, torg: string) => r.values.find((v) => v.indicator === 'lokaldemokrati-oppmote' && v.torg === torg)!;

describe('bookingFactsFrom over a hand-counted day', () => {
  const day = { staffed: [['08:00', '16:00']] as [string, string][] };
  // Open 08:00–16:00 Oslo every day: Tue 2026-10-20 (CEST) 06:00Z–14:00Z.
  const torg = torgSchema.parse({
    id: 'test-torg',
    name: 'Testtorg',
    population: 1000,
    holidays: 'none',
    openingHours: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day },
    entrances: [{ id: 'hoved', name: 'Hovedinngang' }],
    zones: [
      { id: 'sal', name: 'Salen', module: 'møterom', capacity: 60, fireMax: 80, bookable: true },
      { id: 'lite', name: 'Lite møterom', module: 'møterom', capacity: 6, fireMax: 8, bookable: true },
      { id: 'kafe', name: 'Kafé', module: 'innbyggerservice', capacity: 30, fireMax: 40, bookable: true },
    ],
    capacity: 120,
  });
  const slot = (uid: string, zone: string, start: string, end: string, bookingCategories: string[]): BookingSlot => ({
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
  const fromMs = iso('2026-10-19T22:00:00Z');
  const toMs = iso('2026-10-20T22:00:00Z');
  // sal: a people counter every 10 min 06:00Z–13:50Z; 18 at 09:00Z, 26 at 09:10Z, 21 at 09:20Z, 0 otherwise.
  // lite: the same counter cadence, 4 at 12:00Z, 0 otherwise.
  // kafe: presence only, occupied all day.
  const sal: PresenceSample[] = [];
  const lite: PresenceSample[] = [];
  const kafe: PresenceSample[] = [];
  const salCounts: Record<string, number> = { '09:00': 18, '09:10': 26, '09:20': 21 };
  for (let t = iso('2026-10-20T06:00:00Z'); t <= iso('2026-10-20T13:50:00Z'); t += 10 * MIN) {
    const hm = new Date(t).toISOString().slice(11, 16);
    sal.push({ device: 'teller-sal', time: t, occupied: null, count: salCounts[hm] ?? 0 });
    lite.push({ device: 'teller-lite', time: t, occupied: null, count: hm === '12:00' ? 4 : 0 });
    kafe.push({ device: 'pir-kafe', time: t, occupied: true, count: null });
  }
  const slots = [
    slot('folkemote', 'sal', '2026-10-20T09:00:00Z', '2026-10-20T10:30:00Z', ['lokaldemokrati']),
    slot('lokalutvalg-arbeidsmote', 'lite', '2026-10-20T12:00:00Z', '2026-10-20T13:00:00Z', ['lokaldemokrati', 'lokal-gruppe']),
    slot('apen-kafe-debatt', 'kafe', '2026-10-20T10:00:00Z', '2026-10-20T11:00:00Z', ['lokaldemokrati']),
  ];
  const analysis = analyseBookings({
    torgs: [torg],
    fromMs,
    toMs,
    slots,
    presence: new Map([
      ['test-torg/sal', presenceTimeline(sal, fromMs, toMs)],
      ['test-torg/lite', presenceTimeline(lite, fromMs, toMs)],
      ['test-torg/kafe', presenceTimeline(kafe, fromMs, toMs)],
    ]),
    categories: ['lokal-gruppe', 'lokaldemokrati', 'partner'],
  });
  const facts = (feedErrors: { torg: string; zone: string }[]) => bookingFactsFrom(async () => Promise.resolve({ ...analysis, feedErrors }))('2026-10');

  it('gives one fact per torg and category: hours, events, Σ slot attendance (a presence-only room left out), feed completeness', async () => {
    const f = await facts([{ torg: 'test-torg', zone: 'kafe' }]);
    expect(bookingFactsSchema.safeParse(f).success).toBe(true);
    const byCategory = Object.fromEntries(f.map((x) => [x.category, x]));
    expect(Object.keys(byCategory).sort()).toEqual(['lokal-gruppe', 'lokaldemokrati', 'partner']);
    // folkemøte: peak 26 (09:10Z); arbeidsmøte: 4; kafé-debatt: presence only → left out. Hours 1.5 + 1 + 1.
    expect(byCategory.lokaldemokrati).toEqual({ torg: 'test-torg', month: '2026-10', category: 'lokaldemokrati', bookedHours: 3.5, events: 3, attendance: 30, completeness: 2 / 3 });
    expect(byCategory['lokal-gruppe']).toMatchObject({ bookedHours: 1, events: 1, attendance: 4 });
    // Configured, no slots: nobody attended anything, a real 0.
    expect(byCategory.partner).toMatchObject({ bookedHours: 0, events: 0, attendance: 0, completeness: 2 / 3 });
  });

  it('makes attendance null when the category had events and none was head-counted', async () => {
    const onlyKafe = bookingFactsFrom(async () =>
      Promise.resolve({
        ...analyseBookings({
          torgs: [torg],
          fromMs,
          toMs,
          slots: [slots[2]!],
          presence: new Map([['test-torg/kafe', presenceTimeline(kafe, fromMs, toMs)]]),
          categories: ['lokaldemokrati'],
        }),
        feedErrors: [],
      }),
    );
    const f = await onlyKafe('2026-10');
    expect(f).toEqual([{ torg: 'test-torg', month: '2026-10', category: 'lokaldemokrati', bookedHours: 1, events: 1, attendance: null, completeness: 1 }]);
    const v = oppmote(computeIndicators(indicators, [], f, '2026-10', { torg: [{ id: 'test-torg', population: 1000 }], municipality: 'Asker' }), 'test-torg');
    expect(v.value).toBeNull();
    expect(v.missing).toEqual(['booking attendance test-torg 2026-10']);
  });

  it('gives lokaldemokrati-oppmote of the sample indicators its value', async () => {
    const f = await facts([]);
    const v = oppmote(computeIndicators(indicators, [], f, '2026-10', { torg: [{ id: 'test-torg', population: 1000 }], municipality: 'Asker' }), 'test-torg');
    expect(v.value).toBe(30);
    expect(v.missing).toEqual([]);
    expect(v.completeness).toBe(1);
  });
});

describe('lokaldemokrati-oppmote end to end: ICS feed + presence in a real InfluxDB → facts → indicator', () => {
  let fx: MetricsFixture;
  beforeAll(async () => {
    fx = await startMetricsFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('counts 5 people for November 2026 at testtorg', async () => {
    const m = fx.deps();
    const query = createBookingsQuery({
      config: bookingsConfigSchema.parse({
        version: 1,
        feeds: { testtorg: { 'sone-a': 'testtorg-sone-a.ics' } },
        categories: [{ id: 'lokaldemokrati', values: ['Lokaldemokrati', 'Lokalutvalg', 'Folkemøte'] }],
      }),
      baseDir: fixturesDir,
      torgs: m.torgs,
      store: m.store,
      assignments: m.recompute!.assignments,
      options: m.options,
    });
    const facts = await bookingFactsFrom(query)('2026-11');
    // testtorg-sone-a.ics on Tue 2026-11-17: "Brukt møte" (Lokalutvalg) 09:30–10:00Z while pir-a's count 5
    // (09:50Z reading) holds → 5; "Spøkelsesbooking" (Folkemøte) 10:15–10:45Z at count 0 → 0. 5 + 0 = 5.
    expect(facts).toEqual([{ torg: 'testtorg', month: '2026-11', category: 'lokaldemokrati', bookedHours: 1, events: 2, attendance: 5, completeness: 1 }]);
    const r = computeIndicators(indicators, [], facts, '2026-11', { torg: [{ id: 'testtorg', population: 1000 }], municipality: 'Asker' });
    const v = oppmote(r, 'testtorg');
    expect(v.value).toBe(5);
    expect(v.missing).toEqual([]);
    expect(v.unit.nb).toBe('personer per måned');
  });
});

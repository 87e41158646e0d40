/**
 * GET /api/v1/bookings over real HTTP (createApiApp, SqliteTokenStore) with presence from a real
 * InfluxDB 1.6 seeded by the metrics fixture, and slots from hand-written ICS files. Expected values
 * are hand arithmetic on both fixtures:
 *
 * Presence (metrics-routes-fixture.ts), Tue 2026-11-17 CET: pir-a in sone-a, count 5 at 09:00Z …
 * 09:50Z, count 0 at 10:00Z … 10:50Z, window 25 min → occupied 09:00–10:00Z, empty 10:00–11:15Z,
 * unreported elsewhere. Open 07–22 local = 06:00Z–21:00Z (15 h).
 * Slots (testtorg-sone-a.ics): 09:30–10:00Z, 10:15–10:45Z, 12:00–13:00Z.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookingsConfigSchema } from '../../../dashboards/bookings/bookings.schema.ts';
import { bookingsResponseSchema, bookingsRoutes } from '../../../dashboards/bookings/bookings-routes.ts';
import type { BookingsRoutesDeps } from '../../../dashboards/bookings/bookings-routes.ts';
import { startTestApi, type TestApi } from '../../ingest/api/api-server.ts';
import { checkRouteMatrix } from '../../ingest/api/route-matrix.ts';
import { NOW, startMetricsFixture, type MetricsFixture } from '../metrics/metrics-routes-fixture.ts';

const fixturesDir = fileURLToPath(new URL('../../fixtures/ics/', import.meta.url));

describe('GET /api/v1/bookings (real HTTP, real InfluxDB)', () => {
  let fx: MetricsFixture;
  let api: TestApi;
  let deps: BookingsRoutesDeps;
  beforeAll(async () => {
    fx = await startMetricsFixture();
    const m = fx.deps();
    deps = {
      config: bookingsConfigSchema.parse({
        version: 1,
        feeds: { testtorg: { 'sone-a': 'testtorg-sone-a.ics', 'sone-b': 'does-not-exist.ics' } },
        // An old-style localGroups beside a categories list: both are read.
        localGroups: { field: 'categories', values: ['Lag og foreninger'] },
        categories: [{ id: 'lokaldemokrati', values: ['Lokaldemokrati', 'Lokalutvalg', 'Folkemøte'] }],
      }),
      baseDir: fixturesDir,
      torgs: m.torgs,
      store: m.store,
      assignments: m.recompute!.assignments,
      options: m.options,
    };
    api = await startTestApi({ now: NOW, extraRoutes: () => bookingsRoutes(deps) });
  });
  afterAll(async () => {
    await api?.close();
    await fx?.close();
  });

  const get = async (query: string, token = api.tokens.analyst) => {
    const res = await fetch(`${api.url}/api/v1/bookings?${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  it('answers ghost, used and unknown slots, unbooked use and the ratio for a day', async () => {
    const { status, body } = await get('from=2026-11-17');
    expect(status).toBe(200);
    const r = bookingsResponseSchema.parse(body);
    expect(r.fromMs).toBe(Date.parse('2026-11-16T23:00:00Z'));
    expect(r.toMs).toBe(Date.parse('2026-11-17T23:00:00Z'));
    const a = r.zones.find((z) => z.zone === 'sone-a')!;
    expect(a.slotDetails.map((s) => [s.uid, s.status])).toEqual([
      ['brukt@fixture.asker.test', 'used'],
      ['spokelse@fixture.asker.test', 'ghost'], // 30 reported empty minutes
      ['ukjent@fixture.asker.test', 'unknown'], // no readings 12–13Z
    ]);
    expect(a.bookedHours).toBe(2);
    expect(a.ghost).toEqual({ count: 1, share: 0.5, hours: 0.5 });
    expect(a.unbookedUseHours).toBe(0.5); // occupied 09:00–09:30Z before the first slot
    // occupied reported open 60 min ÷ booked reported open (30 + 30) min
    expect(a.bookingToOccupancyRatio).toBe(1);
    expect(a.bookedTimeOccupiedShare).toBe(0.5);
    expect(a.completeness).toBeCloseTo(2.25 / 15, 12); // reported 09:00–11:15Z of 15 open hours
    expect(a.lowCompleteness).toBe(true);
    // Attendance: brukt 09:30–10:00Z holds count 5 (the 09:50Z reading) → 5; spøkelse 10:15–10:45Z holds
    // count 0 → 0; ukjent has no readings → null.
    expect(a.slotDetails.map((s) => [s.bookingCategories, s.attendance, s.attendanceUnknownReason])).toEqual([
      [['lokal-gruppe', 'lokaldemokrati'], 5, null],
      [['lokaldemokrati'], 0, null],
      [[], null, 'not-reported'],
    ]);
    expect(a.categories).toEqual([
      { id: 'lokal-gruppe', slots: 1, bookedHours: 0.5, usedBookedHours: 0.5, ghosts: 0, attendance: 5, slotsWithAttendance: 1 },
      { id: 'lokaldemokrati', slots: 2, bookedHours: 1, usedBookedHours: 0.5, ghosts: 1, attendance: 5, slotsWithAttendance: 2 },
    ]);
    expect(r.feedErrors.map((e) => [e.zone, e.code])).toEqual([['sone-b', 'E_BOOKING_FEED_UNAVAILABLE']]);
  });

  it('refuses an unknown torg and a range that is too long', async () => {
    expect((await get('from=2026-11-17&torg=finnes-ikke')).status).toBe(404);
    expect((await get('from=2026-01&to=2026-03')).status).toBe(400);
    expect((await get('from=2026-11-31')).status).toBe(400);
  });

  it('refuses a missing token and a viewer', async () => {
    const { checks, failures } = await checkRouteMatrix({ baseUrl: api.url, routes: bookingsRoutes(deps), tokens: api.tokens });
    expect(failures).toEqual([]);
    // no token → 401, viewer → 403, analyst let through
    expect(checks.map((c) => c.as).sort()).toEqual(['analyst', 'no token', 'viewer']);
  });
});

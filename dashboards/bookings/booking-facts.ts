/**
 * Bookings as the indicators and the skalering rules take them (dashboards/indicators/booking-facts.ts,
 * dashboards/skalering/recommend.ts GhostWeek): monthly booked hours of local groups per torg, and
 * booked/ghost hours per zone and ISO week. The bookings import classifies a slot only as local group
 * or not (bookings.schema.ts `localGroup`), so the only category produced is `lokal-gruppe`; indicators
 * over other categories (e.g. `lokaldemokrati`) stay null and name what is missing.
 */
import type { BookingFact } from '../indicators/booking-facts.ts';
import type { GhostWeek } from '../skalering/recommend.ts';
import type { BookingsQuery } from './bookings-routes.ts';
import type { BookingAnalysisResult } from './bookings.schema.ts';

export const LOCAL_GROUP_CATEGORY = 'lokal-gruppe';

type Query = (q: BookingsQuery) => Promise<BookingAnalysisResult & { feedErrors: readonly { torg?: string | undefined; zone?: string | undefined }[] }>;

export function bookingFactsFrom(query: Query): (month: string) => Promise<BookingFact[]> {
  return async (month) => {
    const r = await query({ from: month });
    const byTorg = new Map<string, { hours: number; events: number; zones: number; failed: number }>();
    for (const z of r.zones) {
      const t = byTorg.get(z.torg) ?? { hours: 0, events: 0, zones: 0, failed: 0 };
      t.hours += z.localGroups.bookedHours;
      t.events += z.localGroups.slots;
      t.zones += 1;
      if (r.feedErrors.some((e) => e.torg === z.torg && e.zone === z.zone)) t.failed += 1;
      byTorg.set(z.torg, t);
    }
    return [...byTorg].map(([torg, t]) => ({
      torg,
      month,
      category: LOCAL_GROUP_CATEGORY,
      bookedHours: t.hours,
      events: t.events,
      // Attendance per event needs the room's head count during each slot; not derived here.
      attendance: null,
      completeness: t.zones === 0 ? null : (t.zones - t.failed) / t.zones,
    }));
  };
}

export function ghostWeeksFrom(query: Query): (weeks: readonly string[]) => Promise<GhostWeek[]> {
  return async (weeks) => {
    const out: GhostWeek[] = [];
    for (const week of weeks) {
      const r = await query({ from: week });
      for (const z of r.zones) {
        // Slots with unknown presence are left out of both (GhostWeek's contract).
        let booked = 0;
        let ghost = 0;
        for (const s of z.slotDetails) {
          if (s.status === 'unknown') continue;
          booked += s.bookedOpenHours;
          if (s.status === 'ghost') ghost += s.bookedOpenHours;
        }
        out.push({ torg: z.torg, zone: z.zone, week, bookedHours: booked, ghostHours: ghost });
      }
    }
    return out;
  };
}

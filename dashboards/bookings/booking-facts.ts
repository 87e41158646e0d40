/**
 * Bookings as the indicators and the skalering rules take them (dashboards/indicators/booking-facts.ts,
 * dashboards/skalering/recommend.ts GhostWeek): monthly facts per torg and configured booking
 * category (config `categories`, e.g. `lokal-gruppe` for "hours of room use by local groups" and
 * `lokaldemokrati` for "attendance at local-democracy meetings", issue 6), and booked/ghost hours per
 * zone and ISO week. A category that no config entry defines has no facts, so an indicator over it
 * stays null and names what is missing.
 */
import type { BookingFact } from '../indicators/booking-facts.ts';
import type { GhostWeek } from '../skalering/recommend.ts';
import type { BookingsQuery } from './bookings-routes.ts';
import type { BookingAnalysisResult } from './bookings.schema.ts';

type Query = (q: BookingsQuery) => Promise<BookingAnalysisResult & { feedErrors: readonly { torg?: string | undefined; zone?: string | undefined }[] }>;

interface Totals {
  hours: number;
  events: number;
  attendance: number;
  slotsWithAttendance: number;
}

export function bookingFactsFrom(query: Query): (month: string) => Promise<BookingFact[]> {
  return async (month) => {
    const r = await query({ from: month });
    const byTorg = new Map<string, { zones: number; failed: number; categories: Map<string, Totals> }>();
    for (const z of r.zones) {
      const t = byTorg.get(z.torg) ?? { zones: 0, failed: 0, categories: new Map<string, Totals>() };
      t.zones += 1;
      if (r.feedErrors.some((e) => e.torg === z.torg && e.zone === z.zone)) t.failed += 1;
      for (const c of z.categories) {
        const sum = t.categories.get(c.id) ?? { hours: 0, events: 0, attendance: 0, slotsWithAttendance: 0 };
        sum.hours += c.bookedHours;
        sum.events += c.slots;
        sum.attendance += c.attendance ?? 0;
        sum.slotsWithAttendance += c.slotsWithAttendance;
        t.categories.set(c.id, sum);
      }
      byTorg.set(z.torg, t);
    }
    const facts: BookingFact[] = [];
    for (const [torg, t] of byTorg) {
      for (const [category, c] of t.categories) {
        facts.push({
          torg,
          month,
          category,
          bookedHours: c.hours,
          events: c.events,
          // Σ attendance of the slots with a head count (booking-analysis.ts, rules.attendance). Null only
          // when the category had events and none of them was head-counted: then nothing is known. Events
          // without a head count are left out of the sum rather than nulling it (an undercount, not a guess);
          // no events means nobody attended, 0.
          attendance: c.events === 0 ? 0 : c.slotsWithAttendance === 0 ? null : c.attendance,
          completeness: t.zones === 0 ? null : (t.zones - t.failed) / t.zones,
        });
      }
    }
    return facts;
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

/**
 * What the indicators need from bookings (dashboards/bookings, built separately): monthly totals per
 * torg and booking category. Declared here as a zod schema so the bookings module can produce it
 * without either side importing the other; the composition root passes the facts in.
 */
import { z } from 'zod';

export const bookingFactSchema = z
  .object({
    torg: z.string().min(1),
    /** Oslo local month, `2026-10`. */
    month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
    /** Booking category as the bookings import classifies it, e.g. `lokal-gruppe`, `lokaldemokrati`. */
    category: z.string().min(1),
    /** Booked hours of the category in the month (rooms × hours). */
    bookedHours: z.number().min(0),
    /** Booked events (slots) of the category in the month. */
    events: z.number().int().min(0),
    /**
     * People present at those events: the room's peak head count during each slot, summed over the
     * slots that were head-counted (dashboards/bookings/booking-analysis.ts, rule `attendance`); null
     * when there were events and none was head-counted; 0 when there were no events.
     */
    attendance: z.number().min(0).nullable(),
    /** Share of the torg's bookable rooms whose booking feed was imported for the whole month; null when the torg has no bookable room in the facts (nothing to import, so not low). */
    completeness: z.number().min(0).max(1).nullable(),
  })
  .strict();

export type BookingFact = z.infer<typeof bookingFactSchema>;
export const bookingFactsSchema = z.array(bookingFactSchema);

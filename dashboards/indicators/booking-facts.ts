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
    /** People present at those events (peak occupancy of the room during each slot, summed); null when no room of the events has a headcount sensor. */
    attendance: z.number().min(0).nullable(),
    /** Share of the torg's bookable rooms whose booking feed was imported for the whole month; null when the torg has no bookable room in the facts (nothing to import, so not low). */
    completeness: z.number().min(0).max(1).nullable(),
  })
  .strict();

export type BookingFact = z.infer<typeof bookingFactSchema>;
export const bookingFactsSchema = z.array(bookingFactSchema);

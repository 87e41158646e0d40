/** Bookings (issue 6): ICS feeds per room → slots → ghost bookings, unbooked use, booked hours. */
export { analyseBookings, bookingRulesOf, DEFAULT_BOOKING_ANALYSIS_OPTIONS } from './booking-analysis.ts';
export type { BookingAnalysisOptions } from './booking-analysis.ts';
export * from './bookings.schema.ts';
export { readFeed } from './feed-reader.ts';
export type { FeedCache } from './feed-reader.ts';
export { expandSlots, parseCalendar } from './ics-slots.ts';
export { loadBookings } from './load-bookings.ts';
export type { LoadBookingsDeps } from './load-bookings.ts';
export { presenceTimeline } from './presence-timeline.ts';
export type { PresenceSegment, PresenceState } from './presence-timeline.ts';
export { bookingsQuerySchema, bookingsResponseSchema, bookingsRoutes, createBookingsQuery } from './bookings-routes.ts';
export type { BookingsQuery, BookingsResponse, BookingsRoutesDeps } from './bookings-routes.ts';

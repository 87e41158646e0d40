/**
 * GET /api/v1/bookings (issue 6 "Interfaces": HTTP API, analyst role): ghost bookings, unbooked use,
 * booked hours and the booking-to-occupancy ratio per bookable room for Oslo local days, weeks or
 * months. Slots come from the rooms' ICS feeds (loadBookings, with the feed cache kept between
 * requests); presence from the raw readings in InfluxDB through the metrics reader, assigned to
 * rooms with the same AssignmentLookup as the metrics engine.
 *
 * Raw readings are read per request, so the range is bounded (default 31 days); the lead mounts
 * `bookingsRoutes` in ingest/service.ts.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';
import { slugSchema } from '../../devices/contract/reading.schema.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { ApiError, defineRoute, type AnyRoute } from '../../ingest/api/route.ts';
import type { MetricsStore } from '../metrics/influx-metrics-reader.ts';
import { DEFAULT_METRICS_OPTIONS } from '../metrics/metrics-engine.ts';
import type { AssignmentLookup, MetricsOptions, PresenceSample } from '../metrics/metrics-engine.ts';
import { parseLocalPeriod } from '../metrics/metrics-routes.ts';
import { analyseBookings } from './booking-analysis.ts';
import { bookingAnalysisResultSchema, feedErrorSchema } from './bookings.schema.ts';
import type { BookingsConfig } from './bookings.schema.ts';
import type { FeedCache } from './feed-reader.ts';
import { loadBookings } from './load-bookings.ts';
import { presenceTimeline } from './presence-timeline.ts';

const DAY_MS = 86_400_000;

const localPeriodText = z
  .string()
  .max(10)
  .refine((s) => parseLocalPeriod(s) !== null, { message: 'an Oslo local date (2026-10-20), ISO week (2026-W43) or month (2026-10)' });

export const bookingsQuerySchema = z
  .object({
    from: localPeriodText,
    /** Inclusive; default: `from`. */
    to: localPeriodText.optional(),
    /** Default: every torg. */
    torg: slugSchema.optional(),
    lang: z.enum(['nb', 'en']).optional(),
  })
  .strict();
export type BookingsQuery = z.infer<typeof bookingsQuerySchema>;

export const bookingsResponseSchema = bookingAnalysisResultSchema
  .extend({
    query: z.object({ from: z.string(), to: z.string(), torg: z.string().nullable() }),
    /** Feeds that failed for this request; their rooms count only cached or no slots. */
    feedErrors: z.array(feedErrorSchema),
  })
  .meta({ id: 'BookingsResponse' });
export type BookingsResponse = z.infer<typeof bookingsResponseSchema>;

export interface BookingsRoutesDeps {
  config: BookingsConfig;
  /** Folder that relative feed paths are resolved against. */
  baseDir: string;
  torgs: readonly Torg[];
  store: Pick<MetricsStore, 'readRaw'>;
  assignments: AssignmentLookup;
  /** Presence reporting rules; the same object the metrics engine gets. */
  options?: Partial<MetricsOptions>;
  /** Kept across requests: ETag revalidation and the last good copy of each feed. */
  cache?: FeedCache;
  fetch?: typeof fetch;
  logger?: Pick<Logger, 'warn'>;
  /** Longest range in days (default 31). */
  maxRangeDays?: number;
}

function invalid(path: string, message: string): ApiError {
  return ApiError.of('E_API_INVALID_REQUEST', { in: 'query', issues: [{ path, message }] });
}

/** The query behind the route, usable without HTTP (reports, indicators). */
export function createBookingsQuery(deps: BookingsRoutesDeps): (q: BookingsQuery) => Promise<BookingsResponse> {
  const o: MetricsOptions = { ...DEFAULT_METRICS_OPTIONS, ...deps.options };
  const cache: FeedCache = deps.cache ?? new Map();
  const maxRangeDays = deps.maxRangeDays ?? 31;
  // Readings up to one reporting window before the period still hold into it.
  const lookbackMs = Math.max(o.defaultExpectedIntervalMs, ...Object.values(o.expectedIntervalMs)) * o.reportingFactor;

  return async (q) => {
    const from = parseLocalPeriod(q.from)!;
    const to = parseLocalPeriod(q.to ?? q.from)!;
    if (to.endMs <= from.startMs) throw invalid('to', 'must not be before from');
    const fromMs = from.startMs;
    const toMs = Math.max(from.endMs, to.endMs);
    if (toMs - fromMs > (maxRangeDays + 1) * DAY_MS) throw invalid('to', `at most ${maxRangeDays} days per request`);
    const torgs = q.torg === undefined ? deps.torgs : deps.torgs.filter((t) => t.id === q.torg);
    if (torgs.length === 0) throw ApiError.of('E_API_NOT_FOUND', { torg: q.torg });
    try {
      const config: BookingsConfig = q.torg === undefined ? deps.config : { ...deps.config, feeds: { [q.torg]: deps.config.feeds[q.torg] ?? {} } };
      const loaded = await loadBookings(config, { fromMs, toMs }, { cache, baseDir: deps.baseDir, fetch: deps.fetch, logger: deps.logger });
      const presence = new Map<string, ReturnType<typeof presenceTimeline>>();
      for (const torg of torgs) {
        const raw = await deps.store.readRaw(torg.id, fromMs - lookbackMs, toMs);
        const byZone = new Map<string, PresenceSample[]>();
        for (const s of raw.presence) {
          const a = deps.assignments(s.device, s.time);
          if (a?.torg !== torg.id || a.place.type !== 'zone') continue;
          const list = byZone.get(a.place.zone) ?? [];
          list.push(s);
          byZone.set(a.place.zone, list);
        }
        for (const [zone, samples] of byZone) presence.set(`${torg.id}/${zone}`, presenceTimeline(samples, fromMs, toMs, o));
      }
      const result = analyseBookings({
        torgs,
        fromMs,
        toMs,
        slots: loaded.slots,
        presence,
        categories: deps.config.categories.map((c) => c.id),
        options: { ghostMinutes: deps.config.ghostMinutes, minSlotCoverage: deps.config.minSlotCoverage, completenessThreshold: o.completenessThreshold },
      });
      return { ...result, query: { from: q.from, to: q.to ?? q.from, torg: q.torg ?? null }, feedErrors: loaded.errors };
    } catch (err) {
      if (err instanceof PlatformError && err.retriable) throw ApiError.of('E_API_UNAVAILABLE', { code: err.code });
      throw err;
    }
  };
}

export function bookingsRoutes(deps: BookingsRoutesDeps): AnyRoute[] {
  const query = createBookingsQuery(deps);
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/bookings',
      access: 'analyst',
      tag: 'bookings',
      summary:
        'Bookinger mot faktisk bruk per rom: spøkelsesbookinger, ubooket bruk, bookede timer (Oslo-tid) / bookings against actual use per room: ghost bookings, unbooked use, booked hours (Oslo time)',
      query: bookingsQuerySchema,
      response: bookingsResponseSchema,
      handler: async (ctx) => query(ctx.query),
    }),
  ];
}

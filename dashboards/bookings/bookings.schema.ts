/**
 * Bookings (issue 6): the config that maps bookable rooms to ICS feeds, and the zod schemas of
 * everything this folder returns, so an HTTP route can validate and serve it as is.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { readJsonConfig } from '../../devices/contract/config-file.ts';
import { PlatformError } from '../../devices/contract/errors.ts';
import { slugSchema } from '../../devices/contract/reading.schema.ts';

/** An http(s) URL or a file path (relative paths are resolved against the config file's folder). */
export const feedSourceSchema = z.string().min(1);

/** The category id an old config's `localGroups` becomes, and the one "hours of room use by local groups" reads. */
export const LOCAL_GROUP_CATEGORY = 'lokal-gruppe';

const matchRuleShape = {
  /** CATEGORIES (any of the event's categories matches) or the ORGANIZER's CN, else its address. */
  field: z.enum(['categories', 'organizer']).default('categories'),
  /** Matched case-insensitively against the whole value. */
  values: z.array(z.string().min(1)).default([]),
};

/**
 * A named booking category (issue 6 indicators: "hours of room use by local groups", "attendance at
 * local-democracy meetings"): the slots whose field matches one of the values. A slot may belong to
 * several categories.
 */
export const bookingCategoryRuleSchema = z.object({ id: slugSchema, ...matchRuleShape }).strict();
export type BookingCategoryRule = z.output<typeof bookingCategoryRuleSchema>;

export const bookingsConfigSchema = z
  .object({
    version: z.literal(1),
    /** Marks shipped sample data (as config/torg.asker.sample.json does). */
    sample: z.boolean().default(false),
    /** torg id → zone id → feed source. */
    feeds: z.record(slugSchema, z.record(slugSchema, feedSourceSchema)),
    categories: z.array(bookingCategoryRuleSchema).default([]),
    /**
     * The single classification of configs written before `categories`; read as the category
     * `lokal-gruppe` so existing files keep working.
     */
    localGroups: z.object(matchRuleShape).strict().optional(),
    /** Issue 6: "booked, and no presence for at least 15 minutes of the slot". */
    ghostMinutes: z.number().int().min(1).max(240).default(15),
    /** A slot whose presence was reported for less than this share of it is "unknown", never a ghost. */
    minSlotCoverage: z.number().min(0).max(1).default(0.8),
    fetch: z
      .object({
        timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
        maxBytes: z.number().int().min(1024).max(50_000_000).default(5_000_000),
      })
      .strict()
      .default({ timeoutMs: 10_000, maxBytes: 5_000_000 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.categories.forEach((cat, i) => {
      if (seen.has(cat.id)) ctx.addIssue({ code: 'custom', path: ['categories', i, 'id'], message: `category "${cat.id}" is defined twice` });
      seen.add(cat.id);
    });
    if (c.localGroups && seen.has(LOCAL_GROUP_CATEGORY)) {
      ctx.addIssue({ code: 'custom', path: ['localGroups'], message: `both localGroups and categories define "${LOCAL_GROUP_CATEGORY}"; keep only the categories entry` });
    }
  })
  .transform(({ localGroups, ...rest }) => ({
    ...rest,
    categories: localGroups ? [{ id: LOCAL_GROUP_CATEGORY, ...localGroups }, ...rest.categories] : rest.categories,
  }));
export type BookingsConfig = z.output<typeof bookingsConfigSchema>;

/** A feed source resolved: a URL or an absolute file path. */
export type ResolvedSource = { kind: 'url'; url: string } | { kind: 'file'; path: string };

export function resolveSource(source: string, baseDir: string): ResolvedSource {
  if (/^https?:\/\//i.test(source)) return { kind: 'url', url: source };
  return { kind: 'file', path: isAbsolute(source) ? source : resolve(baseDir, source) };
}

/** Reads and validates a bookings config file; the error names the bad key. */
export function loadBookingsConfig(path: string): { config: BookingsConfig; baseDir: string } {
  const raw = readJsonConfig(path);
  const parsed = bookingsConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new PlatformError('E_CONFIG_INVALID', `${path}: ${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'}`);
  }
  return { config: parsed.data, baseDir: dirname(path) };
}

/** One concrete booked slot [startMs, endMs) of one room. */
export const bookingSlotSchema = z
  .object({
    torg: z.string(),
    zone: z.string(),
    uid: z.string(),
    summary: z.string(),
    startMs: z.number().int(),
    endMs: z.number().int(),
    allDay: z.boolean(),
    /** A RECURRENCE-ID override replaced the rule's instance. */
    override: z.boolean(),
    categories: z.array(z.string()),
    organizer: z.string().nullable(),
    /** Ids of the configured booking categories (config `categories`) the slot belongs to, in config order. */
    bookingCategories: z.array(z.string()),
  })
  .strict();
export type BookingSlot = z.infer<typeof bookingSlotSchema>;

export const feedErrorSchema = z
  .object({
    torg: z.string(),
    zone: z.string(),
    code: z.enum(['E_BOOKING_FEED_UNAVAILABLE', 'E_BOOKING_FEED_INVALID']),
    retriable: z.boolean(),
    message: z.string(),
    /** The slots served for this room come from the last good copy of the feed. */
    servedFromCache: z.boolean(),
  })
  .strict();
export type FeedError = z.infer<typeof feedErrorSchema>;

export const loadedBookingsSchema = z
  .object({
    fromMs: z.number().int(),
    toMs: z.number().int(),
    slots: z.array(bookingSlotSchema),
    errors: z.array(feedErrorSchema),
  })
  .strict();
export type LoadedBookings = z.infer<typeof loadedBookingsSchema>;

export const slotStatusSchema = z.enum(['used', 'ghost', 'unknown']);

export const slotAnalysisSchema = z
  .object({
    uid: z.string(),
    summary: z.string(),
    startMs: z.number().int(),
    endMs: z.number().int(),
    bookingCategories: z.array(z.string()),
    status: slotStatusSchema,
    /** Why a slot is unknown: presence reported for too little of it, or too short to have ghostMinutes without presence. */
    unknownReason: z.enum(['not-reported', 'too-short']).nullable(),
    /** Share of the slot (within the period) with the zone's presence reporting. */
    coverage: z.number(),
    occupiedHours: z.number(),
    bookedOpenHours: z.number(),
    /**
     * Peak head count of the room during the slot (highest Σ count held for any positive duration of
     * its reported time); null when no presence sensor of the room counted people during the slot
     * (`no-headcount`) or presence was reported for less than minSlotCoverage of it (`not-reported`).
     */
    attendance: z.number().min(0).nullable(),
    attendanceUnknownReason: z.enum(['no-headcount', 'not-reported']).nullable(),
  })
  .strict();
export type SlotAnalysis = z.infer<typeof slotAnalysisSchema>;

export const categoryAnalysisSchema = z
  .object({
    id: z.string(),
    slots: z.number().int(),
    /** Σ booked open hours of the category's slots (overlapping slots of one category each count). */
    bookedHours: z.number(),
    /** Booked open hours of the category's slots that were used (not ghost, not unknown). */
    usedBookedHours: z.number(),
    ghosts: z.number().int(),
    /** Σ attendance of the slots that have one; null when none of the slots has one (0 with no slots). */
    attendance: z.number().min(0).nullable(),
    /** Slots whose attendance is known; attendance undercounts when this is below `slots`. */
    slotsWithAttendance: z.number().int(),
  })
  .strict();
export type CategoryAnalysis = z.infer<typeof categoryAnalysisSchema>;

export const zoneBookingAnalysisSchema = z
  .object({
    torg: z.string(),
    zone: z.string(),
    slots: z.number().int(),
    /** Booked time (union of slots, overlaps counted once) within the torg's open time. */
    bookedHours: z.number(),
    /** Booked time outside open time (e.g. an all-day booking's night), reported apart. */
    bookedHoursClosed: z.number(),
    ghost: z.object({ count: z.number().int(), share: z.number().nullable(), hours: z.number() }).strict(),
    used: z.number().int(),
    unknown: z.number().int(),
    /** Occupied, reported open time outside every slot. */
    unbookedUseHours: z.number(),
    /** Occupied, reported closed time outside every slot. */
    unbookedUseHoursClosed: z.number(),
    /** Occupied ÷ booked hours, both over open time with presence reporting; null with no booked reported time. */
    bookingToOccupancyRatio: z.number().nullable(),
    /** Share of booked, reported open time that was occupied. */
    bookedTimeOccupiedShare: z.number().nullable(),
    /** One entry per configured booking category (config order), then any other category of the room's slots. */
    categories: z.array(categoryAnalysisSchema),
    /** Share of the period's open time with the zone's presence reporting; null when the period has no open time (then not low). */
    completeness: z.number().min(0).max(1).nullable(),
    lowCompleteness: z.boolean(),
    slotDetails: z.array(slotAnalysisSchema),
  })
  .strict();
export type ZoneBookingAnalysis = z.infer<typeof zoneBookingAnalysisSchema>;

export const bookingAnalysisResultSchema = z
  .object({
    fromMs: z.number().int(),
    toMs: z.number().int(),
    rules: z.object({ ghost: z.string(), bookedHours: z.string(), unbookedUse: z.string(), ratio: z.string(), presence: z.string(), attendance: z.string() }).strict(),
    zones: z.array(zoneBookingAnalysisSchema),
  })
  .strict();
export type BookingAnalysisResult = z.infer<typeof bookingAnalysisResultSchema>;

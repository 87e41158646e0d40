/**
 * The live state served to facility staff (issue 5): GET /api/v1/live, /api/v1/live/{torg} and the
 * SSE stream carry these shapes; the live page renders them. Defined once for the server and the page.
 *
 * Honesty rules (issue 5: "A stale value is shown as stale, never as current"):
 * - every value carries the time it was observed (`at`) and a `fresh` flag computed by the server
 *   from the device's liveness; the page shows stale values greyed with their age, never as now;
 * - unknown is `null`, never 0 (an empty room and a room we know nothing about look different).
 */
import { z } from 'zod';

const instant = z.number().int().nonnegative();
const quality = { at: instant.nullable(), fresh: z.boolean() };

export const LIVENESS_STATES = ['never_seen', 'online', 'stale', 'offline'] as const;
export const CO2_BANDS = ['good', 'watch', 'act'] as const;
/** CO2 bands (issue 5): below 800 ppm good, 800–1000 watch, above 1000 act. */
export function co2Band(ppm: number): (typeof CO2_BANDS)[number] {
  return ppm < 800 ? 'good' : ppm <= 1000 ? 'watch' : 'act';
}

export const driftCorrectionSchema = z.object({
  at: instant,
  cause: z.enum(['below_zero', 'closing_reset']),
  /** People added (+, clamping a negative value to 0) or removed (−, reset at closing). */
  size: z.number().int(),
});

export const torgOccupancySchema = z
  .object({
    /** In − out accumulated over the Oslo day, never below zero; null before any counter reported today. */
    people: z.number().int().nonnegative().nullable(),
    capacity: z.number().int().positive(),
    visitsToday: z.number().int().nonnegative(),
    /** Per entrance line: today's in/out and share of today's visits (0–1; null with no visits). */
    lines: z.array(z.object({ entrance: z.string(), line: z.string(), in: z.number().int(), out: z.number().int(), share: z.number().min(0).max(1).nullable() })),
    driftToday: z.array(driftCorrectionSchema),
    /** People present through the day so far, for the small chart: [epoch ms, people] at most every 5 min. */
    series: z.array(z.tuple([instant, z.number().int().nonnegative()])),
    ...quality,
  })
  .meta({ id: 'LiveTorgOccupancy' });

export const zoneLiveSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    module: z.string(),
    capacity: z.number().int(),
    fireMax: z.number().int(),
    /** Null: no fresh presence reading (unknown). */
    occupied: z.boolean().nullable(),
    /** Head count where a sensor gives one. */
    count: z.number().int().nonnegative().nullable(),
    /** Since when occupied/free (the last change seen). */
    since: instant.nullable(),
    climate: z
      .object({
        temperature: z.number().nullable(),
        humidity: z.number().nullable(),
        co2: z.number().nullable(),
        co2Band: z.enum(CO2_BANDS).nullable(),
        ...quality,
      })
      .nullable(),
    ...quality,
  })
  .meta({ id: 'LiveZone' });

export const doorLiveSchema = z
  .object({ device: z.string(), zone: z.string().nullable(), name: z.string(), open: z.boolean().nullable(), since: instant.nullable(), ...quality })
  .meta({ id: 'LiveDoor' });

export const deviceHealthSchema = z
  .object({
    device: z.string(),
    model: z.string().nullable(),
    place: z.string().nullable(),
    state: z.enum(LIVENESS_STATES),
    lastSeenAt: instant.nullable(),
    /** Battery %, null for mains devices or when unknown. */
    battery: z.number().min(0).max(100).nullable(),
  })
  .meta({ id: 'LiveDeviceHealth' });

export const liveAlertSchema = z
  .object({
    id: z.string(),
    rule: z.string(),
    torg: z.string(),
    subject: z.string(),
    severity: z.string(),
    since: instant,
    message: z.object({ nb: z.string(), en: z.string() }),
  })
  .meta({ id: 'LiveAlert' });

export const torgLiveSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** From the opening hours at `generatedAt`. */
    openingStatus: z.enum(['staffed', 'meraapent', 'closed']),
    occupancy: torgOccupancySchema,
    zones: z.array(zoneLiveSchema),
    doors: z.array(doorLiveSchema),
    devices: z.array(deviceHealthSchema),
    alerts: z.array(liveAlertSchema),
  })
  .meta({ id: 'LiveTorg' });
export type TorgLive = z.infer<typeof torgLiveSchema>;

export const liveOverviewSchema = z
  .object({ generatedAt: instant, torg: z.array(torgLiveSchema) })
  .meta({ id: 'LiveOverview' });
export type LiveOverview = z.infer<typeof liveOverviewSchema>;

/**
 * One SSE event (`event: change`, `data:` this JSON): the torg whose state changed and its new state.
 * Whole-torg granularity keeps the page simple; a torg's state is a few kB.
 */
export const liveChangeSchema = z.object({ at: instant, torg: torgLiveSchema }).meta({ id: 'LiveChange' });
export type LiveChange = z.infer<typeof liveChangeSchema>;

/** Citizens' view: coarse bands only, never counts (issue 5 "hvor travelt er det nå?", product.md "Privacy"). */
export const BUSY_BANDS = ['ledig', 'litt-travelt', 'travelt'] as const;
export const publicBusySchema = z
  .object({
    generatedAt: instant,
    torg: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        open: z.boolean(),
        /** Null when closed or when the data is stale: nothing is shown rather than a guess. */
        now: z.enum(BUSY_BANDS).nullable(),
        /** How busy it usually is at this hour on this weekday (from history), null without enough history. */
        usual: z.enum(BUSY_BANDS).nullable(),
      }),
    ),
  })
  .meta({ id: 'PublicBusy' });
export type PublicBusy = z.infer<typeof publicBusySchema>;

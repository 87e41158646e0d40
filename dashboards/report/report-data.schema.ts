/**
 * Everything the monthly report for prosjektstyre shows (issue 7), already computed and already
 * privacy-suppressed, independent of language: renderReportHtml only formats and draws it, the
 * JSON answer of GET /api/v1/report is this object. Built by buildReport (build-report.ts) from the
 * same functions that answer the HTTP API, so a number here equals the API's for the same month.
 *
 * Suppression (product.md "Privacy": board and public views suppress very small counts): a count of
 * people — visits, peak occupancy, booking attendance, an indicator that is such a count or such a
 * count per resident — below `minCount` (0 included) is `{ value: null, suppressed: true }`; a count
 * of exactly `minCount` is shown. A difference that would let a suppressed count be recovered (the
 * trend against a suppressed month, a share of suppressed visits) is null with it.
 * `{ value: null, suppressed: false }` means no data. Time averages and shares of time (average
 * occupancy, utilisation, compliance) are not counts and are shown as they are.
 */
import { z } from 'zod';
import { MODULE_TYPES } from '../../devices/torg/torg-config.schema.ts';
import { INDICATOR_STATUSES } from '../indicators/indicator-engine.ts';
import { RECOMMENDATION_KINDS } from '../skalering/recommend.ts';

const share = z.number().min(0).max(1).nullable();
const text = z.object({ nb: z.string(), en: z.string() }).strict();

/** A count of people under the suppression rule: value null and suppressed true when below minCount. */
export const suppressibleSchema = z
  .object({ value: z.number().min(0).nullable(), suppressed: z.boolean() })
  .strict()
  .refine((c) => !c.suppressed || c.value === null, { message: 'a suppressed count has no value' });
export type Suppressible = z.infer<typeof suppressibleSchema>;

/** Change against the previous month; null when either month has no value or is suppressed. */
export const trendSchema = z
  .object({
    previous: suppressibleSchema,
    /** current − previous. */
    absolute: z.number().nullable(),
    /** (current − previous) ÷ previous; null also when previous is 0. */
    relative: z.number().nullable(),
  })
  .strict();
export type Trend = z.infer<typeof trendSchema>;

export const openHoursSchema = z
  .object({
    /** Hours of the local month (744, or 745 in October and 743 in March: the DST change days). */
    month: z.number().min(0),
    staffed: z.number().min(0),
    meraapent: z.number().min(0),
  })
  .strict();

export const moduleUsageSchema = z
  .object({
    module: z.enum(MODULE_TYPES),
    /** Configured capacity of the module's zones. */
    capacity: z.number().int().min(0),
    /** Mean utilisation over open time (occupancy ÷ capacity), split `all` month row of the module. */
    utilisation: z.number().min(0).nullable(),
    timeUsedShare: share,
    peakOccupancy: suppressibleSchema,
    completeness: share,
    lowCompleteness: z.boolean(),
  })
  .strict();
export type ModuleUsage = z.infer<typeof moduleUsageSchema>;

export const ghostBookingsSchema = z
  .object({
    bookableZones: z.number().int().min(0),
    /** Booked slots, ghost slots (no presence for ghostMinutes) and slots whose presence was unknown. */
    slots: z.number().int().min(0),
    ghosts: z.number().int().min(0),
    unknown: z.number().int().min(0),
    /** ghosts ÷ slots that were used or ghost (the bookings API's rule); null when there were none. */
    ghostShare: share,
    bookedHours: z.number().min(0),
    ghostHours: z.number().min(0),
    unbookedUseHours: z.number().min(0),
    /** Σ attendance of slots with a head count (people: suppressed below minCount). */
    attendance: suppressibleSchema,
    lowCompleteness: z.boolean(),
  })
  .strict();
export type GhostBookings = z.infer<typeof ghostBookingsSchema>;

export const dailyVisitsSchema = z.object({ date: z.string(), visits: suppressibleSchema }).strict();

export const torgSectionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    openHours: openHoursSchema,
    /** Entrance-line count in the month's open time (split `all` = staffed + meråpent; closed time apart). */
    visits: suppressibleSchema,
    visitsTrend: trendSchema,
    /** Visits in staffed, meråpent and closed time. */
    visitsBySplit: z.object({ staffed: suppressibleSchema, meraapent: suppressibleSchema, closed: suppressibleSchema }).strict(),
    /** Meråpent use: visits in meråpent time, their share of all visits, and the meråpent time used. */
    meraapent: z
      .object({ openHours: z.number().min(0), visits: suppressibleSchema, shareOfVisits: share, timeUsedShare: share })
      .strict(),
    avgOccupancy: z.number().min(0).nullable(),
    peakOccupancy: suppressibleSchema,
    utilisation: z.number().min(0).nullable(),
    modules: z.array(moduleUsageSchema),
    climate: z.object({ co2Compliance: share, temperatureCompliance: share, humidityCompliance: share }).strict(),
    /** null when no booking source is configured. */
    ghostBookings: ghostBookingsSchema.nullable(),
    completeness: share,
    lowCompleteness: z.boolean(),
    dailyVisits: z.array(dailyVisitsSchema),
  })
  .strict();
export type TorgSection = z.infer<typeof torgSectionSchema>;

export const reportIndicatorSchema = z
  .object({
    effectGoal: z.number().int().min(1).max(4),
    indicator: z.string(),
    name: text,
    unit: text,
    scopeId: z.string(),
    /** Display name of the torg, or the municipality name. */
    scopeName: z.string(),
    value: z.number().nullable(),
    /** The value is (or reveals) a count of people below minCount; value and trend are then null. */
    suppressed: z.boolean(),
    expected: z.number(),
    status: z.enum(INDICATOR_STATUSES),
    trendVsPreviousMonth: z.number().nullable(),
    completeness: share,
    lowCompleteness: z.boolean(),
    missing: z.array(z.string()),
  })
  .strict();
export type ReportIndicator = z.infer<typeof reportIndicatorSchema>;

export const reportRecommendationSchema = z
  .object({
    torg: z.string(),
    torgName: z.string(),
    module: z.enum(MODULE_TYPES).nullable(),
    kind: z.enum(RECOMMENDATION_KINDS),
    message: text,
    weeksMet: z.number().int().min(0),
    weeksWithData: z.number().int().min(0),
    minWeeks: z.number().int().min(0),
    windowWeeks: z.number().int().min(1),
    /** The weeks and numbers behind it (recommend.ts weekEvidence). */
    evidence: z.array(
      z.object({ week: z.string(), values: z.record(z.string(), z.number().nullable()), met: z.boolean(), lowCompleteness: z.boolean() }).strict(),
    ),
  })
  .strict();
export type ReportRecommendation = z.infer<typeof reportRecommendationSchema>;

export const statusCountsSchema = z
  .object(Object.fromEntries(INDICATOR_STATUSES.map((s) => [s, z.number().int().min(0)])) as Record<(typeof INDICATOR_STATUSES)[number], z.ZodNumber>)
  .strict();

export const dataQualityTorgSchema = z
  .object({
    torg: z.string(),
    name: z.string(),
    /**
     * Share of the month's open time (staffed + meråpent) that every sensor behind the torg was
     * reporting: the completeness of the torg's month row of split `all` (= all open time).
     */
    uptime: share,
    /** uptime × open hours: open hours with every sensor reporting. */
    reportingHours: z.number().min(0).nullable(),
    /** Staffed + meråpent hours of the month from the torg's opening hours, holidays and exceptions. */
    openHours: z.number().min(0),
    lowCompleteness: z.boolean(),
    /** Counter drift corrected: people added by below-zero clamps, removed by closing resets. */
    drift: z.object({ belowZero: z.number().min(0), closingReset: z.number().min(0) }).strict().nullable(),
    deadLetters: z.number().int().min(0),
  })
  .strict();

export const reportDataSchema = z
  .object({
    /** Oslo local month `2026-10`, its start and end (ms, half-open), and the month before. */
    month: z.string().regex(/^\d{4}-\d{2}$/),
    startMs: z.number().int(),
    endMs: z.number().int(),
    previousMonth: z.string().regex(/^\d{4}-\d{2}$/),
    generatedAt: z.number().int(),
    municipality: z.string(),
    /** Counts of people below this are suppressed. */
    minCount: z.number().int().min(1),
    definitionVersions: z
      .object({
        /** Indicator definition file version; null with no indicators. */
        indicators: z.string().nullable(),
        /** Skalering rules version; null with no recommendations. */
        recommendations: z.string().nullable(),
      })
      .strict(),
    rules: z
      .object({ hold: z.string(), gaps: z.string(), completenessThreshold: z.number(), indicatorStatus: z.string().nullable(), bookingsGhost: z.string().nullable() })
      .strict(),
    summary: z
      .object({
        visits: suppressibleSchema,
        visitsTrend: trendSchema,
        completeness: share,
        lowCompleteness: z.boolean(),
        indicatorStatus: statusCountsSchema,
        /** The recommendations that ask for a change (not `hold`), most weeks met first, at most five. */
        mainRecommendations: z.array(reportRecommendationSchema),
      })
      .strict(),
    torgs: z.array(torgSectionSchema),
    indicators: z.array(reportIndicatorSchema),
    recommendations: z
      .object({ weeks: z.array(z.string()), items: z.array(reportRecommendationSchema) })
      .strict(),
    dataQuality: z
      .object({
        torgs: z.array(dataQualityTorgSchema),
        deadLetters: z
          .object({
            total: z.number().int().min(0),
            byCode: z.array(z.object({ code: z.string(), count: z.number().int().min(0) }).strict()),
            /** Dead letters whose topic named no known torg. */
            unattributed: z.number().int().min(0),
          })
          .strict(),
        /** Days of the month (and the month before) computed for the report, and days still without stored hours. */
        computedDays: z.array(z.string()),
        missingDays: z.array(z.string()),
      })
      .strict(),
  })
  .strict();
export type ReportData = z.infer<typeof reportDataSchema>;

/**
 * The metric row served over HTTP and written (hourly) to InfluxDB. Every ratio is null when its
 * denominator is zero (no open time, no reporting sensor, nobody present) — never 0 by default.
 */
import { z } from 'zod';

export const SCOPES = ['zone', 'module', 'torg', 'municipality'] as const;
export const PERIODS = ['hour', 'day', 'week', 'month'] as const;
export const SPLITS = ['staffed', 'meraapent', 'closed', 'all'] as const;

const share = z.number().min(0).max(1).nullable();

export const metricRowSchema = z
  .object({
    scope: z.enum(SCOPES),
    /** zone id, `${torg}/${module}`, torg id, or the municipality name. */
    scopeId: z.string().min(1),
    /** Torg the scope belongs to; null for the municipality. */
    torg: z.string().nullable(),
    period: z.enum(PERIODS),
    start: z.number().int(),
    end: z.number().int(),
    /** Oslo local: 2026-10-25, 2026-W43, 2026-10, 2026-10-25T02 (the repeated hour of a fall-back day carries its offset). */
    label: z.string(),
    split: z.enum(SPLITS),
    /** Entrance-line counts; null for zones and modules (they have no counting lines). */
    visits: z.number().int().min(0).nullable(),
    avgOccupancy: z.number().min(0).nullable(),
    peakOccupancy: z.number().min(0).nullable(),
    /**
     * Module rows: the most of the module's rooms occupied at the same moment while every member
     * reported (issue 6 dimensioning); null for other scopes, without reported time, and where a
     * merged hour was stored before this field existed. Absent (an older server) reads as null.
     */
    peakRoomsInUse: z.number().int().min(0).nullable().default(null),
    utilisation: z.number().min(0).nullable(),
    timeUsedShare: share,
    dwell: z.object({
      count: z.number().int().min(0),
      meanMinutes: z.number().min(0).nullable(),
      p50Minutes: z.number().min(0).nullable(),
      maxMinutes: z.number().min(0).nullable(),
    }),
    timeAtTarget: z.object({ under60: share, from60to100: share, over100: share }),
    busiestDay: z.string().optional(),
    busiestHour: z.string().optional(),
    climate: z.object({ co2Compliance: share, temperatureCompliance: share, humidityCompliance: share }),
    /** Counter drift corrected in the period (torg and municipality rows; null elsewhere): people added by clamps, removed by closing resets. */
    drift: z.object({ belowZero: z.number().min(0), closingReset: z.number().min(0) }).nullable(),
    /** Share of the split's time in the period that the sensors behind the scope were reporting. */
    completeness: share,
    lowCompleteness: z.boolean(),
  })
  .strict();

export type MetricRow = z.infer<typeof metricRowSchema>;
export type Scope = (typeof SCOPES)[number];
export type PeriodKind = (typeof PERIODS)[number];
export type Split = (typeof SPLITS)[number];

export const metricsResultSchema = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    /** The gap and hold rules the numbers were computed under, stated with the numbers (issue 6). */
    rules: z.object({ hold: z.string(), gaps: z.string(), completenessThreshold: z.number() }),
    rows: z.array(metricRowSchema),
  })
  .strict();
export type MetricsResult = z.infer<typeof metricsResultSchema>;

/**
 * The effektmål indicator definition file (config/indicators.sample.json): what each indicator
 * measures, as a formula over metric rows and booking facts. Formulas are a fixed set of kinds
 * evaluated by indicator-engine.ts — data, never code, so a definition file cannot run anything.
 *
 * The file carries a `version`; every computed value is stored with the version it was computed
 * under, so a changed definition never silently rewrites the meaning of last year's numbers.
 */
import { z } from 'zod';
import { parseConfig, readJsonConfig } from '../../devices/contract/config-file.ts';
import { slugSchema } from '../../devices/contract/reading.schema.ts';
import { SPLITS } from '../metrics/metric-row.schema.ts';

const monthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM');

/** Row values an indicator can read; the climate ones are the compliance shares of metric rows. */
export const METRIC_FIELDS = [
  'visits',
  'avgOccupancy',
  'peakOccupancy',
  'utilisation',
  'timeUsedShare',
  'co2Compliance',
  'temperatureCompliance',
  'humidityCompliance',
] as const;
export type MetricField = (typeof METRIC_FIELDS)[number];

/** A month metric row of the torg the indicator is evaluated for, or of the municipality. */
export const metricRefSchema = z
  .object({
    metric: z.enum(METRIC_FIELDS),
    scope: z.enum(['torg', 'municipality']),
    split: z.enum(SPLITS).default('all'),
  })
  .strict();
export type MetricRef = z.infer<typeof metricRefSchema>;

export const bookingRefSchema = z
  .object({
    field: z.enum(['bookedHours', 'events', 'attendance']),
    /** Booking categories summed (as the bookings import names them). */
    categories: z.array(z.string().min(1)).min(1),
  })
  .strict();
export type BookingRef = z.infer<typeof bookingRefSchema>;

export const operandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('metric'), ref: metricRefSchema }).strict(),
  z.object({ kind: z.literal('booking'), ref: bookingRefSchema }).strict(),
  /** Residents of the torg (or of all torg, for the municipality) from the torg model, divided by `per`. */
  z.object({ kind: z.literal('population'), per: z.number().positive().default(1000) }).strict(),
  z.object({ kind: z.literal('constant'), value: z.number().positive() }).strict(),
]);
export type Operand = z.infer<typeof operandSchema>;

export const formulaSchema = z.discriminatedUnion('kind', [
  /** A metric or booking value as it is. */
  z.object({ kind: z.literal('value'), of: operandSchema }).strict(),
  /** numerator ÷ denominator (a share when both are metrics of one field, e.g. meråpent visits ÷ all visits). */
  z.object({ kind: z.literal('ratio'), numerator: operandSchema, denominator: operandSchema }).strict(),
  /**
   * Inequality across the torg of the municipality (one value for the municipality): `cv` is the
   * population standard deviation ÷ mean, `gini` the mean absolute difference ÷ (2 × mean). Over the
   * value of `numerator` (÷ population per `perCapita` when set) for each torg.
   */
  z
    .object({
      kind: z.literal('dispersion'),
      measure: z.enum(['cv', 'gini']),
      numerator: operandSchema,
      perCapita: z.number().positive().optional(),
    })
    .strict(),
]);
export type Formula = z.infer<typeof formulaSchema>;

export const indicatorDefinitionSchema = z
  .object({
    id: slugSchema,
    /** The project mandate's effect goal (effektmål) 1–4 the indicator evidences. */
    effectGoal: z.number().int().min(1).max(4),
    name: z.object({ nb: z.string().min(1), en: z.string().min(1).optional() }).strict(),
    /** Computed per torg, or once for the whole municipality. */
    per: z.enum(['torg', 'municipality']),
    formula: formulaSchema,
    unit: z.object({ nb: z.string().min(1), en: z.string().min(1).optional() }).strict(),
    baseline: z.object({ value: z.number(), month: monthSchema }).strict(),
    target: z.object({ value: z.number(), month: monthSchema }).strict(),
    direction: z.enum(['higher-is-better', 'lower-is-better']),
    owner: z.string().min(1),
  })
  .strict()
  .refine((d) => d.target.month > d.baseline.month, { message: 'target.month must be after baseline.month', path: ['target', 'month'] })
  .refine((d) => d.formula.kind !== 'dispersion' || d.per === 'municipality', { message: 'a dispersion indicator is per municipality', path: ['per'] })
  .superRefine((d, ctx) => {
    // A municipality value read from a torg row would have to pick one torg; only dispersion reads every torg.
    if (d.per !== 'municipality' || d.formula.kind === 'dispersion') return;
    const operands = d.formula.kind === 'value' ? [['of', d.formula.of] as const] : [['numerator', d.formula.numerator] as const, ['denominator', d.formula.denominator] as const];
    for (const [key, op] of operands) {
      if (op.kind === 'metric' && op.ref.scope === 'torg') {
        ctx.addIssue({ code: 'custom', path: ['formula', key, 'ref', 'scope'], message: 'a municipality indicator reads municipality rows (scope "municipality")' });
      }
    }
  });
export type IndicatorDefinition = z.infer<typeof indicatorDefinitionSchema>;

export const indicatorFileSchema = z
  .object({
    /** Bumped on every change of a definition; stored with every value. */
    version: z.string().min(1),
    sample: z.boolean().default(false),
    /**
     * Tolerance of the status rule (indicator-engine.ts `statusOf`): a value behind the planned
     * trajectory by at most this share of |target − baseline| is "at risk", further behind "off track".
     */
    atRiskTolerance: z.number().min(0).max(1).default(0.25),
    /** An indicator whose inputs have completeness below this is flagged lowCompleteness. */
    completenessThreshold: z.number().min(0).max(1).default(0.8),
    indicators: z.array(indicatorDefinitionSchema).min(1),
  })
  .strict()
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.indicators.forEach((d, i) => {
      if (seen.has(d.id)) ctx.addIssue({ code: 'custom', path: ['indicators', i, 'id'], message: `duplicate indicator id "${d.id}"` });
      seen.add(d.id);
    });
  });
export type IndicatorFile = z.infer<typeof indicatorFileSchema>;

/** Throws E_CONFIG_INVALID naming the bad key(s) by id: `indicators[visits-per-1000].formula.denominator.per`. */
export function parseIndicatorFile(input: unknown, source = 'indicator definitions'): IndicatorFile {
  return parseConfig(indicatorFileSchema, input, source);
}

export function loadIndicatorFile(file: string): IndicatorFile {
  return parseIndicatorFile(readJsonConfig(file), file);
}

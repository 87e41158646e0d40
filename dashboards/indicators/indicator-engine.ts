/**
 * Monthly effektmål indicator values from month metric rows and booking facts. Pure: no clock, no
 * I/O; the caller passes the month, the rows (of that month and the month before, for the trend),
 * the booking facts and the torg populations.
 *
 * Nothing is filled: an input that is missing makes the value null and is named in `missing`; an
 * input below the completeness threshold is carried through as `lowCompleteness`.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { MetricRow } from '../metrics/metric-row.schema.ts';
import type { BookingFact } from './booking-facts.ts';
import type { IndicatorDefinition, IndicatorFile, MetricRef, Operand } from './indicator-definition.schema.ts';

export const INDICATOR_STATUSES = ['on-track', 'at-risk', 'off-track', 'unknown'] as const;
export type IndicatorStatus = (typeof INDICATOR_STATUSES)[number];

const text = z.object({ nb: z.string(), en: z.string().optional() }).strict();

export const indicatorValueSchema = z
  .object({
    indicator: z.string(),
    definitionVersion: z.string(),
    effectGoal: z.number().int().min(1).max(4),
    name: text,
    unit: text,
    /** Oslo local month `2026-10` and its start (ms), the timestamp of the stored point. */
    month: z.string(),
    start: z.number().int(),
    /** Torg id, or the municipality name for a municipality indicator. */
    scopeId: z.string(),
    torg: z.string().nullable(),
    value: z.number().nullable(),
    previousMonthValue: z.number().nullable(),
    /** value − previous month's value (same definition version). */
    trendVsPreviousMonth: z.number().nullable(),
    /** value − baseline. */
    trendVsBaseline: z.number().nullable(),
    /** The planned value for this month on the straight line from baseline to target. */
    expected: z.number(),
    status: z.enum(INDICATOR_STATUSES),
    /** Lowest completeness of the metric rows and booking feeds behind the value; null when it has none (constants only). */
    completeness: z.number().min(0).max(1).nullable(),
    lowCompleteness: z.boolean(),
    /** Inputs that were not available (the value is then null). */
    missing: z.array(z.string()),
  })
  .strict();
export type IndicatorValue = z.infer<typeof indicatorValueSchema>;

export const indicatorResultSchema = z
  .object({
    month: z.string(),
    definitionVersion: z.string(),
    statusRule: z.string(),
    values: z.array(indicatorValueSchema),
  })
  .strict();
export type IndicatorResult = z.infer<typeof indicatorResultSchema>;

export interface IndicatorContext {
  /** Torg of the municipality with residents (torg model `population`), in report order. */
  torg: readonly { id: string; population: number }[];
  /** scopeId of the municipality metric row. */
  municipality: string;
}

interface Evaluated {
  value: number | null;
  completeness: number | null;
  low: boolean;
  missing: string[];
}

const ZONE = 'Europe/Oslo';

export function monthStartMs(month: string): number {
  return DateTime.fromISO(`${month}-01`, { zone: ZONE }).toMillis();
}

export function previousMonth(month: string): string {
  return DateTime.fromISO(`${month}-01`, { zone: ZONE }).minus({ months: 1 }).toFormat('yyyy-MM');
}

function monthIndex(month: string): number {
  return Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1;
}

function fieldOf(row: MetricRow, ref: MetricRef): number | null {
  switch (ref.metric) {
    case 'co2Compliance':
    case 'temperatureCompliance':
    case 'humidityCompliance':
      return row.climate[ref.metric];
    default:
      return row[ref.metric];
  }
}

function combine(parts: readonly Evaluated[], value: number | null): Evaluated {
  const missing = parts.flatMap((p) => p.missing);
  const known = parts.map((p) => p.completeness).filter((c): c is number => c !== null);
  return {
    value: missing.length > 0 ? null : value,
    completeness: known.length > 0 ? Math.min(...known) : null,
    low: parts.some((p) => p.low),
    missing,
  };
}

class Evaluator {
  private readonly rows = new Map<string, MetricRow>();
  constructor(
    rows: readonly MetricRow[],
    private readonly facts: readonly BookingFact[],
    private readonly context: IndicatorContext,
    private readonly threshold: number,
  ) {
    for (const r of rows) {
      if (r.period === 'month') this.rows.set(`${r.scope}|${r.scopeId}|${r.split}|${r.label}`, r);
    }
  }

  operand(op: Operand, torg: string | null, month: string): Evaluated {
    switch (op.kind) {
      case 'constant':
        return { value: op.value, completeness: null, low: false, missing: [] };
      case 'population': {
        const members = torg === null ? this.context.torg : this.context.torg.filter((t) => t.id === torg);
        if (members.length === 0) return { value: null, completeness: null, low: false, missing: [`population of ${torg ?? 'the municipality'}`] };
        return { value: members.reduce((s, t) => s + t.population, 0) / op.per, completeness: null, low: false, missing: [] };
      }
      case 'metric': {
        const { ref } = op;
        if (ref.scope === 'torg' && torg === null) return { value: null, completeness: null, low: false, missing: [`${ref.metric}: a torg metric in a municipality indicator`] };
        const scopeId = ref.scope === 'torg' ? torg! : this.context.municipality;
        const row = this.rows.get(`${ref.scope}|${scopeId}|${ref.split}|${month}`);
        const what = `${ref.metric} ${ref.scope} ${scopeId} ${ref.split} ${month}`;
        if (!row) return { value: null, completeness: null, low: false, missing: [`metric row ${what}`] };
        const value = fieldOf(row, ref);
        // A null row value means the metric has no denominator in the month (no reporting time, nobody present).
        return {
          value,
          completeness: row.completeness ?? 0,
          low: row.lowCompleteness || row.completeness === null || row.completeness < this.threshold,
          missing: value === null ? [`value ${what}`] : [],
        };
      }
      case 'booking': {
        const torgIds = torg === null ? this.context.torg.map((t) => t.id) : [torg];
        const parts: Evaluated[] = [];
        let sum = 0;
        for (const id of torgIds) {
          const ofTorg = this.facts.filter((f) => f.torg === id && f.month === month);
          // No facts at all for a torg-month means the bookings import did not cover it, not zero bookings.
          if (ofTorg.length === 0) {
            parts.push({ value: null, completeness: null, low: false, missing: [`booking facts ${id} ${month}`] });
            continue;
          }
          // A fact with null completeness had nothing to import; it neither lowers nor flags the value.
          const known = ofTorg.map((f) => f.completeness).filter((c): c is number => c !== null);
          const completeness = known.length > 0 ? Math.min(...known) : null;
          const used = ofTorg.filter((f) => op.ref.categories.includes(f.category));
          const values = used.map((f) => f[op.ref.field]);
          const missing = values.some((v) => v === null) ? [`booking ${op.ref.field} ${id} ${month}`] : [];
          sum += values.reduce<number>((s, v) => s + (v ?? 0), 0);
          parts.push({ value: null, completeness, low: completeness !== null && completeness < this.threshold, missing });
        }
        return combine(parts, sum);
      }
    }
  }

  formula(def: IndicatorDefinition, torg: string | null, month: string): Evaluated {
    const f = def.formula;
    switch (f.kind) {
      case 'value':
        return this.operand(f.of, torg, month);
      case 'ratio': {
        const n = this.operand(f.numerator, torg, month);
        const d = this.operand(f.denominator, torg, month);
        const zero = d.value === 0 ? [`denominator is 0 (${month})`] : [];
        const out = combine([n, d, { value: null, completeness: null, low: false, missing: zero }], n.value !== null && d.value ? n.value / d.value : null);
        return out;
      }
      case 'dispersion': {
        const parts: Evaluated[] = [];
        const xs: number[] = [];
        for (const t of this.context.torg) {
          const n = this.operand(f.numerator, t.id, month);
          const p = f.perCapita === undefined ? null : this.operand({ kind: 'population', per: f.perCapita }, t.id, month);
          parts.push(n);
          if (p) parts.push(p);
          if (n.value !== null && (p === null || p.value !== null)) xs.push(p === null ? n.value : n.value / p.value!);
        }
        // Inequality over a subset of the torg would describe another municipality: any missing torg makes it null.
        const few = xs.length < 2 ? ['dispersion needs at least two torg'] : [];
        const value = f.measure === 'cv' ? coefficientOfVariation(xs) : gini(xs);
        return combine([...parts, { value: null, completeness: null, low: false, missing: few }], value);
      }
    }
  }
}

/** Population standard deviation ÷ mean (the torg are the whole population, not a sample); null when the mean is 0. */
export function coefficientOfVariation(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  if (mean === 0) return null;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  return Math.sqrt(variance) / mean;
}

/** Gini coefficient as the relative mean absolute difference: Σᵢ Σⱼ |xᵢ − xⱼ| ÷ (2 n² mean) (Gini 1912; 0 = equal, (n−1)/n = one torg has all). */
export function gini(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  if (mean === 0) return null;
  let sum = 0;
  for (const a of xs) for (const b of xs) sum += Math.abs(a - b);
  return sum / (2 * xs.length * xs.length * mean);
}

export const STATUS_RULE =
  'expected = baseline + (target − baseline) × months since baseline ÷ months from baseline to target (capped at target); ' +
  'on-track: value at or better than expected; at-risk: behind expected by at most atRiskTolerance × |target − baseline|; off-track: further behind; unknown: no value.';

/** The planned value for a month on the straight line from baseline to target, held at target after the target month. */
export function expectedValue(def: IndicatorDefinition, month: string): number {
  const total = monthIndex(def.target.month) - monthIndex(def.baseline.month);
  const elapsed = Math.min(Math.max(monthIndex(month) - monthIndex(def.baseline.month), 0), total);
  return def.baseline.value + ((def.target.value - def.baseline.value) * elapsed) / total;
}

export function statusOf(def: IndicatorDefinition, value: number | null, month: string, atRiskTolerance: number): IndicatorStatus {
  if (value === null) return 'unknown';
  const sign = def.direction === 'higher-is-better' ? 1 : -1;
  const ahead = sign * (value - expectedValue(def, month));
  if (ahead >= 0) return 'on-track';
  return -ahead <= atRiskTolerance * Math.abs(def.target.value - def.baseline.value) ? 'at-risk' : 'off-track';
}

/**
 * The values of every indicator for `month` (`YYYY-MM`, Oslo): per torg of `context` for `per: torg`,
 * once for `per: municipality`. `rows` should hold the month rows of `month` and of the month before.
 */
export function computeIndicators(
  file: IndicatorFile,
  rows: readonly MetricRow[],
  bookingFacts: readonly BookingFact[],
  month: string,
  context: IndicatorContext,
): IndicatorResult {
  const ev = new Evaluator(rows, bookingFacts, context, file.completenessThreshold);
  const prev = previousMonth(month);
  const values: IndicatorValue[] = [];
  for (const def of file.indicators) {
    const scopes: (string | null)[] = def.per === 'torg' ? context.torg.map((t) => t.id) : [null];
    for (const torg of scopes) {
      const now = ev.formula(def, torg, month);
      const before = ev.formula(def, torg, prev);
      values.push({
        indicator: def.id,
        definitionVersion: file.version,
        effectGoal: def.effectGoal,
        name: def.name,
        unit: def.unit,
        month,
        start: monthStartMs(month),
        scopeId: torg ?? context.municipality,
        torg,
        value: now.value,
        previousMonthValue: before.value,
        trendVsPreviousMonth: now.value !== null && before.value !== null ? now.value - before.value : null,
        trendVsBaseline: now.value !== null ? now.value - def.baseline.value : null,
        expected: expectedValue(def, month),
        status: statusOf(def, now.value, month, file.atRiskTolerance),
        completeness: now.completeness,
        lowCompleteness: now.low,
        missing: now.missing,
      });
    }
  }
  return { month, definitionVersion: file.version, statusRule: STATUS_RULE, values };
}

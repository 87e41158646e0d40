/**
 * GET /api/v1/metrics (issue 6 "Interfaces": HTTP API, analyst role, CSV export). Rows are rolled up
 * from the stored hourly aggregates (`agg_hourly`, RP forever), never from a scan of raw readings
 * over the whole period: a month of the seven sample torg is ~3·10^4 stored hour points, against
 * ~1.5·10^8 raw readings at 500 devices per torg reading once a minute. A past local day in the
 * range with no stored hours (the job has not reached it, or the platform was installed later) is
 * computed from raw readings and stored on request through `recomputeDay`, oldest first and at most
 * `maxComputeDays` per request; days still without stored hours (beyond the bound, or in the future)
 * are listed in `missingDays` and their open time counts as not reporting, so completeness shows the
 * gap. CSV: dashboards/metrics/csv.ts (RFC 4180, or `csv=excel` for Norwegian Excel).
 *
 * The lead mounts these in ingest/service.ts: `metricsRoutes` (metrics) and `effectRoutes`
 * (indicators and recommendations, at the end of this file; mounted only with their config).
 */
import type { Request, Response } from 'express';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';
import { localDay, localIsoWeek, localMonth } from '../../devices/torg/opening-hours.ts';
import type { LocalPeriod } from '../../devices/torg/opening-hours.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { ApiError, HANDLED, defineRoute, type AnyRoute, type Handled, type Lang } from '../../ingest/api/route.ts';
import { CSV_CONTENT_TYPE, CSV_DIALECTS, metricRowsToCsv, toCsv, type CsvColumn, type CsvDialect } from './csv.ts';
import type { MetricsStore } from './influx-metrics-reader.ts';
import { PERIODS, SCOPES, SPLITS, metricsResultSchema, type MetricRow, type PeriodKind, type Scope } from './metric-row.schema.ts';
import { computeHourBuckets, DEFAULT_METRICS_OPTIONS, HOUR_MS, RollUp, rulesOf, type HourBucket, type MetricsOptions, type RawReadings, type RowWanted } from './metrics-engine.ts';
import { recomputeDay, type RecomputeDeps } from './recompute.ts';
import type { BookingFact } from '../indicators/booking-facts.ts';
import type { IndicatorFile } from '../indicators/indicator-definition.schema.ts';
import { computeIndicators, indicatorResultSchema, STATUS_RULE, type IndicatorResult, type IndicatorValue } from '../indicators/indicator-engine.ts';
import type { IndicatorStore, StoredIndicator } from '../indicators/indicator-store.ts';
import { dimension, dimensioningSchema, type Dimensioning } from '../skalering/dimension.ts';
import { MODULE_TYPES } from '../../devices/torg/torg-config.schema.ts';
import { lastIsoWeeks, recommend, recommendationResultSchema, type GhostWeek, type Recommendation } from '../skalering/recommend.ts';
import { skaleringRulesSchema, type SkaleringRules } from '../skalering/skalering-rules.schema.ts';

const ZONE = 'Europe/Oslo';
const TAG = 'metrics';

/** `2026-10-20`, `2026-W43` or `2026-10` as the Oslo local period it names; null when it names none. */
export function parseLocalPeriod(text: string, zone = ZONE): LocalPeriod | null {
  let kind: 'day' | 'week' | 'month';
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) kind = 'day';
  else if (/^\d{4}-W\d{2}$/.test(text)) kind = 'week';
  else if (/^\d{4}-\d{2}$/.test(text)) kind = 'month';
  else return null;
  const start = DateTime.fromISO(text, { zone });
  if (!start.isValid) return null;
  const p = kind === 'day' ? localDay(start.toMillis(), zone) : kind === 'week' ? localIsoWeek(start.toMillis(), zone) : localMonth(start.toMillis(), zone);
  // luxon rolls 2026-W54 over into 2027; a label that does not round-trip named no such period.
  return p.label === text ? p : null;
}

const localPeriodText = z
  .string()
  .max(10)
  .refine((s) => parseLocalPeriod(s) !== null, { message: 'an Oslo local date (2026-10-20), ISO week (2026-W43) or month (2026-10)' });

/** `format=csv` (or `Accept: text/csv`) answers CSV; `csv=excel` picks the Norwegian Excel dialect (csv.ts). */
export const csvQueryFields = {
  format: z.enum(['json', 'csv']).optional(),
  csv: z.enum(CSV_DIALECTS).optional(),
  lang: z.enum(['nb', 'en']).optional(),
};

export const metricsQuerySchema = z.object({
  scope: z.enum(SCOPES),
  /** `torg/zone` (or a bare zone id: that zone in every torg that has it), `torg/module`, torg id; optional for the municipality. */
  id: z.string().min(1).max(200).optional(),
  period: z.enum(PERIODS),
  from: localPeriodText,
  /** Inclusive; default: `from`. */
  to: localPeriodText.optional(),
  /** Default: every split. */
  split: z.enum(SPLITS).optional(),
  ...csvQueryFields,
});
export type MetricsQuery = z.infer<typeof metricsQuerySchema>;

export const metricsResponseSchema = metricsResultSchema
  .extend({
    query: z.object({ scope: z.enum(SCOPES), id: z.string(), period: z.enum(PERIODS), from: z.string(), to: z.string(), split: z.enum(SPLITS).nullable() }),
    /** Days computed from raw readings for this request (they had no stored hours). */
    computedDays: z.array(z.string()),
    /** Days in the range still without stored hours (future, or beyond the per-request bound): their open time counts as not reporting. */
    missingDays: z.array(z.string()),
  })
  .meta({ id: 'MetricsResponse' });
export type MetricsResponse = z.infer<typeof metricsResponseSchema>;

export interface MetricsRoutesDeps {
  store: MetricsStore;
  torgs: readonly Torg[];
  /** Epoch ms; decides which days are complete enough to compute. */
  now: () => number;
  options?: Partial<MetricsOptions>;
  /** When given, days without stored hours are computed and stored on request. */
  recompute?: RecomputeDeps;
  /** Days computed per request at most (default 7: one week of a month view). */
  maxComputeDays?: number;
  /** Longest range in days (default 400); hour rows at most 31 days. */
  maxRangeDays?: number;
}

function invalid(path: string, message: string): ApiError {
  return ApiError.of('E_API_INVALID_REQUEST', { in: 'query', issues: [{ path, message }] });
}

/** CSV when asked by `format=csv`, `csv=…`, or an Accept header preferring text/csv. */
export function wantsCsv(q: { format?: 'json' | 'csv' | undefined; csv?: CsvDialect | undefined }, req: Request): boolean {
  if (q.format !== undefined) return q.format === 'csv';
  if (q.csv !== undefined) return true;
  return req.accepts(['application/json', 'text/csv']) === 'text/csv';
}

/** Writes a CSV answer as a download; returns HANDLED for the route table. */
export function sendCsv<T>(
  ctx: { req: Request; res: Response; lang: Lang },
  q: { csv?: CsvDialect | undefined },
  filename: string,
  rows: readonly T[],
  columns: readonly CsvColumn<T>[] | null,
  render?: (dialect: CsvDialect, lang: Lang) => string,
): Handled {
  const dialect = q.csv ?? 'rfc4180';
  const body = render ? render(dialect, ctx.lang) : toCsv(rows, columns ?? [], dialect, ctx.lang);
  ctx.res.status(200).type(CSV_CONTENT_TYPE).set('Content-Disposition', `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`).send(body);
  return HANDLED;
}

function alignedRange(period: PeriodKind, from: LocalPeriod, to: LocalPeriod): { startMs: number; endMs: number } {
  // Week and month rows are only right over whole weeks and months: widen the range to them.
  if (period === 'week') return { startMs: localIsoWeek(from.startMs, ZONE).startMs, endMs: localIsoWeek(to.endMs - 1, ZONE).endMs };
  if (period === 'month') return { startMs: localMonth(from.startMs, ZONE).startMs, endMs: localMonth(to.endMs - 1, ZONE).endMs };
  return { startMs: from.startMs, endMs: to.endMs };
}

const ORDER = { staffed: 0, meraapent: 1, closed: 2, all: 3 } as const;

export interface StoredRows {
  rows: MetricRow[];
  computedDays: string[];
  missingDays: string[];
}

/** What a caller of createHourSource rolls up. */
export interface HourSelection {
  /** The buckets rolled up (default: all). */
  keep?: (b: HourBucket) => boolean;
  /**
   * Only these scopes are read from storage and rolled up (also for days computed here). Every stored
   * day has points of every scope (recomputeDay writes the whole municipality), so a day is still
   * known as stored from its scopes' points.
   */
  scopes?: readonly Scope[];
  /** The rows returned (default: all); hour rows not wanted are never built. */
  wanted?: RowWanted;
}

/**
 * Rows of a range rolled up from storage: stored hours read, days without stored hours that are
 * over computed from raw readings and stored (at most `maxComputeDays` per call, oldest first), and
 * for every day still without stored hours (future, or beyond the bound) the buckets of a day with no
 * readings — open time with no sensor reporting — so completeness shows the gap instead of the
 * day silently dropping out of the period's denominators. The stored hours are folded into the
 * roll-up a day at a time (MetricsStore.forEachAggHourlyDay), so memory does not grow with the range.
 */
export function createHourSource(deps: MetricsRoutesDeps) {
  const o: MetricsOptions = { ...DEFAULT_METRICS_OPTIONS, ...deps.options };
  const maxComputeDays = deps.maxComputeDays ?? 7;
  // A day being computed for one request is awaited, not computed again, by a concurrent one.
  const inFlight = new Map<string, Promise<unknown>>();
  const computeDay = async (label: string): Promise<void> => {
    const running = inFlight.get(label);
    if (running) {
      await running;
      return;
    }
    const p = recomputeDay(deps.recompute!, label).finally(() => inFlight.delete(label));
    inFlight.set(label, p);
    await p;
  };
  const none: RawReadings = { presence: [], counter: [], climate: [] };

  return async (range: { startMs: number; endMs: number }, selection: HourSelection = {}): Promise<StoredRows> => {
    const inScope = selection.scopes === undefined ? null : new Set<Scope>(selection.scopes);
    const keep = (b: HourBucket): boolean => (inScope === null || inScope.has(b.scope)) && (selection.keep?.(b) ?? true);
    // Local days of the range, and each hour start → its day (23 or 25 hours on DST days).
    const days: LocalPeriod[] = [];
    for (let t = range.startMs; t < range.endMs; ) {
      const d = localDay(t, ZONE);
      days.push(d);
      t = d.endMs;
    }
    const dayOfHour = new Map<number, string>();
    for (const d of days) for (let h = d.startMs; h < d.endMs; h += HOUR_MS) dayOfHour.set(h, d.label);
    const roll = new RollUp(o, ZONE, selection.wanted);
    const storedDays = new Set<string>();
    const add = (buckets: readonly HourBucket[]): void => {
      for (const b of buckets) {
        const day = dayOfHour.get(b.hourStart);
        if (day !== undefined) storedDays.add(day);
        if (keep(b)) roll.add(b);
      }
    };
    try {
      await deps.store.forEachAggHourlyDay(range.startMs, range.endMs, selection.scopes, add);
      const computedDays: string[] = [];
      if (deps.recompute) {
        const now = deps.now();
        // Only whole past days: today's hours are the job's, computed as they complete.
        const todo = days.filter((d) => !storedDays.has(d.label) && d.endMs <= now).slice(0, maxComputeDays);
        for (const d of todo) {
          await computeDay(d.label);
          add(await deps.store.readAggHourly(d.startMs, d.endMs, selection.scopes));
          computedDays.push(d.label);
        }
      }
      const missing = days.filter((d) => !storedDays.has(d.label));
      for (const d of missing) {
        for (const b of computeHourBuckets({ torgs: deps.torgs, fromMs: d.startMs, toMs: d.endMs, readings: none, assignments: () => null, options: o })) if (keep(b)) roll.add(b);
      }
      return { rows: roll.rows(), computedDays, missingDays: missing.map((d) => d.label) };
    } catch (err) {
      if (err instanceof PlatformError && err.retriable) throw ApiError.of('E_API_UNAVAILABLE', { code: err.code });
      throw err;
    }
  };
}

/**
 * The metrics query behind the route, usable without HTTP (reports): rows of the asked scope,
 * period and split over whole periods, from stored hours (createHourSource).
 */
export function createMetricsQuery(deps: MetricsRoutesDeps) {
  const o: MetricsOptions = { ...DEFAULT_METRICS_OPTIONS, ...deps.options };
  const maxRangeDays = deps.maxRangeDays ?? 400;
  const source = createHourSource(deps);

  const scopeIdOf = (scope: Scope, id: string | undefined): string => {
    if (scope === 'municipality') {
      if (id !== undefined && id !== o.municipality) throw ApiError.of('E_API_NOT_FOUND', { scope, id });
      return o.municipality;
    }
    if (id === undefined) throw invalid('id', `required for scope ${scope}`);
    const known =
      scope === 'torg'
        ? deps.torgs.some((t) => t.id === id)
        : scope === 'zone'
          ? deps.torgs.some((t) => t.zones.some((z) => z.id === id || `${t.id}/${z.id}` === id))
          : deps.torgs.some((t) => t.zones.some((z) => `${t.id}/${z.module}` === id));
    if (!known) throw ApiError.of('E_API_NOT_FOUND', { scope, id });
    return id;
  };

  return async (q: MetricsQuery): Promise<MetricsResponse> => {
    const from = parseLocalPeriod(q.from)!;
    const to = parseLocalPeriod(q.to ?? q.from)!;
    if (to.endMs <= from.startMs) throw invalid('to', 'must not be before from');
    const scopeId = scopeIdOf(q.scope, q.id);
    const range = alignedRange(q.period, from, to);
    const rangeDays = (range.endMs - range.startMs) / (24 * HOUR_MS);
    if (rangeDays > maxRangeDays + 1) throw invalid('to', `at most ${maxRangeDays} days per request`);
    if (q.period === 'hour' && rangeDays > 32) throw invalid('to', 'hour rows: at most 31 days per request');
    // Zone ids are unique only within a torg: `torg/zone` names one zone; a bare zone id matches that
    // zone in every torg that has it (rows carry their torg).
    const slash = q.scope === 'zone' ? scopeId.indexOf('/') : -1;
    const wanted = slash > 0 ? { torg: scopeId.slice(0, slash), id: scopeId.slice(slash + 1) } : { torg: null, id: scopeId };
    const stored = await source(range, {
      keep: (b) => b.scope === q.scope && b.scopeId === wanted.id && (wanted.torg === null || b.torg === wanted.torg),
      scopes: [q.scope],
      wanted: (period, b) => period === q.period && (q.split === undefined || b.split === q.split),
    });
    const { computedDays, missingDays } = stored;
    const rows = stored.rows
      .filter((r: MetricRow) => r.start >= range.startMs && r.end <= range.endMs)
      .sort((a, b) => a.start - b.start || ORDER[a.split] - ORDER[b.split]);
    return {
      from: range.startMs,
      to: range.endMs,
      rules: rulesOf(o),
      rows,
      query: { scope: q.scope, id: scopeId, period: q.period, from: q.from, to: q.to ?? q.from, split: q.split ?? null },
      computedDays,
      missingDays,
    };
  };
}

export function metricsRoutes(deps: MetricsRoutesDeps): AnyRoute[] {
  const query = createMetricsQuery(deps);
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/metrics',
      access: 'analyst',
      tag: TAG,
      summary:
        'Bruksmål for et nivå og en periode (Oslo-tid), med kompletthet og reglene tallene er regnet etter / usage metrics for a scope and period (Oslo time), with completeness and rules',
      query: metricsQuerySchema,
      response: metricsResponseSchema,
      alsoProduces: ['text/csv'],
      handler: async (ctx) => {
        const result = await query(ctx.query);
        if (!wantsCsv(ctx.query, ctx.req)) return result;
        const q = result.query;
        return sendCsv(ctx, ctx.query, `metrics-${q.scope}-${q.id}-${q.period}-${q.from}-${q.to}.csv`, result.rows, null, (dialect, lang) =>
          metricRowsToCsv(result.rows, dialect, lang),
        );
      },
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Effektmål indicators and skalering recommendations (issue 6 "Interfaces"): the engines live in
// dashboards/indicators and dashboards/skalering; these routes feed them rows rolled up from the
// same stored hours as GET /api/v1/metrics, with the same bound on days computed per request.

const monthText = z
  .string()
  .max(7)
  .refine((s) => /^\d{4}-\d{2}$/.test(s) && parseLocalPeriod(s) !== null, { message: 'a month, YYYY-MM (e.g. 2026-10)' });

export const indicatorsQuerySchema = z.object({ month: monthText, ...csvQueryFields });
export const recommendationsQuerySchema = z.object({
  /** The last N complete ISO weeks; default the rules file's `windowWeeks`. */
  weeks: z.coerce.number().int().min(1).max(104).optional(),
  ...csvQueryFields,
});

const dataNote = { computedDays: z.array(z.string()), missingDays: z.array(z.string()) };
export const indicatorsResponseSchema = indicatorResultSchema
  .extend({
    ...dataNote,
    /** `stored`: the month's values stored by the IndicatorJob under this definition version; `computed`: computed for this request. */
    source: z.enum(['stored', 'computed']),
  })
  .meta({ id: 'IndicatorsResponse' });
export const dimensioningQuerySchema = z.object({
  /** Torg id; default every torg. */
  torg: z.string().min(1).max(100).optional(),
  module: z.enum(MODULE_TYPES).optional(),
  /** Default: the rules' `dimensioning.percentile`. */
  percentile: z.coerce.number().gt(0).max(1).optional(),
  /** The last N complete ISO weeks; default the rules' `dimensioning.weeks`. */
  weeks: z.coerce.number().int().min(1).max(104).optional(),
  ...csvQueryFields,
});
export const dimensioningResponseSchema = z
  .object({ weeks: z.array(z.string()), from: z.number().int(), to: z.number().int(), dimensioning: z.array(dimensioningSchema), ...dataNote })
  .meta({ id: 'DimensioningResponse' });
export type DimensioningResponse = z.infer<typeof dimensioningResponseSchema>;
export const recommendationsResponseSchema = recommendationResultSchema.extend(dataNote).meta({ id: 'RecommendationsResponse' });
export type IndicatorsResponse = z.infer<typeof indicatorsResponseSchema>;
export type RecommendationsResponse = z.infer<typeof recommendationsResponseSchema>;

export interface EffectRoutesDeps extends MetricsRoutesDeps {
  /** The indicator definition file; GET /api/v1/indicators is mounted only with it. */
  indicators?: {
    file: IndicatorFile;
    /** Monthly booking facts (dashboards/bookings); none → booking-based indicators are null and name what is missing. */
    bookingFacts?: (month: string) => Promise<BookingFact[]>;
    /** Stored monthly values (IndicatorJob); served when present for the month and the file's version. */
    store?: Pick<IndicatorStore, 'read'>;
  };
  /** The skalering rules; GET /api/v1/recommendations is mounted only with them. */
  skalering?: {
    rules: SkaleringRules;
    ghostWeeks?: (weeks: readonly string[]) => Promise<GhostWeek[]>;
  };
}

const text = (t: { nb: string; en?: string | undefined }, lang: Lang): string => (lang === 'en' ? (t.en ?? t.nb) : t.nb);

export const INDICATOR_COLUMNS: readonly CsvColumn<IndicatorValue>[] = [
  { key: 'month', nb: 'måned', en: 'month', value: (v) => v.month },
  { key: 'effectGoal', nb: 'effektmål', en: 'effect goal', value: (v) => v.effectGoal },
  { key: 'indicator', nb: 'indikator', en: 'indicator', value: (v) => v.indicator },
  { key: 'name', nb: 'navn', en: 'name', value: (v, lang) => text(v.name, lang) },
  { key: 'scopeId', nb: 'nivå', en: 'scope', value: (v) => v.scopeId },
  { key: 'value', nb: 'verdi', en: 'value', value: (v) => v.value },
  { key: 'unit', nb: 'enhet', en: 'unit', value: (v, lang) => text(v.unit, lang) },
  { key: 'expected', nb: 'planlagt', en: 'expected', value: (v) => v.expected },
  { key: 'status', nb: 'status', en: 'status', value: (v) => v.status },
  { key: 'trendVsPreviousMonth', nb: 'endring fra forrige måned', en: 'change vs previous month', value: (v) => v.trendVsPreviousMonth },
  { key: 'trendVsBaseline', nb: 'endring fra utgangspunkt', en: 'change vs baseline', value: (v) => v.trendVsBaseline },
  { key: 'completeness', nb: 'kompletthet', en: 'completeness', value: (v) => v.completeness },
  { key: 'lowCompleteness', nb: 'lav kompletthet', en: 'low completeness', value: (v) => v.lowCompleteness },
  { key: 'missing', nb: 'mangler', en: 'missing', value: (v) => v.missing.join(' ') },
  { key: 'definitionVersion', nb: 'definisjonsversjon', en: 'definition version', value: (v) => v.definitionVersion },
];

export const RECOMMENDATION_COLUMNS: readonly CsvColumn<Recommendation>[] = [
  { key: 'torg', nb: 'torg', en: 'torg', value: (r) => r.torg },
  { key: 'module', nb: 'modul', en: 'module', value: (r) => r.module },
  { key: 'kind', nb: 'anbefaling', en: 'recommendation', value: (r) => r.kind },
  { key: 'message', nb: 'begrunnelse', en: 'reason', value: (r, lang) => r.message[lang] },
  { key: 'weeksMet', nb: 'uker oppfylt', en: 'weeks met', value: (r) => r.weeksMet },
  { key: 'weeksWithData', nb: 'uker med data', en: 'weeks with data', value: (r) => r.weeksWithData },
  { key: 'minWeeks', nb: 'minst uker', en: 'min weeks', value: (r) => r.minWeeks },
  { key: 'windowWeeks', nb: 'vindu uker', en: 'window weeks', value: (r) => r.windowWeeks },
  { key: 'weeks', nb: 'uker oppfylt (liste)', en: 'weeks met (list)', value: (r) => r.evidence.filter((e) => e.met).map((e) => e.week).join(' ') },
  { key: 'thresholds', nb: 'terskler', en: 'thresholds', value: (r) => Object.entries(r.thresholds).map(([k, v]) => `${k}=${v}`).join(' ') },
];

export const DIMENSIONING_COLUMNS: readonly CsvColumn<Dimensioning>[] = [
  { key: 'torg', nb: 'torg', en: 'torg', value: (d) => d.torg },
  { key: 'module', nb: 'modul', en: 'module', value: (d) => d.module },
  { key: 'unit', nb: 'enhet', en: 'unit', value: (d) => d.unit },
  { key: 'percentile', nb: 'persentil', en: 'percentile', value: (d) => d.percentile },
  { key: 'hours', nb: 'timer', en: 'hours', value: (d) => d.hours },
  { key: 'hoursIncomplete', nb: 'timer ufullstendige', en: 'hours incomplete', value: (d) => d.hoursIncomplete },
  { key: 'hoursUnknown', nb: 'timer uten romtelling', en: 'hours without room count', value: (d) => d.hoursUnknown },
  { key: 'demandAtPercentile', nb: 'behov ved persentil', en: 'demand at percentile', value: (d) => d.demandAtPercentile },
  { key: 'needed', nb: 'behov', en: 'needed', value: (d) => d.needed },
  { key: 'current', nb: 'nå', en: 'current', value: (d) => d.current },
  { key: 'difference', nb: 'differanse', en: 'difference', value: (d) => d.difference },
  { key: 'presenceOnlyZones', nb: 'soner uten telling', en: 'presence-only zones', value: (d) => d.presenceOnlyZones.join(' ') },
  { key: 'reason', nb: 'ingen beregning fordi', en: 'no estimate because', value: (d, lang) => d.reason?.message[lang] },
];

/** The CLI's view of these answers: where to ask, how to read the rows, which CSV columns. */
export const EFFECT_TABLES = {
  indicators: { path: '/api/v1/indicators', rows: (body: unknown) => indicatorsResponseSchema.parse(body).values, columns: INDICATOR_COLUMNS },
  recommendations: { path: '/api/v1/recommendations', rows: (body: unknown) => recommendationsResponseSchema.parse(body).recommendations, columns: RECOMMENDATION_COLUMNS },
  dimensioning: { path: '/api/v1/dimensioning', rows: (body: unknown) => dimensioningResponseSchema.parse(body).dimensioning, columns: DIMENSIONING_COLUMNS },
};

export type ComputedIndicators = IndicatorResult & { computedDays: string[]; missingDays: string[] };

/**
 * A month's indicator values computed from stored hours (the path of GET /api/v1/indicators, and of
 * the IndicatorJob that stores them): month rows of the month and the month before (the trend).
 */
export function createIndicatorComputer(deps: MetricsRoutesDeps, ind: NonNullable<EffectRoutesDeps['indicators']>, source = createHourSource(deps)) {
  const o: MetricsOptions = { ...DEFAULT_METRICS_OPTIONS, ...deps.options };
  return async (monthLabel: string): Promise<ComputedIndicators> => {
    const month = parseLocalPeriod(monthLabel);
    if (month === null || month.label !== monthLabel || !/^\d{4}-\d{2}$/.test(monthLabel)) throw invalid('month', 'a month, YYYY-MM (e.g. 2026-10)');
    const prev = localMonth(month.startMs - 1, ZONE);
    // Indicator formulas read torg and municipality month rows only (metricRefSchema).
    const { rows, computedDays, missingDays } = await source(
      { startMs: prev.startMs, endMs: month.endMs },
      { keep: (b) => b.scope === 'torg' || b.scope === 'municipality', scopes: ['torg', 'municipality'], wanted: (period) => period === 'month' },
    );
    const facts = ind.bookingFacts ? [...(await ind.bookingFacts(prev.label)), ...(await ind.bookingFacts(month.label))] : [];
    const result = computeIndicators(ind.file, rows, facts, month.label, { torg: deps.torgs.map((t) => ({ id: t.id, population: t.population })), municipality: o.municipality });
    return { ...result, computedDays, missingDays };
  };
}

/**
 * Stored values of a month as indicator values, when every one was stored under the file's version
 * and every indicator of the file is there; null otherwise (the caller computes instead).
 */
export function storedAsResult(file: IndicatorFile, month: string, stored: readonly StoredIndicator[], torgOrder: readonly string[]): IndicatorResult | null {
  if (stored.length === 0 || stored.some((s) => s.definitionVersion !== file.version)) return null;
  const values: IndicatorValue[] = [];
  for (const s of stored) {
    const def = file.indicators.find((d) => d.id === s.indicator);
    if (!def) return null;
    values.push({
      indicator: s.indicator,
      definitionVersion: s.definitionVersion,
      effectGoal: s.effectGoal,
      name: def.name,
      unit: def.unit,
      month,
      start: s.time,
      scopeId: s.scopeId,
      torg: torgOrder.includes(s.scopeId) ? s.scopeId : null,
      value: s.value ?? null,
      previousMonthValue: s.previousMonthValue ?? null,
      trendVsPreviousMonth: s.trendVsPreviousMonth ?? null,
      trendVsBaseline: s.trendVsBaseline ?? null,
      expected: s.expected,
      status: s.status,
      completeness: s.completeness ?? null,
      lowCompleteness: s.lowCompleteness,
      // indicator-point.ts joins the list with '; '.
      missing: s.missing ? s.missing.split('; ') : [],
    });
  }
  if (file.indicators.some((d) => !values.some((v) => v.indicator === d.id))) return null;
  // The engine's order (definition order, torg in report order, municipality after); InfluxDB returns
  // the stored points of one timestamp ordered by series key instead.
  const order = new Map(file.indicators.map((d, i) => [d.id, i]));
  const rank = (v: IndicatorValue): number => (v.torg === null ? torgOrder.length : torgOrder.indexOf(v.torg));
  values.sort((a, b) => order.get(a.indicator)! - order.get(b.indicator)! || rank(a) - rank(b));
  return { month, definitionVersion: file.version, statusRule: STATUS_RULE, values };
}

/**
 * Recommendations as of `asOfMs` under `rules` (the path of GET /api/v1/recommendations and of the
 * monthly report): week rows of the rules' window from stored hours, and the ghost weeks.
 */
export function createRecommender(deps: MetricsRoutesDeps, sk: NonNullable<EffectRoutesDeps['skalering']>, source = createHourSource(deps)) {
  return async (rules: SkaleringRules, asOfMs: number): Promise<RecommendationsResponse> => {
    const weeks = lastIsoWeeks(asOfMs, rules.windowWeeks, ZONE);
    // recommend() reads zone, module and torg week rows of the rules' split, and torg meråpent hours.
    const { rows, computedDays, missingDays } = await source(
      { startMs: weeks[0]!.startMs, endMs: weeks[weeks.length - 1]!.endMs },
      {
        keep: (b) => (b.scope !== 'municipality' && b.split === rules.split) || (b.scope === 'torg' && b.split === 'meraapent'),
        scopes: ['zone', 'module', 'torg'],
        wanted: (period, b) => period === 'week' || (period === 'hour' && b.scope === 'torg' && b.split === 'meraapent'),
      },
    );
    const ghostWeeks = sk.ghostWeeks ? await sk.ghostWeeks(weeks.map((w) => w.label)) : [];
    const result = recommend(rules, rows.filter((r) => r.period === 'week'), {
      torg: deps.torgs,
      hourRows: rows.filter((r) => r.period === 'hour' && r.scope === 'torg' && r.split === 'meraapent'),
      ghostWeeks,
      asOfMs,
    });
    return { ...result, computedDays, missingDays };
  };
}

export function effectRoutes(deps: EffectRoutesDeps): AnyRoute[] {
  const source = createHourSource(deps);
  const routes: AnyRoute[] = [];
  const ind = deps.indicators;
  const torgIds = deps.torgs.map((t) => t.id);
  if (ind) {
    const computeMonth = createIndicatorComputer(deps, ind, source);
    routes.push(
      defineRoute({
        method: 'get',
        path: '/api/v1/indicators',
        access: 'analyst',
        tag: TAG,
        summary: 'Effektmålindikatorer for en måned, med trend og status mot mål / effect-goal indicators for a month, with trend and status against target',
        query: indicatorsQuerySchema,
        response: indicatorsResponseSchema,
        alsoProduces: ['text/csv'],
        handler: async (ctx) => {
          const month = parseLocalPeriod(ctx.query.month)!;
          let answer: IndicatorsResponse | null = null;
          if (ind.store) {
            let stored: StoredIndicator[];
            try {
              stored = await ind.store.read(month.label);
            } catch (err) {
              if (err instanceof PlatformError && err.retriable) throw ApiError.of('E_API_UNAVAILABLE', { code: err.code });
              throw err;
            }
            const fromStore = storedAsResult(ind.file, month.label, stored, torgIds);
            if (fromStore) answer = { ...fromStore, computedDays: [], missingDays: [], source: 'stored' };
          }
          const out: IndicatorsResponse = answer ?? { ...(await computeMonth(month.label)), source: 'computed' };
          if (!wantsCsv(ctx.query, ctx.req)) return out;
          return sendCsv(ctx, ctx.query, `indicators-${month.label}.csv`, out.values, null, (dialect, lang) =>
            toCsv(out.values, INDICATOR_COLUMNS, dialect, lang),
          );
        },
      }),
    );
  }
  const sk = deps.skalering;
  if (sk) {
    const recommendNow = createRecommender(deps, sk, source);
    routes.push(
      defineRoute({
        method: 'get',
        path: '/api/v1/recommendations',
        access: 'analyst',
        tag: TAG,
        summary: 'Skaleringsanbefalinger per modul og torg, med ukene og tallene bak / skalering recommendations per module and torg, with the weeks and numbers behind them',
        query: recommendationsQuerySchema,
        response: recommendationsResponseSchema,
        alsoProduces: ['text/csv'],
        handler: async (ctx) => {
          const checked = skaleringRulesSchema.safeParse({ ...sk.rules, windowWeeks: ctx.query.weeks ?? sk.rules.windowWeeks });
          if (!checked.success) throw invalid('weeks', checked.error.issues[0]?.message ?? 'does not fit the rules');
          const rules = checked.data;
          const now = deps.now();
          const weeks = lastIsoWeeks(now, rules.windowWeeks, ZONE);
          const answer = await recommendNow(rules, now);
          if (!wantsCsv(ctx.query, ctx.req)) return answer;
          return sendCsv(ctx, ctx.query, `recommendations-${weeks[0]!.label}-${weeks[weeks.length - 1]!.label}.csv`, answer.recommendations, null, (dialect, lang) =>
            toCsv(answer.recommendations, RECOMMENDATION_COLUMNS, dialect, lang),
          );
        },
      }),
      defineRoute({
        method: 'get',
        path: '/api/v1/dimensioning',
        access: 'analyst',
        tag: TAG,
        summary:
          'Dimensjonering: rom eller plasser et torg trenger for å dekke timetoppene ved en valgt persentil (metode: dashboards/skalering/README.md) / dimensioning: rooms or seats a torg needs to cover peak-hour demand at a chosen percentile',
        query: dimensioningQuerySchema,
        response: dimensioningResponseSchema,
        alsoProduces: ['text/csv'],
        handler: async (ctx) => {
          const q = ctx.query;
          const torgs = q.torg === undefined ? deps.torgs : deps.torgs.filter((t) => t.id === q.torg);
          if (torgs.length === 0) throw ApiError.of('E_API_NOT_FOUND', { torg: q.torg });
          const percentile = q.percentile ?? sk.rules.dimensioning.percentile;
          const weeks = lastIsoWeeks(deps.now(), q.weeks ?? sk.rules.dimensioning.weeks, ZONE);
          const fromMs = weeks[0]!.startMs;
          const toMs = weeks[weeks.length - 1]!.endMs;
          // dimension() reads module hour rows (the demand) and zone hour rows (which zones count heads), split `all`.
          const wanted = new Set(torgs.map((t) => t.id));
          const { rows: hourRows, computedDays, missingDays } = await source(
            { startMs: fromMs, endMs: toMs },
            { keep: (b) => (b.scope === 'module' || b.scope === 'zone') && b.split === 'all' && wanted.has(b.torg ?? ''), scopes: ['module', 'zone'], wanted: (period) => period === 'hour' },
          );
          const out: Dimensioning[] = [];
          for (const torg of torgs) {
            const modules = [...new Set(torg.zones.map((z) => z.module))].filter((m) => (q.module === undefined ? !sk.rules.modules || sk.rules.modules.includes(m) : m === q.module));
            for (const module of modules) out.push(dimension(hourRows, torg, module, { percentile, fromMs, toMs }));
          }
          const answer: DimensioningResponse = { weeks: weeks.map((w) => w.label), from: fromMs, to: toMs, dimensioning: out, computedDays, missingDays };
          if (!wantsCsv(q, ctx.req)) return answer;
          return sendCsv(ctx, q, `dimensioning-${weeks[0]!.label}-${weeks[weeks.length - 1]!.label}.csv`, answer.dimensioning, DIMENSIONING_COLUMNS);
        },
      }),
    );
  }
  return routes;
}

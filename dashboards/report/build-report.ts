/**
 * Builds the monthly report's data (report-data.schema.ts, issue 7) from the functions behind the
 * HTTP API (report-sources.ts), so each number in the report equals the API's for the same month:
 * month rows of GET /api/v1/metrics (split `all` unless a section says otherwise), values of
 * GET /api/v1/indicators, recommendations of GET /api/v1/recommendations as of the month's end, and
 * the month of GET /api/v1/bookings. Suppression of small counts (product.md "Privacy") happens
 * here, once, so every renderer and the JSON answer show the same suppressed figures.
 */
import { PlatformError } from '../../devices/contract/errors.ts';
import { localDay, localMonth, openIntervals } from '../../devices/torg/opening-hours.ts';
import { MODULE_TYPES, type ModuleType, type Torg } from '../../devices/torg/torg-config.schema.ts';
import type { BookingAnalysisResult } from '../bookings/bookings.schema.ts';
import type { IndicatorDefinition, Operand } from '../indicators/indicator-definition.schema.ts';
import { INDICATOR_STATUSES, type IndicatorResult, type IndicatorValue } from '../indicators/indicator-engine.ts';
import type { MetricRow, MetricsResult, Split } from '../metrics/metric-row.schema.ts';
import type { Recommendation, RecommendationResult } from '../skalering/recommend.ts';
import {
  reportDataSchema,
  type GhostBookings,
  type ModuleUsage,
  type ReportData,
  type ReportIndicator,
  type ReportRecommendation,
  type Suppressible,
  type TorgSection,
  type Trend,
} from './report-data.schema.ts';

const ZONE = 'Europe/Oslo';
const HOUR_MS = 3_600_000;
/** The summary page lists at most this many recommendations; the full list has its own section. */
const MAIN_RECOMMENDATIONS = 5;

/** Month and day rows (every scope and split) of a month and the month before, rolled up from stored hours. */
export interface MonthMetrics {
  rows: MetricRow[];
  rules: MetricsResult['rules'];
  computedDays: string[];
  missingDays: string[];
}

export interface DeadLetterCount {
  /** null when the dead letter's topic named no torg (tagged `unknown`). */
  torg: string | null;
  code: string;
  count: number;
}

export interface ReportSources {
  metricsMonth(month: string): Promise<MonthMetrics>;
  indicators(month: string): Promise<IndicatorResult | null>;
  recommendations(asOfMs: number): Promise<RecommendationResult | null>;
  bookings(month: string): Promise<BookingAnalysisResult | null>;
  deadLetters(fromMs: number, toMs: number): Promise<DeadLetterCount[]>;
  /**
   * The indicator definitions behind `indicators`: tells which indicator values are counts of
   * people (or such a count per resident) and so fall under the suppression rule. Without them no
   * indicator value is suppressed.
   */
  readonly indicatorDefinitions?: readonly IndicatorDefinition[];
}

export interface BuildReportOptions {
  month: string;
  torgs: readonly Torg[];
  /** Display name (torg config `municipality`, e.g. "Asker kommune"); the municipality row is found by its scope. */
  municipality: string;
  minCount: number;
  now: () => number;
}

/** A count of people under the suppression rule (README "Suppression"). */
export function suppress(value: number | null, minCount: number): Suppressible {
  if (value === null) return { value: null, suppressed: false };
  return value < minCount ? { value: null, suppressed: true } : { value, suppressed: false };
}

export function trendOf(current: Suppressible, previous: Suppressible): Trend {
  const both = current.value !== null && previous.value !== null;
  return {
    previous,
    absolute: both ? current.value! - previous.value! : null,
    relative: both && previous.value! > 0 ? (current.value! - previous.value!) / previous.value! : null,
  };
}

/** Staffed and meråpent hours of a torg in [fromMs, toMs) from its opening hours, holidays and exceptions. */
function openHoursOf(torg: Torg, fromMs: number, toMs: number): { staffed: number; meraapent: number } {
  let staffed = 0;
  let meraapent = 0;
  for (const i of openIntervals(torg, fromMs, toMs)) {
    if (i.kind === 'staffed') staffed += (i.endMs - i.startMs) / HOUR_MS;
    else meraapent += (i.endMs - i.startMs) / HOUR_MS;
  }
  return { staffed, meraapent };
}

const PEOPLE_METRICS = new Set(['visits', 'peakOccupancy']);
const isPeopleCount = (op: Operand): boolean =>
  (op.kind === 'metric' && PEOPLE_METRICS.has(op.ref.metric)) || (op.kind === 'booking' && op.ref.field === 'attendance');

/**
 * The count of people an indicator value is or reveals: the value itself for a count, value ×
 * residents ÷ per for a count per resident, value × c for a count ÷ constant; null for anything
 * else (shares, hours, events, dispersion), which the suppression rule does not cover.
 */
export function peopleCountOf(def: IndicatorDefinition, value: number | null, residents: number): number | null {
  if (value === null) return null;
  const f = def.formula;
  if (f.kind === 'value') return isPeopleCount(f.of) ? value : null;
  if (f.kind !== 'ratio' || !isPeopleCount(f.numerator)) return null;
  if (f.denominator.kind === 'population') return (value * residents) / f.denominator.per;
  if (f.denominator.kind === 'constant') return value * f.denominator.value;
  return null;
}

function reportIndicator(v: IndicatorValue, defs: readonly IndicatorDefinition[] | undefined, torgs: readonly Torg[], municipality: string, minCount: number): ReportIndicator {
  const torg = v.torg === null ? undefined : torgs.find((t) => t.id === v.torg);
  const residents = torg ? torg.population : torgs.reduce((s, t) => s + t.population, 0);
  const def = defs?.find((d) => d.id === v.indicator);
  // Rounded: value × residents ÷ per of an integer count can come back as 4.999… in floating point.
  const below = (x: number | null): boolean => {
    const count = def ? peopleCountOf(def, x, residents) : null;
    return count !== null && Math.round(count) < minCount;
  };
  const suppressed = below(v.value);
  return {
    effectGoal: v.effectGoal,
    indicator: v.indicator,
    name: { nb: v.name.nb, en: v.name.en ?? v.name.nb },
    unit: { nb: v.unit.nb, en: v.unit.en ?? v.unit.nb },
    scopeId: v.scopeId,
    scopeName: torg ? torg.name : v.torg === null ? municipality : v.scopeId,
    value: suppressed ? null : v.value,
    suppressed,
    expected: v.expected,
    status: v.status,
    trendVsPreviousMonth: suppressed || below(v.previousMonthValue) ? null : v.trendVsPreviousMonth,
    completeness: v.completeness,
    lowCompleteness: v.lowCompleteness,
    missing: v.missing,
  };
}

function reportRecommendation(r: Recommendation, torgs: readonly Torg[]): ReportRecommendation {
  return {
    torg: r.torg,
    torgName: torgs.find((t) => t.id === r.torg)?.name ?? r.torg,
    module: r.module,
    kind: r.kind,
    message: r.message,
    weeksMet: r.weeksMet,
    weeksWithData: r.weeksWithData,
    minWeeks: r.minWeeks,
    windowWeeks: r.windowWeeks,
    evidence: r.evidence,
  };
}

function ghostBookingsOf(result: BookingAnalysisResult, torg: string, minCount: number): GhostBookings {
  let slots = 0;
  let ghosts = 0;
  let unknown = 0;
  let used = 0;
  let bookedHours = 0;
  let ghostHours = 0;
  let unbookedUseHours = 0;
  let attendance: number | null = null;
  let low = false;
  const zones = result.zones.filter((z) => z.torg === torg);
  for (const z of zones) {
    slots += z.slots;
    ghosts += z.ghost.count;
    unknown += z.unknown;
    used += z.used;
    bookedHours += z.bookedHours;
    ghostHours += z.ghost.hours;
    unbookedUseHours += z.unbookedUseHours;
    low ||= z.lowCompleteness;
    // Per slot, not per category: a slot of two categories is counted in both category sums.
    for (const s of z.slotDetails) if (s.attendance !== null) attendance = (attendance ?? 0) + s.attendance;
  }
  return {
    bookableZones: zones.length,
    slots,
    ghosts,
    unknown,
    // As the bookings API defines it (booking-analysis.ts rules.ghost): ghosts ÷ slots used or ghost.
    ghostShare: used + ghosts > 0 ? ghosts / (used + ghosts) : null,
    bookedHours,
    ghostHours,
    unbookedUseHours,
    attendance: suppress(attendance, minCount),
    lowCompleteness: low,
  };
}

export async function buildReport(sources: ReportSources, opts: BuildReportOptions): Promise<ReportData> {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.month)) throw new PlatformError('E_CONFIG_INVALID', `report month "${opts.month}" is not YYYY-MM`);
  if (!Number.isInteger(opts.minCount) || opts.minCount < 1) throw new PlatformError('E_CONFIG_INVALID', `report minCount ${opts.minCount} is not a whole number ≥ 1`);
  const now = opts.now();
  const [y, m] = opts.month.split('-').map(Number) as [number, number];
  const month = localMonth(Date.UTC(y, m - 1, 15), ZONE);
  const prev = localMonth(month.startMs - 1, ZONE);
  const min = opts.minCount;

  const [metrics, indicators, recommendations, bookings, deadLetters] = await Promise.all([
    sources.metricsMonth(month.label),
    sources.indicators(month.label),
    // As the API would have answered at the month's end (the last complete ISO weeks before it).
    sources.recommendations(Math.min(month.endMs, now)),
    sources.bookings(month.label),
    sources.deadLetters(month.startMs, month.endMs),
  ]);

  // The municipality row is the one row of its scope; its scopeId is the metrics option
  // `municipality` (a slug, 'asker'), which need not be the display name passed here.
  const monthRow = (scope: MetricRow['scope'], scopeId: string | null, split: Split, period: { startMs: number; endMs: number }): MetricRow | undefined =>
    metrics.rows.find(
      (r) => r.period === 'month' && r.scope === scope && (scopeId === null || r.scopeId === scopeId) && r.split === split && r.start === period.startMs && r.end === period.endMs,
    );
  const visitsOf = (r: MetricRow | undefined): Suppressible => suppress(r?.visits ?? null, min);

  const monthHours = (month.endMs - month.startMs) / HOUR_MS;
  const torgs: TorgSection[] = [];
  const quality: ReportData['dataQuality']['torgs'] = [];
  for (const t of opts.torgs) {
    const all = monthRow('torg', t.id, 'all', month);
    const staffedRow = monthRow('torg', t.id, 'staffed', month);
    const meraRow = monthRow('torg', t.id, 'meraapent', month);
    const visits = visitsOf(all);
    const open = openHoursOf(t, month.startMs, month.endMs);
    const meraVisits = visitsOf(meraRow);
    const modules: ModuleUsage[] = [];
    for (const module of MODULE_TYPES) {
      const zones = t.zones.filter((z) => z.module === module);
      if (zones.length === 0) continue;
      const r = monthRow('module', `${t.id}/${module}`, 'all', month);
      modules.push({
        module: module satisfies ModuleType,
        capacity: zones.reduce((s, z) => s + z.capacity, 0),
        utilisation: r?.utilisation ?? null,
        timeUsedShare: r?.timeUsedShare ?? null,
        peakOccupancy: suppress(r?.peakOccupancy ?? null, min),
        completeness: r?.completeness ?? null,
        lowCompleteness: r?.lowCompleteness ?? false,
      });
    }
    // Every local day of the month (23 or 25 hours on DST days), a day without a row as no data.
    const dayRows = new Map(
      metrics.rows.filter((r) => r.period === 'day' && r.scope === 'torg' && r.scopeId === t.id && r.split === 'all').map((r) => [r.start, r] as const),
    );
    const dailyVisits: TorgSection['dailyVisits'] = [];
    for (let day = localDay(month.startMs, ZONE); day.startMs < month.endMs; day = localDay(day.endMs, ZONE)) {
      const r = dayRows.get(day.startMs);
      dailyVisits.push({ date: day.label, visits: suppress(r !== undefined && r.end === day.endMs ? r.visits : null, min) });
    }
    torgs.push({
      id: t.id,
      name: t.name,
      openHours: { month: monthHours, staffed: open.staffed, meraapent: open.meraapent },
      visits,
      visitsTrend: trendOf(visits, visitsOf(monthRow('torg', t.id, 'all', prev))),
      visitsBySplit: { staffed: visitsOf(staffedRow), meraapent: meraVisits, closed: visitsOf(monthRow('torg', t.id, 'closed', month)) },
      meraapent: {
        openHours: open.meraapent,
        visits: meraVisits,
        shareOfVisits: meraVisits.value !== null && visits.value !== null && visits.value > 0 ? meraVisits.value / visits.value : null,
        timeUsedShare: meraRow?.timeUsedShare ?? null,
      },
      avgOccupancy: all?.avgOccupancy ?? null,
      peakOccupancy: suppress(all?.peakOccupancy ?? null, min),
      utilisation: all?.utilisation ?? null,
      modules,
      climate: all?.climate ?? { co2Compliance: null, temperatureCompliance: null, humidityCompliance: null },
      ghostBookings: bookings ? ghostBookingsOf(bookings, t.id, min) : null,
      completeness: all?.completeness ?? null,
      lowCompleteness: all?.lowCompleteness ?? false,
      dailyVisits,
    });
    const openHours = open.staffed + open.meraapent;
    const uptime = all?.completeness ?? null;
    quality.push({
      torg: t.id,
      name: t.name,
      uptime,
      reportingHours: uptime === null ? null : uptime * openHours,
      openHours,
      lowCompleteness: all?.lowCompleteness ?? false,
      drift: all?.drift ?? null,
      deadLetters: deadLetters.filter((d) => d.torg === t.id).reduce((s, d) => s + d.count, 0),
    });
  }

  const muni = monthRow('municipality', null, 'all', month);
  const muniVisits = visitsOf(muni);
  const reportIndicators = (indicators?.values ?? []).map((v) => reportIndicator(v, sources.indicatorDefinitions, opts.torgs, opts.municipality, min));
  const statusCounts = Object.fromEntries(INDICATOR_STATUSES.map((s) => [s, reportIndicators.filter((i) => i.status === s).length])) as Record<
    (typeof INDICATOR_STATUSES)[number],
    number
  >;
  const recs = (recommendations?.recommendations ?? []).map((r) => reportRecommendation(r, opts.torgs));
  const main = recs
    .filter((r) => r.kind !== 'hold')
    .sort((a, b) => b.weeksMet - a.weeksMet)
    .slice(0, MAIN_RECOMMENDATIONS);

  const byCode = new Map<string, number>();
  for (const d of deadLetters) byCode.set(d.code, (byCode.get(d.code) ?? 0) + d.count);
  const known = new Set(opts.torgs.map((t) => t.id));

  const data: ReportData = {
    month: month.label,
    startMs: month.startMs,
    endMs: month.endMs,
    previousMonth: prev.label,
    generatedAt: now,
    municipality: opts.municipality,
    minCount: min,
    definitionVersions: { indicators: indicators?.definitionVersion ?? null, recommendations: recommendations?.rulesVersion ?? null },
    rules: {
      hold: metrics.rules.hold,
      gaps: metrics.rules.gaps,
      completenessThreshold: metrics.rules.completenessThreshold,
      indicatorStatus: indicators?.statusRule ?? null,
      bookingsGhost: bookings?.rules.ghost ?? null,
    },
    summary: {
      visits: muniVisits,
      visitsTrend: trendOf(muniVisits, visitsOf(monthRow('municipality', null, 'all', prev))),
      completeness: muni?.completeness ?? null,
      lowCompleteness: muni?.lowCompleteness ?? false,
      indicatorStatus: statusCounts,
      mainRecommendations: main,
    },
    torgs,
    indicators: reportIndicators,
    recommendations: { weeks: recommendations?.weeks ?? [], items: recs },
    dataQuality: {
      torgs: quality,
      deadLetters: {
        total: deadLetters.reduce((s, d) => s + d.count, 0),
        byCode: [...byCode].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
        unattributed: deadLetters.filter((d) => d.torg === null || !known.has(d.torg)).reduce((s, d) => s + d.count, 0),
      },
      computedDays: metrics.computedDays,
      missingDays: metrics.missingDays,
    },
  };
  // The report is a boundary (JSON answer, files for the board): a builder bug fails here, loudly.
  return reportDataSchema.parse(data);
}

/**
 * Dimensioning estimate: how many rooms (møterom) or seats (other modules) a torg needs so that the
 * peak concurrent demand of an open hour is within capacity in a chosen share of open hours.
 * Method and its limits: README.md "Dimensioning".
 */
import { z } from 'zod';
import { openIntervals } from '../../devices/torg/opening-hours.ts';
import { MODULE_TYPES } from '../../devices/torg/torg-config.schema.ts';
import type { ModuleType, Torg } from '../../devices/torg/torg-config.schema.ts';
import type { MetricRow } from '../metrics/metric-row.schema.ts';
import { lastIsoWeeks } from './recommend.ts';
import type { SkaleringRules } from './skalering-rules.schema.ts';

export const DIMENSIONING_REASONS = ['no-complete-hours', 'presence-only-zones'] as const;

export const dimensioningSchema = z
  .object({
    torg: z.string(),
    module: z.enum(MODULE_TYPES),
    unit: z.enum(['rooms', 'seats']),
    percentile: z.number(),
    from: z.number().int(),
    to: z.number().int(),
    /** Open hours whose module hour row was fully reported (completeness 1) and carries the demand. */
    hours: z.number().int().min(0),
    /** Open hours left out because the module was not fully reported (a member silent, or no row). */
    hoursIncomplete: z.number().int().min(0),
    /**
     * Fully reported open hours left out because their stored row has no simultaneous room count
     * (an hour stored before `peakRoomsInUse` existed; recomputing its day fills it in).
     */
    hoursUnknown: z.number().int().min(0),
    /** Zones of the module that report presence only (no head count): a seat estimate needs every head count. */
    presenceOnlyZones: z.array(z.string()),
    /** Peak simultaneous demand at the percentile (nearest rank); null without an estimate (see `reason`). */
    demandAtPercentile: z.number().nullable(),
    /** Rooms or seats needed: the demand rounded up. */
    needed: z.number().int().nullable(),
    /** Rooms, or seats (Σ capacity of the module's zones), the torg has now. */
    current: z.number().int(),
    /** needed − current: positive means more are needed. */
    difference: z.number().int().nullable(),
    /** Why there is no estimate; null when there is one. */
    reason: z.object({ code: z.enum(DIMENSIONING_REASONS), message: z.object({ nb: z.string(), en: z.string() }) }).nullable(),
    method: z.string(),
  })
  .strict();
export type Dimensioning = z.infer<typeof dimensioningSchema>;

export const DIMENSIONING_METHOD =
  'Per open hour, from the module hour row (split all), which holds the totals of its rooms at the same moment: rooms = the most rooms of the module occupied at one moment (peakRoomsInUse); ' +
  'seats = the highest simultaneous head count of the module (peakOccupancy), only when every room of the module counts heads. ' +
  'An hour counts only when the module was fully reported (completeness 1: every room reporting all of its open time). ' +
  'Needed = the p-th percentile of these hourly demands, nearest-rank (smallest value with at least p of the hours at or below it), rounded up.';

/** Nearest-rank percentile: the smallest value such that at least a share p of the values are ≤ it. */
export function nearestRank(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // p × n in binary floating point can land just above an integer (0.7 × 10 = 7.000000000000001),
  // which would move the rank up by one; the tolerance keeps exact products exact.
  const rank = Math.max(1, Math.ceil(p * sorted.length - 1e-9));
  return sorted[rank - 1]!;
}

const HOUR_MS = 3_600_000;

/** Starts of the UTC hours in [fromMs, toMs) with open time (Oslo offsets are whole hours, so these are the engine's hour buckets). */
function openHourStarts(torg: Torg, fromMs: number, toMs: number): number[] {
  const hours = new Set<number>();
  for (const i of openIntervals(torg, fromMs, toMs)) {
    for (let h = Math.floor(i.startMs / HOUR_MS) * HOUR_MS; h < i.endMs; h += HOUR_MS) hours.add(h);
  }
  return [...hours].sort((a, b) => a - b);
}

const REASONS: Record<(typeof DIMENSIONING_REASONS)[number], { nb: string; en: string }> = {
  'no-complete-hours': {
    nb: 'Ingen fullt rapporterte åpne timer i perioden.',
    en: 'No fully reported open hours in the period.',
  },
  'presence-only-zones': {
    nb: 'Modulen har soner som bare melder tilstedeværelse (ikke antall personer), så behovet for plasser kan ikke beregnes.',
    en: 'The module has zones that report presence only (no head count), so the seats needed cannot be estimated.',
  },
};

/**
 * Rooms or seats a module of a torg needs over [fromMs, toMs), from hour rows (period `hour`, split
 * `all`): the module's rows give the demand, its zones' rows tell which zones count heads. Open hours
 * come from the torg's opening hours, so an open hour without a module row counts as not reported.
 */
export function dimension(hourRows: readonly MetricRow[], torg: Torg, module: ModuleType, options: { percentile: number; fromMs: number; toMs: number }): Dimensioning {
  const unit = module === 'møterom' ? 'rooms' : 'seats';
  const zones = torg.zones.filter((z) => z.module === module);
  const moduleId = `${torg.id}/${module}`;
  const moduleRows = new Map<number, MetricRow>();
  const presenceOnly = new Set<string>();
  let moduleWithoutHeadcount = false;
  for (const r of hourRows) {
    if (r.period !== 'hour' || r.torg !== torg.id || r.split !== 'all' || r.start < options.fromMs || r.start >= options.toMs) continue;
    // A zone (or module) with reported time but no time at target had no head count (metrics README "Zone occupancy").
    const withoutHeadcount = r.completeness !== null && r.completeness > 0 && r.timeAtTarget.under60 === null;
    if (r.scope === 'module' && r.scopeId === moduleId) {
      moduleRows.set(r.start, r);
      if (r.completeness === 1 && withoutHeadcount) moduleWithoutHeadcount = true;
    } else if (r.scope === 'zone' && withoutHeadcount && zones.some((z) => z.id === r.scopeId)) presenceOnly.add(r.scopeId);
  }
  const presenceOnlyZones = unit === 'seats' ? zones.filter((z) => presenceOnly.has(z.id)).map((z) => z.id) : [];
  // The module rule for utilisation (metrics README "Utilisation"): one presence-only room makes the
  // module presence-only, and its occupancy total is then not a head count.
  const seatsUnknown = unit === 'seats' && (presenceOnlyZones.length > 0 || moduleWithoutHeadcount);
  const demands: number[] = [];
  let hoursIncomplete = 0;
  let hoursUnknown = 0;
  for (const start of openHourStarts(torg, options.fromMs, options.toMs)) {
    const r = moduleRows.get(start);
    // Module completeness 1 = every member room reported all of the hour's open time; a partial hour could hide its peak.
    if (!r || r.completeness !== 1) {
      hoursIncomplete++;
      continue;
    }
    const demand = unit === 'rooms' ? r.peakRoomsInUse : r.peakOccupancy;
    if (demand === null) hoursUnknown++;
    else demands.push(demand);
  }
  const demandAtPercentile = seatsUnknown ? null : nearestRank(demands, options.percentile);
  const needed = demandAtPercentile === null ? null : Math.ceil(demandAtPercentile);
  const current = unit === 'rooms' ? zones.length : zones.reduce((s, z) => s + z.capacity, 0);
  const reason = seatsUnknown ? 'presence-only-zones' : demands.length === 0 ? 'no-complete-hours' : null;
  return {
    torg: torg.id,
    module,
    unit,
    percentile: options.percentile,
    from: options.fromMs,
    to: options.toMs,
    hours: demands.length,
    hoursIncomplete,
    hoursUnknown,
    presenceOnlyZones,
    demandAtPercentile,
    needed,
    current,
    difference: needed === null ? null : needed - current,
    reason: reason === null ? null : { code: reason, message: REASONS[reason] },
    method: DIMENSIONING_METHOD,
  };
}

/**
 * Dimensioning of every module of every torg over the rules' `dimensioning.weeks` complete ISO weeks
 * before `asOfMs` (the same window definition as the recommendations).
 */
export function dimensionAll(rules: SkaleringRules, hourRows: readonly MetricRow[], torgs: readonly Torg[], asOfMs: number): Dimensioning[] {
  const weeks = lastIsoWeeks(asOfMs, rules.dimensioning.weeks);
  const fromMs = weeks[0]!.startMs;
  const toMs = weeks[weeks.length - 1]!.endMs;
  const out: Dimensioning[] = [];
  for (const torg of torgs) {
    const modules = [...new Set(torg.zones.map((z) => z.module))].filter((m) => !rules.modules || rules.modules.includes(m));
    for (const module of modules) out.push(dimension(hourRows, torg, module, { percentile: rules.dimensioning.percentile, fromMs, toMs }));
  }
  return out;
}

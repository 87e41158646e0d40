/**
 * Dimensioning estimate: how many rooms (møterom) or seats (other modules) a torg needs so that the
 * peak concurrent demand of an open hour is within capacity in a chosen share of open hours.
 * Method and its limits: README.md "Dimensioning".
 */
import { z } from 'zod';
import { MODULE_TYPES } from '../../devices/torg/torg-config.schema.ts';
import type { ModuleType, Torg } from '../../devices/torg/torg-config.schema.ts';
import type { MetricRow } from '../metrics/metric-row.schema.ts';
import { lastIsoWeeks } from './recommend.ts';
import type { SkaleringRules } from './skalering-rules.schema.ts';

export const dimensioningSchema = z
  .object({
    torg: z.string(),
    module: z.enum(MODULE_TYPES),
    unit: z.enum(['rooms', 'seats']),
    percentile: z.number(),
    from: z.number().int(),
    to: z.number().int(),
    /** Open hours in which every counted zone of the module was reporting. */
    hours: z.number().int().min(0),
    /** Open hours left out because a zone was not reporting or had no row. */
    hoursIncomplete: z.number().int().min(0),
    /** Zones left out of a seat estimate because they report presence only (no head count). */
    presenceOnlyZones: z.array(z.string()),
    /** Peak concurrent demand at the percentile (nearest rank); null without hours. */
    demandAtPercentile: z.number().nullable(),
    /** Rooms or seats needed: the demand rounded up. */
    needed: z.number().int().nullable(),
    /** Rooms, or seats (Σ capacity of the counted zones), the torg has now. */
    current: z.number().int(),
    /** needed − current: positive means more are needed. */
    difference: z.number().int().nullable(),
    method: z.string(),
  })
  .strict();
export type Dimensioning = z.infer<typeof dimensioningSchema>;

export const DIMENSIONING_METHOD =
  'Per open hour: rooms = number of rooms of the module with peak occupancy > 0 in the hour; seats = Σ peak occupancy of its head-counting zones. ' +
  'Hours where any counted zone was not reporting are left out. Needed = the p-th percentile of these hourly demands, nearest-rank (smallest value with at least p of the hours at or below it), rounded up.';

/** Nearest-rank percentile: the smallest value such that at least a share p of the values are ≤ it. */
export function nearestRank(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // p × n in binary floating point can land just above an integer (0.7 × 10 = 7.000000000000001),
  // which would move the rank up by one; the tolerance keeps exact products exact.
  const rank = Math.max(1, Math.ceil(p * sorted.length - 1e-9));
  return sorted[rank - 1]!;
}

export function dimension(hourRows: readonly MetricRow[], torg: Torg, module: ModuleType, options: { percentile: number; fromMs: number; toMs: number }): Dimensioning {
  const unit = module === 'møterom' ? 'rooms' : 'seats';
  const zones = torg.zones.filter((z) => z.module === module);
  const byZone = new Map<string, Map<number, MetricRow>>();
  for (const r of hourRows) {
    if (r.period !== 'hour' || r.scope !== 'zone' || r.torg !== torg.id || r.split !== 'all' || r.start < options.fromMs || r.start >= options.toMs) continue;
    if (!zones.some((z) => z.id === r.scopeId)) continue;
    let m = byZone.get(r.scopeId);
    if (!m) byZone.set(r.scopeId, (m = new Map()));
    m.set(r.start, r);
  }
  // A zone is head-counting when its rows carry time at target (only computed from a count).
  const headcount = (id: string): boolean => [...(byZone.get(id)?.values() ?? [])].some((r) => r.timeAtTarget.under60 !== null);
  const presenceOnlyZones = unit === 'seats' ? zones.filter((z) => !headcount(z.id)).map((z) => z.id) : [];
  const counted = zones.filter((z) => !presenceOnlyZones.includes(z.id));
  // Open hours: any counted zone has a row with open time in the hour (completeness is null without open time).
  const openHours = new Set<number>();
  for (const z of counted) for (const [start, r] of byZone.get(z.id) ?? []) if (r.completeness !== null) openHours.add(start);
  const demands: number[] = [];
  let hoursIncomplete = 0;
  for (const start of [...openHours].sort((a, b) => a - b)) {
    let demand = 0;
    let complete = true;
    for (const z of counted) {
      const r = byZone.get(z.id)?.get(start);
      // The hour counts only if the zone reported all of its open time (a partial hour could hide its peak).
      if (!r || r.completeness !== 1 || r.peakOccupancy === null) {
        complete = false;
        break;
      }
      demand += unit === 'rooms' ? (r.peakOccupancy > 0 ? 1 : 0) : r.peakOccupancy;
    }
    if (complete) demands.push(demand);
    else hoursIncomplete++;
  }
  const demandAtPercentile = nearestRank(demands, options.percentile);
  const needed = demandAtPercentile === null ? null : Math.ceil(demandAtPercentile);
  const current = unit === 'rooms' ? counted.length : counted.reduce((s, z) => s + z.capacity, 0);
  return {
    torg: torg.id,
    module,
    unit,
    percentile: options.percentile,
    from: options.fromMs,
    to: options.toMs,
    hours: demands.length,
    hoursIncomplete,
    presenceOnlyZones,
    demandAtPercentile,
    needed,
    current,
    difference: needed === null ? null : needed - current,
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

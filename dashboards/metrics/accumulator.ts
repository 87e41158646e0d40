/**
 * Mergeable sums behind one metric row. Hours are computed from raw readings; days, weeks and months
 * are merges of these over time, so a recomputed hour changes every period that contains it and
 * nothing else has to be re-read. Modules and the municipality are not time merges: their occupancy
 * is the sum of their members' at each moment, computed by the engine's time sweep; only the
 * member-additive parts (climate times, visits, runs, drift) are merged across members, see
 * README.md "Scopes".
 */
import type { MetricRow } from './metric-row.schema.ts';

export interface Accumulator {
  /** Time of the split inside the bucket (ms). */
  spanMs: number;
  /** Part of spanMs with every sensor behind the scope reporting. */
  reportedMs: number;
  /** ∫ occupancy dt over reported time (person·ms). */
  occMs: number;
  peak: number | null;
  /**
   * Modules only: the most member rooms with occupancy > 0 at one moment of reported time. null
   * elsewhere, and "unknown" when `peak` is set but this is not (an hour stored before the field).
   */
  roomsInUsePeak: number | null;
  /** Reported time with occupancy > 0. */
  usedMs: number;
  utilNum: number;
  utilDen: number;
  /** Reported time of headcount scopes, split by occupancy ÷ capacity. */
  targetKnownMs: number;
  under60Ms: number;
  from60to100Ms: number;
  over100Ms: number;
  co2OkMs: number;
  co2KnownMs: number;
  tempOkMs: number;
  tempKnownMs: number;
  humOkMs: number;
  humKnownMs: number;
  /** null for scopes without counting lines. */
  visits: number | null;
  /** Occupied runs that started in the bucket, minutes. */
  runs: number[];
  driftBelowZero: number | null;
  driftClosingReset: number | null;
}

export function emptyAccumulator(withVisits: boolean): Accumulator {
  return {
    spanMs: 0,
    reportedMs: 0,
    occMs: 0,
    peak: null,
    roomsInUsePeak: null,
    usedMs: 0,
    utilNum: 0,
    utilDen: 0,
    targetKnownMs: 0,
    under60Ms: 0,
    from60to100Ms: 0,
    over100Ms: 0,
    co2OkMs: 0,
    co2KnownMs: 0,
    tempOkMs: 0,
    tempKnownMs: 0,
    humOkMs: 0,
    humKnownMs: 0,
    visits: withVisits ? 0 : null,
    runs: [],
    driftBelowZero: withVisits ? 0 : null,
    driftClosingReset: withVisits ? 0 : null,
  };
}

const addNullable = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : a + b);
const maxNullable = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/** Reported time (peak set) without a room count: the count is unknown, not zero. */
const roomsUnknown = (x: Accumulator): boolean => x.peak !== null && x.roomsInUsePeak === null;

/** Adds `b` into `a` for disjoint time (hours into days, weeks, months): the peak is the highest peak. */
export function mergeInto(a: Accumulator, b: Accumulator): void {
  // One hour of unknown room count (stored before the field existed) makes the merged peak unknown:
  // the highest of the known hours could understate it.
  a.roomsInUsePeak = roomsUnknown(a) || roomsUnknown(b) ? null : maxNullable(a.roomsInUsePeak, b.roomsInUsePeak);
  a.spanMs += b.spanMs;
  a.reportedMs += b.reportedMs;
  a.occMs += b.occMs;
  a.peak = maxNullable(a.peak, b.peak);
  a.usedMs += b.usedMs;
  a.utilNum += b.utilNum;
  a.utilDen += b.utilDen;
  a.targetKnownMs += b.targetKnownMs;
  a.under60Ms += b.under60Ms;
  a.from60to100Ms += b.from60to100Ms;
  a.over100Ms += b.over100Ms;
  mergeMembersInto(a, b);
}

/**
 * Adds the member-additive parts of `b` into `a` (climate times, visits, dwell runs, drift). The
 * occupancy parts (span, reported time, occupancy, peak, utilisation, time at target) of a module
 * or the municipality are the members' occupancy summed at the same moment (issue 6 review), which
 * per-member sums cannot give, so the engine computes them in its time sweep.
 */
export function mergeMembersInto(a: Accumulator, b: Accumulator): void {
  a.co2OkMs += b.co2OkMs;
  a.co2KnownMs += b.co2KnownMs;
  a.tempOkMs += b.tempOkMs;
  a.tempKnownMs += b.tempKnownMs;
  a.humOkMs += b.humOkMs;
  a.humKnownMs += b.humKnownMs;
  a.visits = addNullable(a.visits, b.visits);
  for (const r of b.runs) a.runs.push(r);
  a.driftBelowZero = addNullable(a.driftBelowZero, b.driftBelowZero);
  a.driftClosingReset = addNullable(a.driftClosingReset, b.driftClosingReset);
}

const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value fields of a row from its sums. */
export function rowValues(
  a: Accumulator,
  threshold: number,
): Pick<
  MetricRow,
  'visits' | 'avgOccupancy' | 'peakOccupancy' | 'peakRoomsInUse' | 'utilisation' | 'timeUsedShare' | 'dwell' | 'timeAtTarget' | 'climate' | 'drift' | 'completeness' | 'lowCompleteness'
> {
  const runs = [...a.runs].sort((x, y) => x - y);
  const completeness = ratio(a.reportedMs, a.spanMs);
  return {
    visits: a.visits,
    avgOccupancy: ratio(a.occMs, a.reportedMs),
    peakOccupancy: a.peak,
    peakRoomsInUse: a.roomsInUsePeak,
    utilisation: ratio(a.utilNum, a.utilDen),
    timeUsedShare: ratio(a.usedMs, a.reportedMs),
    dwell: {
      count: runs.length,
      meanMinutes: runs.length > 0 ? runs.reduce((s, r) => s + r, 0) / runs.length : null,
      p50Minutes: median(runs),
      maxMinutes: runs.length > 0 ? runs[runs.length - 1]! : null,
    },
    timeAtTarget: {
      under60: ratio(a.under60Ms, a.targetKnownMs),
      from60to100: ratio(a.from60to100Ms, a.targetKnownMs),
      over100: ratio(a.over100Ms, a.targetKnownMs),
    },
    climate: {
      co2Compliance: ratio(a.co2OkMs, a.co2KnownMs),
      temperatureCompliance: ratio(a.tempOkMs, a.tempKnownMs),
      humidityCompliance: ratio(a.humOkMs, a.humKnownMs),
    },
    drift: a.driftBelowZero === null || a.driftClosingReset === null ? null : { belowZero: a.driftBelowZero, closingReset: a.driftClosingReset },
    completeness,
    lowCompleteness: completeness !== null && completeness < threshold,
  };
}

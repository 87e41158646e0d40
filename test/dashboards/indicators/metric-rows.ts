import { metricRowSchema } from '../../../dashboards/metrics/metric-row.schema.ts';
import type { MetricRow, Scope, Split } from '../../../dashboards/metrics/metric-row.schema.ts';

/** A metric row (month by default) with the given values and everything else empty, validated by the row schema. */
export function row(p: {
  scope: Scope;
  scopeId: string;
  torg?: string | null;
  period?: MetricRow['period'];
  label: string;
  split?: Split;
  start?: number;
  visits?: number | null;
  utilisation?: number | null;
  peakOccupancy?: number | null;
  avgOccupancy?: number | null;
  co2?: number | null;
  completeness?: number | null;
  lowCompleteness?: boolean;
  /** A head-counting zone: its row gets a time-at-target split (the fractions are arbitrary; the indicators only read whether it is non-null). */
  headcount?: boolean;
}): MetricRow {
  const completeness = p.completeness === undefined ? 1 : p.completeness;
  return metricRowSchema.parse({
    scope: p.scope,
    scopeId: p.scopeId,
    torg: p.torg === undefined ? (p.scope === 'municipality' ? null : p.scope === 'torg' ? p.scopeId : null) : p.torg,
    period: p.period ?? 'month',
    start: p.start ?? 0,
    end: (p.start ?? 0) + 1,
    label: p.label,
    split: p.split ?? 'all',
    visits: p.visits ?? null,
    avgOccupancy: p.avgOccupancy ?? null,
    peakOccupancy: p.peakOccupancy ?? null,
    utilisation: p.utilisation ?? null,
    timeUsedShare: null,
    dwell: { count: 0, meanMinutes: null, p50Minutes: null, maxMinutes: null },
    timeAtTarget: p.headcount ? { under60: 1, from60to100: 0, over100: 0 } : { under60: null, from60to100: null, over100: null },
    climate: { co2Compliance: p.co2 ?? null, temperatureCompliance: null, humidityCompliance: null },
    drift: null,
    completeness,
    lowCompleteness: p.lowCompleteness ?? (completeness !== null && completeness < 0.8),
  });
}

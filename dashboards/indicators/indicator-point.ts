/**
 * Indicator value → `indicator` point (devices/contract/influx-layout.ts INDICATOR_MEASUREMENT),
 * written with ms precision to RP_AGGREGATES by whoever stores the monthly values.
 */
import { INDICATOR_MEASUREMENT } from '../../devices/contract/influx-layout.ts';
import { escapeTag } from '../../ingest/line-protocol.ts';
import type { IndicatorValue } from './indicator-engine.ts';

// String fields escape double quote and backslash, per the line protocol reference
// (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/#special-characters).
const escapeString = (s: string): string => s.replace(/(["\\])/g, '\\$1');
const float = (v: number): string => (Number.isInteger(v) ? `${v}.0` : String(v));

export function indicatorValueToLine(v: IndicatorValue): string {
  const tags = `indicator=${escapeTag(v.indicator)},scopeId=${escapeTag(v.scopeId)}`;
  const fields = [
    `definitionVersion="${escapeString(v.definitionVersion)}"`,
    `effectGoal=${v.effectGoal}i`,
    `valueKnown=${v.value !== null}`,
    `expected=${float(v.expected)}`,
    `status="${v.status}"`,
    `lowCompleteness=${v.lowCompleteness}`,
    `missing="${escapeString(v.missing.join('; '))}"`,
  ];
  const optional = ['value', 'previousMonthValue', 'trendVsPreviousMonth', 'trendVsBaseline', 'completeness'] as const;
  for (const k of optional) {
    const x = v[k];
    if (x !== null) fields.push(`${k}=${float(x)}`);
  }
  return `${INDICATOR_MEASUREMENT.measurement},${tags} ${fields.join(',')} ${v.start}`;
}

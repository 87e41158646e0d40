/**
 * Reading → InfluxDB line protocol, following the layout in devices/contract/influx-layout.ts.
 *
 * Hand-written rather than @influxdata/influxdb-client's `Point` because this is the ingest's hot
 * path (hundreds of thousands of readings per second): Point allocates a map per field and formats
 * through generic converters. The escaping rules are InfluxDB's line protocol reference
 * (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/): measurement
 * escapes comma and space; tag keys, tag values and field keys escape comma, equals and space.
 * A test checks our output against influxdb-client's `Point` for the same input.
 */
import { MEASUREMENTS, QUALITY_FIELDS, type FieldType } from '../devices/contract/influx-layout.ts';
import type { Reading } from '../devices/contract/reading.schema.ts';

const NEEDS_TAG_ESCAPE = /[,= \\]/;
function escapeTag(s: string): string {
  return NEEDS_TAG_ESCAPE.test(s) ? s.replace(/([,= \\])/g, '\\$1') : s;
}

function formatField(type: FieldType, value: unknown): string | null {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? `${value}i` : null;
    case 'float':
      // Always written as a float, even when the value is whole, so the field's type never changes.
      return typeof value === 'number' && Number.isFinite(value) ? String(value) : null;
    case 'boolean':
      return typeof value === 'boolean' ? (value ? 'true' : 'false') : null;
  }
}

/**
 * One line of line protocol for a validated reading. `timeMs` is the reading's time in ms (already
 * parsed by validation). Tags are emitted in key order (InfluxDB's recommendation for write speed).
 */
/** Field names and types per kind, computed once: Object.entries per reading showed in profiles. */
const FIELD_LISTS = Object.fromEntries(
  Object.entries(MEASUREMENTS).map(([kind, layout]) => [kind, Object.entries(layout.fields) as [string, FieldType][]]),
) as Record<Reading['kind'], [string, FieldType][]>;

export function readingToLine(torg: string, reading: Reading, timeMs: number): string {
  const layout = MEASUREMENTS[reading.kind];
  // Tag keys sorted: device < line < torg.
  let line = `${layout.measurement},device=${escapeTag(reading.device)}`;
  if (reading.kind === 'counter') line += `,line=${escapeTag(reading.line)}`;
  line += `,torg=${escapeTag(torg)} `;
  let first = true;
  const r = reading as unknown as Record<string, unknown>;
  const fields = FIELD_LISTS[reading.kind];
  for (let i = 0; i < fields.length; i++) {
    const [name, type] = fields[i]!;
    const v = r[name];
    if (v === undefined) continue;
    const f = formatField(type, v);
    if (f === null) continue;
    line += (first ? '' : ',') + name + '=' + f;
    first = false;
  }
  if (reading.receivedAt !== undefined) {
    const lag = Date.parse(reading.receivedAt) - timeMs;
    line += `,rxLagMs=${formatField(QUALITY_FIELDS.rxLagMs, lag)}`;
  }
  if (reading.clockSuspect !== undefined) line += `,clockSuspect=${reading.clockSuspect ? 'true' : 'false'}`;
  return `${line} ${timeMs}`;
}

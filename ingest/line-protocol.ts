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
import { MEASUREMENTS, type FieldType, type QUALITY_FIELDS } from '../devices/contract/influx-layout.ts';
import type { Reading } from '../devices/contract/reading.schema.ts';

/**
 * Escapes a tag key or value: comma, equals sign and space, the three characters InfluxDB 1.x
 * unescapes in tags. A backslash is NOT escaped: InfluxDB 1.6 stores `a\\b` as two backslashes
 * (checked against the real server). Every tag value we write is a validated id (no backslash can
 * reach a tag: slugs, device ids, reason codes, the ingest's client id).
 */
const NEEDS_TAG_ESCAPE = /[,= ]/;
export function escapeTag(s: string): string {
  return NEEDS_TAG_ESCAPE.test(s) ? s.replace(/([,= ])/g, '\\$1') : s;
}

/**
 * Per-kind field serialisers, generated once from the layout in influx-layout.ts (which stays the only
 * place the fields are listed). A generic loop reading `reading[name]` is a megamorphic property access
 * on objects whose shape depends on which optional fields are present; profiles showed it at about 1 µs
 * per reading. The generated function reads each field by its literal name instead. Field names come
 * from our own constant and are checked against an identifier pattern before they are compiled.
 *
 * Types: integers get the `i` suffix, floats are written as plain numbers even when whole, so a field's
 * type never changes (InfluxDB 1.x refuses a type change within a shard).
 */
type FieldWriter = (r: Record<string, unknown>) => string;

function compileFieldWriter(fields: Readonly<Record<string, FieldType>>): FieldWriter {
  const parts: string[] = [];
  for (const [name, type] of Object.entries(fields)) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`influx-layout: field name ${name} is not an identifier`);
    const v = `r.${name}`;
    const test =
      type === 'integer'
        ? `typeof ${v} === 'number' && Number.isInteger(${v})`
        : type === 'float'
          ? `typeof ${v} === 'number' && Number.isFinite(${v})`
          : `typeof ${v} === 'boolean'`;
    const value = type === 'integer' ? `${v} + 'i'` : type === 'float' ? `String(${v})` : `(${v} ? 'true' : 'false')`;
    parts.push(`if (${test}) s += (s === '' ? '' : ',') + '${name}=' + ${value};`);
  }
  return new Function('r', `let s = ''; ${parts.join(' ')} return s;`) as FieldWriter;
}

const FIELD_WRITERS = Object.fromEntries(
  Object.entries(MEASUREMENTS).map(([kind, layout]) => [kind, compileFieldWriter(layout.fields)]),
) as Record<Reading['kind'], FieldWriter>;

/**
 * The escaped `measurement,tags ` prefix of a series, cached per kind by device id: a torg has hundreds
 * of devices, so the same few thousand prefixes recur millions of times. A hit is checked against the
 * torg and line it was built for (a device's torg or line can change; then it is rebuilt). Bounded:
 * a kind's cache is cleared when it reaches the limit.
 */
const PREFIX_CACHE_MAX = 50_000;
interface CachedPrefix {
  torg: string;
  line: string | undefined;
  prefix: string;
}
const prefixCache = Object.fromEntries(Object.keys(MEASUREMENTS).map((k) => [k, new Map<string, CachedPrefix>()])) as Record<
  Reading['kind'],
  Map<string, CachedPrefix>
>;

function seriesPrefix(kind: Reading['kind'], device: string, line: string | undefined, torg: string): string {
  const cache = prefixCache[kind];
  const hit = cache.get(device);
  if (hit !== undefined && hit.torg === torg && hit.line === line) return hit.prefix;
  // Tag keys sorted (device < line < torg), InfluxDB's recommendation for write speed.
  let prefix = `${MEASUREMENTS[kind].measurement},device=${escapeTag(device)}`;
  if (line !== undefined) prefix += `,line=${escapeTag(line)}`;
  prefix += `,torg=${escapeTag(torg)} `;
  if (cache.size >= PREFIX_CACHE_MAX) cache.clear();
  cache.set(device, { torg, line, prefix });
  return prefix;
}

/**
 * One line of line protocol for a validated reading. `timeMs` is the reading's time in ms (already
 * parsed by validation). `pending`: the device is pending in the registry; adds the `pending=true`
 * quality field (never a tag, see QUALITY_FIELDS).
 */
export function readingToLine(torg: string, reading: Reading, timeMs: number, pending = false): string {
  let fields = FIELD_WRITERS[reading.kind](reading as unknown as Record<string, unknown>);
  if (reading.receivedAt !== undefined) {
    const lag = Date.parse(reading.receivedAt) - timeMs;
    if (Number.isInteger(lag)) fields += `,${'rxLagMs' satisfies keyof typeof QUALITY_FIELDS}=${lag}i`;
  }
  if (reading.clockSuspect !== undefined) fields += `,clockSuspect=${reading.clockSuspect ? 'true' : 'false'}`;
  if (pending) fields += `,${'pending' satisfies keyof typeof QUALITY_FIELDS}=true`;
  return `${seriesPrefix(reading.kind, reading.device, reading.kind === 'counter' ? reading.line : undefined, torg)}${fields} ${timeMs}`;
}

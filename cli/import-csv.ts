/**
 * `innbyggertorg import`: historical readings from CSV into InfluxDB, through the same validation
 * (devices/contract/validate.ts) and the same write path (ingest/line-protocol.ts + a PointWriter)
 * as live readings, so an imported point is indistinguishable from an ingested one.
 *
 * CSV: a header `time,device,kind` followed by any of the contract's field names (the fields of
 * devices/contract/influx-layout.ts plus `line`), in any order. An empty cell is an absent field;
 * numbers are parsed as numbers and `true`/`false` as booleans; anything else is passed on as text so
 * that the contract rejects it with its own reason (e.g. `occupied: yes`).
 */
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { DeadLetterReason } from '../devices/contract/errors.ts';
import { PlatformError } from '../devices/contract/errors.ts';
import { MEASUREMENTS, type FieldType } from '../devices/contract/influx-layout.ts';
import { validateReading } from '../devices/contract/validate.ts';
import { readingToLine } from '../ingest/line-protocol.ts';
import type { PointWriter } from '../ingest/point-writer.ts';

const FIELD_TYPES: ReadonlyMap<string, FieldType | 'string'> = new Map<string, FieldType | 'string'>([
  ...Object.values(MEASUREMENTS).flatMap((m) => Object.entries(m.fields) as [string, FieldType][]),
  ['line', 'string'],
]);
const REQUIRED = ['time', 'device', 'kind'] as const;

export type ImportRejectReason = DeadLetterReason | 'E_CSV_ROW';

export interface ImportOptions {
  torg: string;
  /** Clock for the age/future limits, ms. */
  now: number;
  maxAgeMs: number;
  /** Lines per write to the PointWriter. */
  batchSize: number;
  /** How many rejected rows to keep for the summary. */
  keepRejected?: number;
  onProgress?: (rowsDone: number) => void;
}

export interface RejectedRow {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  reason: ImportRejectReason;
  detail: string;
}

export interface ImportSummary {
  rows: number;
  accepted: number;
  rejected: number;
  rejectedByReason: Partial<Record<ImportRejectReason, number>>;
  firstRejected: RejectedRow[];
}

/** One CSV cell → a JSON value; null for an empty cell (absent field). */
function cellValue(type: FieldType | 'string', cell: string): unknown {
  const s = cell.trim();
  if (s === '') return null;
  if (type === 'string') return s;
  if (type === 'boolean') return s === 'true' ? true : s === 'false' ? false : s;
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

/** Checks the header and returns the column → field mapping; throws E_READING_INVALID on a bad header. */
export function parseHeader(header: readonly string[]): string[] {
  const cols = header.map((h) => h.trim());
  const missing = REQUIRED.filter((r) => !cols.includes(r));
  const unknown = cols.filter((c) => !(REQUIRED as readonly string[]).includes(c) && !FIELD_TYPES.has(c));
  const dup = cols.filter((c, i) => cols.indexOf(c) !== i);
  if (missing.length || unknown.length || dup.length) {
    const parts = [
      missing.length ? `missing column(s) ${missing.join(', ')}` : '',
      unknown.length ? `unknown column(s) ${unknown.join(', ')} (allowed: ${[...REQUIRED, ...FIELD_TYPES.keys()].join(', ')})` : '',
      dup.length ? `duplicate column(s) ${dup.join(', ')}` : '',
    ].filter(Boolean);
    throw new PlatformError('E_READING_INVALID', `CSV header: ${parts.join('; ')}`);
  }
  return cols;
}

/** A data row → the raw reading object handed to the contract. */
export function rowToReading(cols: readonly string[], row: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  cols.forEach((c, i) => {
    const cell = row[i] ?? '';
    if ((REQUIRED as readonly string[]).includes(c)) {
      if (cell.trim() !== '') out[c] = cell.trim();
      return;
    }
    const v = cellValue(FIELD_TYPES.get(c)!, cell);
    if (v !== null) out[c] = v;
  });
  return out;
}

export async function importCsv(input: Readable, writer: PointWriter, opts: ImportOptions): Promise<ImportSummary> {
  const keep = opts.keepRejected ?? 10;
  const summary: ImportSummary = { rows: 0, accepted: 0, rejected: 0, rejectedByReason: {}, firstRejected: [] };
  const reject = (line: number, reason: ImportRejectReason, detail: string) => {
    summary.rejected++;
    summary.rejectedByReason[reason] = (summary.rejectedByReason[reason] ?? 0) + 1;
    if (summary.firstRejected.length < keep) summary.firstRejected.push({ line, reason, detail });
  };
  let batch: string[] = [];
  let batchLines: number[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const lines = batch;
    const fileLines = batchLines;
    batch = [];
    batchLines = [];
    const outcome = await writer.write(lines);
    summary.accepted += lines.length - outcome.rejected.length;
    for (const r of outcome.rejected) reject(fileLines[r.index] ?? 0, 'E_INFLUX_REJECTED', r.reason);
  };

  // relax_column_count: a short or long row is one bad row, not a failed import.
  const parser = input.pipe(parse({ info: true, relax_column_count: true, skip_empty_lines: true, bom: true }));
  let cols: string[] | undefined;
  for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    const line = rec.info.lines;
    if (!cols) {
      cols = parseHeader(rec.record);
      continue;
    }
    summary.rows++;
    if (rec.record.length !== cols.length) {
      reject(line, 'E_CSV_ROW', `${rec.record.length} cells, header has ${cols.length}`);
    } else {
      const result = validateReading(rowToReading(cols, rec.record), { now: opts.now, maxAgeMs: opts.maxAgeMs });
      if (result.ok) {
        batch.push(readingToLine(opts.torg, result.reading, result.timeMs));
        batchLines.push(line);
        if (batch.length >= opts.batchSize) await flush();
      } else {
        reject(line, result.reason, result.detail);
      }
    }
    opts.onProgress?.(summary.rows);
  }
  if (!cols) throw new PlatformError('E_READING_INVALID', 'CSV is empty: expected a header time,device,kind,…');
  await flush();
  return summary;
}

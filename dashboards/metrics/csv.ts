/**
 * CSV export of metric rows (and of any other table the metrics API serves: indicators,
 * recommendations), in two dialects:
 *
 * - `rfc4180` (default): comma-separated, CRLF line ends, fields quoted when they hold a comma, a
 *   quote or a line break, quotes doubled (RFC 4180 §2), decimal point `.`, a header row of stable
 *   English column keys (`dwell.meanMinutes`) so scripts do not break with the reader's language.
 * - `excel`: for Norwegian Excel, whose list separator is `;` and decimal separator `,` under the
 *   nb-NO locale (a comma-separated file opens as one column there): `;`-separated, decimal comma,
 *   headers in the asked language (bokmål by default), and a UTF-8 byte order mark, without which
 *   Excel reads the file as Windows-1252 and mangles æ, ø, å.
 *
 * Numbers are written to at most 6 decimals, without exponent notation (a share of 1e-7 would be
 * read as text by Excel); empty cells mean null (no data), never 0. Times are Oslo local ISO 8601 with
 * their offset, so the repeated hour of a fall-back day stays distinguishable.
 * Serialisation is csv-stringify (same project as csv-parse), not hand-written quoting.
 */
import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import type { MetricRow } from './metric-row.schema.ts';

export const CSV_DIALECTS = ['rfc4180', 'excel'] as const;
export type CsvDialect = (typeof CSV_DIALECTS)[number];
export type CsvLang = 'nb' | 'en';

export type CsvCell = string | number | boolean | null | undefined;

export interface CsvColumn<T> {
  /** Stable key: the header of the rfc4180 dialect. */
  key: string;
  nb: string;
  en: string;
  /** The cell; `lang` for the cells that are text for people (names, messages). */
  value: (row: T, lang: CsvLang) => CsvCell;
}

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
const MAX_DECIMALS = 6;

/** A number without exponent, at most 6 decimals, trailing zeros dropped. */
export function formatCsvNumber(n: number, decimal: '.' | ','): string {
  if (!Number.isFinite(n)) return '';
  const fixed = Number.isInteger(n) ? String(n) : n.toFixed(MAX_DECIMALS).replace(/\.?0+$/, '');
  // -0.0000001 rounds to "-0"
  const text = fixed === '-0' ? '0' : fixed;
  return decimal === '.' ? text : text.replace('.', ',');
}

function cellText(v: CsvCell, dialect: CsvDialect, lang: CsvLang): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatCsvNumber(v, dialect === 'excel' ? ',' : '.');
  if (typeof v === 'boolean') {
    if (dialect === 'rfc4180') return v ? 'true' : 'false';
    return lang === 'nb' ? (v ? 'ja' : 'nei') : v ? 'yes' : 'no';
  }
  return v;
}

export function toCsv<T>(rows: readonly T[], columns: readonly CsvColumn<T>[], dialect: CsvDialect = 'rfc4180', lang: CsvLang = 'nb'): string {
  const header = columns.map((c) => (dialect === 'rfc4180' ? c.key : c[lang]));
  const records = rows.map((r) => columns.map((c) => cellText(c.value(r, lang), dialect, lang)));
  return stringify([header, ...records], {
    delimiter: dialect === 'excel' ? ';' : ',',
    record_delimiter: 'windows',
    bom: dialect === 'excel',
  });
}

/** Epoch ms → Oslo local ISO 8601 with offset (`2026-10-25T02:00:00+01:00`). */
export function osloIso(ms: number): string {
  return DateTime.fromMillis(ms, { zone: 'Europe/Oslo' }).toISO({ suppressMilliseconds: true }) ?? '';
}

export const METRIC_ROW_COLUMNS: readonly CsvColumn<MetricRow>[] = [
  { key: 'scope', nb: 'nivå', en: 'scope', value: (r) => r.scope },
  { key: 'scopeId', nb: 'id', en: 'id', value: (r) => r.scopeId },
  { key: 'torg', nb: 'torg', en: 'torg', value: (r) => r.torg },
  { key: 'period', nb: 'periode', en: 'period', value: (r) => r.period },
  { key: 'label', nb: 'tidsrom', en: 'label', value: (r) => r.label },
  { key: 'start', nb: 'fra', en: 'start', value: (r) => osloIso(r.start) },
  { key: 'end', nb: 'til', en: 'end', value: (r) => osloIso(r.end) },
  { key: 'split', nb: 'åpningstype', en: 'split', value: (r) => r.split },
  { key: 'visits', nb: 'besøk', en: 'visits', value: (r) => r.visits },
  { key: 'avgOccupancy', nb: 'snittbelegg', en: 'average occupancy', value: (r) => r.avgOccupancy },
  { key: 'peakOccupancy', nb: 'toppbelegg', en: 'peak occupancy', value: (r) => r.peakOccupancy },
  { key: 'peakRoomsInUse', nb: 'rom i bruk samtidig (topp)', en: 'peak rooms in use at once', value: (r) => r.peakRoomsInUse },
  { key: 'utilisation', nb: 'utnyttelse', en: 'utilisation', value: (r) => r.utilisation },
  { key: 'timeUsedShare', nb: 'andel tid i bruk', en: 'share of time used', value: (r) => r.timeUsedShare },
  { key: 'dwell.count', nb: 'opphold antall', en: 'dwell count', value: (r) => r.dwell.count },
  { key: 'dwell.meanMinutes', nb: 'opphold snitt min', en: 'dwell mean min', value: (r) => r.dwell.meanMinutes },
  { key: 'dwell.p50Minutes', nb: 'opphold median min', en: 'dwell median min', value: (r) => r.dwell.p50Minutes },
  { key: 'dwell.maxMinutes', nb: 'opphold maks min', en: 'dwell max min', value: (r) => r.dwell.maxMinutes },
  { key: 'timeAtTarget.under60', nb: 'tid under 60 %', en: 'time under 60 %', value: (r) => r.timeAtTarget.under60 },
  { key: 'timeAtTarget.from60to100', nb: 'tid 60–100 %', en: 'time 60–100 %', value: (r) => r.timeAtTarget.from60to100 },
  { key: 'timeAtTarget.over100', nb: 'tid over 100 %', en: 'time over 100 %', value: (r) => r.timeAtTarget.over100 },
  { key: 'busiestDay', nb: 'travleste dag', en: 'busiest day', value: (r) => r.busiestDay },
  { key: 'busiestHour', nb: 'travleste time', en: 'busiest hour', value: (r) => r.busiestHour },
  { key: 'climate.co2Compliance', nb: 'CO2 innenfor', en: 'CO2 compliance', value: (r) => r.climate.co2Compliance },
  { key: 'climate.temperatureCompliance', nb: 'temperatur innenfor', en: 'temperature compliance', value: (r) => r.climate.temperatureCompliance },
  { key: 'climate.humidityCompliance', nb: 'fuktighet innenfor', en: 'humidity compliance', value: (r) => r.climate.humidityCompliance },
  { key: 'drift.belowZero', nb: 'drift under null', en: 'drift below zero', value: (r) => r.drift?.belowZero },
  { key: 'drift.closingReset', nb: 'drift nullstilt ved stenging', en: 'drift closing reset', value: (r) => r.drift?.closingReset },
  { key: 'completeness', nb: 'kompletthet', en: 'completeness', value: (r) => r.completeness },
  { key: 'lowCompleteness', nb: 'lav kompletthet', en: 'low completeness', value: (r) => r.lowCompleteness },
];

export function metricRowsToCsv(rows: readonly MetricRow[], dialect: CsvDialect = 'rfc4180', lang: CsvLang = 'nb'): string {
  return toCsv(rows, METRIC_ROW_COLUMNS, dialect, lang);
}

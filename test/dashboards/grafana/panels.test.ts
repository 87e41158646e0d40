/**
 * Every panel target of every generated dashboard, with its template variables and Grafana's macros
 * expanded the way Grafana's InfluxDB datasource expands them for InfluxQL, runs against a real
 * InfluxDB seeded through the ingest's own line protocol, and returns the series the panel expects.
 *
 * Expansion, as in grafana/public/app/plugins/datasource/influxdb (datasource.ts, influx_query_model.ts):
 * - `$timeFilter` → `time >= <from>ms and time <= <to>ms` (getTimeFilter, epoch ms);
 * - `$__interval` / `$interval` → the panel interval, never below the datasource's timeInterval (1m);
 * - multi-value query variables (`$torg`, `$module`, …; All = every value the variable's own query
 *   returns) → regex-escaped values, several joined as `(a|b)` (interpolateQueryExpr); a single-value
 *   custom variable (`$split`) → its current value as is;
 * - a panel with `repeat` runs once per value of its variable, with only that value selected.
 * Panel time overrides follow rangeUtil.describeTextRange: `now/d` is today in the dashboard's time
 * zone (from Oslo midnight to the end of the Oslo day), `7d` is now-7d..now. Rounded ranges follow
 * dateMath in the dashboard's time zone and week start (Monday): `now-8w/w` is Monday 00:00 of the
 * week 8 weeks ago, `now-1w/w` as the end is the last millisecond of last week's Sunday.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDashboards } from '../../../dashboards/grafana/generate.ts';
import { readingSchema, type ReadingInput } from '../../../devices/contract/reading.schema.ts';
import { RP_AGGREGATES, RP_RAW } from '../../../devices/contract/influx-layout.ts';
import { readingToLine } from '../../../ingest/line-protocol.ts';
import { DeadLetterSink } from '../../../ingest/dead-letter.ts';
import { emptyAccumulator } from '../../../dashboards/metrics/accumulator.ts';
import { hourBucketToLine } from '../../../dashboards/metrics/agg-hourly.ts';
import type { Scope, Split } from '../../../dashboards/metrics/metric-row.schema.ts';
import { indicatorValueSchema, type IndicatorValue } from '../../../dashboards/indicators/indicator-engine.ts';
import { indicatorValueToLine } from '../../../dashboards/indicators/indicator-point.ts';
import { OSLO_WEEK_GROUP, TIME_ZONE, TZ_CLAUSE } from '../../../dashboards/grafana/common.ts';
import { queryResponseSchema, startInfluxDB, type InfluxHandle, type Series } from '../../support/services.ts';

const NOW = Date.parse('2026-11-24T12:00:00Z');
/** 24 November 2026 is in CET (UTC+1): Oslo midnight is 23:00Z the day before (by hand). */
const OSLO_TODAY = Date.parse('2026-11-23T23:00:00Z');
const OSLO_YESTERDAY = Date.parse('2026-11-22T23:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const TORG = 'asker-sentrum';
const OTHER = 'heggedal';
const COUNTER = 'a84041000181c0de';
const OTHER_COUNTER = 'a84041000181c0df';
const CLIMATE = 'a84041000181c0c0';

function counter(torg: string, device: string, time: string, periodIn: number, periodOut: number): [string, ReadingInput] {
  return [torg, { kind: 'counter', device, time, line: 'main', periodIn, periodOut, periodSeconds: 900 }];
}

/**
 * Hand-built data. Asker sentrum, Oslo day 24 Nov: in 4 + 10 + 6 = 20, out 1 + 3 + 8 = 12, inside 8.
 * Oslo day 23 Nov: in 15. The 23:30Z reading is on 23 Nov in UTC but 00:30 on 24 Nov in Oslo, so
 * UTC day buckets would give 19 and 16 instead. Heggedal, 24 Nov: in 7, out 2.
 */
const SEED: [string, ReadingInput][] = [
  counter(TORG, COUNTER, '2026-11-23T12:00:00Z', 15, 15),
  counter(TORG, COUNTER, '2026-11-23T23:30:00Z', 4, 1),
  counter(TORG, COUNTER, '2026-11-24T08:00:00Z', 10, 3),
  counter(TORG, COUNTER, '2026-11-24T11:00:00Z', 6, 8),
  counter(OTHER, OTHER_COUNTER, '2026-11-24T09:00:00Z', 7, 2),
  [TORG, { kind: 'climate', device: CLIMATE, time: '2026-11-24T10:00:00Z', temperature: 21.5, humidity: 35, co2: 800 }],
  [TORG, { kind: 'climate', device: CLIMATE, time: '2026-11-24T10:05:00Z', temperature: 22, humidity: 36, co2: 900 }],
  [TORG, { kind: 'health', device: CLIMATE, time: '2026-11-24T09:30:00Z', battery: 88, rssi: -95 }],
  [TORG, { kind: 'health', device: CLIMATE, time: '2026-11-24T11:30:00Z', battery: 87, rssi: -90 }],
];

/**
 * Dead letters through the ingest's own sink: two unparsable messages and one invalid reading in the
 * last 24 h, one unparsable message two days ago (outside the 24 h panel).
 */
function deadLetterLines(): string[] {
  const at = ['2026-11-22T10:00:00Z', '2026-11-24T09:00:00Z', '2026-11-24T09:10:00Z', '2026-11-24T11:00:00Z'].map(Date.parse);
  let i = 0;
  const sink = new DeadLetterSink({ instance: 'ingest-1', maxChars: 200, now: () => at[i++] ?? NOW, publish: () => undefined });
  const topic = `itorg/v1/${TORG}/gw-1/readings`;
  return [
    sink.record({ reason: 'E_PAYLOAD_NOT_JSON', detail: 'Unexpected token', topic, torg: TORG, gateway: 'gw-1', payload: 'x' }),
    sink.record({ reason: 'E_PAYLOAD_NOT_JSON', detail: 'Unexpected token', topic, torg: TORG, gateway: 'gw-1', payload: 'y' }),
    sink.record({ reason: 'E_PAYLOAD_NOT_JSON', detail: 'Unexpected end', topic, torg: TORG, gateway: 'gw-1', payload: '{' }),
    sink.record({ reason: 'E_READING_INVALID', detail: 'co2 too large', topic, torg: TORG, gateway: 'gw-1', payload: '{}' }),
  ];
}

/**
 * Hourly aggregates through the metrics job's own writer. Torg visits: Oslo 23 Nov 15; Oslo 24 Nov
 * 4 (23:00Z) + 10 = 14. Module "skranke": (0.5 h + 1 h) used of 2 h = 0.75. Zone "venteomrade": CO2
 * within the limit 50 + 10 of 120 measured minutes = 0.5.
 */
function aggLines(): string[] {
  const MIN = 60_000;
  const bucket = (scope: Scope, scopeId: string, time: string, set: (a: ReturnType<typeof emptyAccumulator>) => void): string => {
    const acc = emptyAccumulator(scope === 'torg');
    set(acc);
    return hourBucketToLine({ scope, scopeId, torg: TORG, hourStart: Date.parse(time), split: 'all', acc });
  };
  return [
    bucket('torg', TORG, '2026-11-23T12:00:00Z', (a) => (a.visits = 15)),
    bucket('torg', TORG, '2026-11-23T23:00:00Z', (a) => (a.visits = 4)),
    bucket('torg', TORG, '2026-11-24T08:00:00Z', (a) => (a.visits = 10)),
    bucket('module', 'skranke', '2026-11-24T08:00:00Z', (a) => ((a.utilNum = 30 * MIN), (a.utilDen = 60 * MIN))),
    bucket('module', 'skranke', '2026-11-24T09:00:00Z', (a) => ((a.utilNum = 60 * MIN), (a.utilDen = 60 * MIN))),
    bucket('zone', 'venteomrade', '2026-11-24T08:00:00Z', (a) => ((a.co2OkMs = 50 * MIN), (a.co2KnownMs = 60 * MIN))),
    bucket('zone', 'venteomrade', '2026-11-24T09:00:00Z', (a) => ((a.co2OkMs = 10 * MIN), (a.co2KnownMs = 60 * MIN))),
  ];
}

const MIN = 60_000;
const MODULE = `${TORG}/møterom`;
const WEEK_MODULE = `${TORG}/arbeidsplasser`;

type Sums = Partial<
  Pick<ReturnType<typeof emptyAccumulator>, 'spanMs' | 'reportedMs' | 'occMs' | 'peak' | 'roomsInUsePeak' | 'usedMs' | 'utilNum' | 'utilDen' | 'targetKnownMs' | 'under60Ms' | 'from60to100Ms' | 'over100Ms'>
>;

/** One `agg_hourly` point through the metrics job's writer; times in minutes, person-times in person·minutes; peak and rooms as they are. */
function hour(scope: Scope, scopeId: string, time: string, split: Split, minutes: Sums): string {
  const acc = emptyAccumulator(scope === 'torg');
  for (const [k, v] of Object.entries(minutes) as [keyof Sums, number][]) acc[k] = k === 'peak' || k === 'roomsInUsePeak' ? v : v * MIN;
  return hourBucketToLine({ scope, scopeId, torg: TORG, hourStart: Date.parse(time), split, acc });
}

/**
 * Rooms (default range now-30d, split `all`), hand-computed:
 * Module møterom — Oslo day 23 Nov: 09Z and 10Z; Oslo day 24 Nov: 23:00Z on 23 Nov (00:00 in Oslo)
 * and 08Z (not reporting). Utilisation 23 Nov (120 + 180) / (600 + 300) = 1/3, 24 Nov 0 / 600 = 0;
 * UTC days would give 300 / 1500 = 0.2 on 23 Nov. Time used 23 Nov (30 + 30) / (60 + 30) = 2/3.
 * Over the range: utilisation 300 / 1500 = 0.2, time used 60 / 150 = 0.4, peak 8, under 60 %
 * (60 + 60) / 150 = 0.8, 60–100 % 30 / 150 = 0.2, over 100 % 0, completeness 150 / 240 = 0.625.
 * Zone mote-1 (head count): utilisation 720 / 960 = 0.75, time used 105 / 120 = 0.875, peak 9,
 * under 60 % 30 / 120 = 0.25, 60–100 % 70 / 120 = 7/12, over 100 % 20 / 120 = 1/6, completeness 1.
 * Zone mote-2 (presence only): utilisation 15 / 30 = 0.5, time used 0.5, completeness 30 / 60 = 0.5,
 * no time at target. Staffed møterom 120 / 600 = 0.2 (time used 0.5), meråpent 300 / 600 = 0.5 (1).
 */
function roomLines(): string[] {
  return [
    hour('module', MODULE, '2026-11-23T09:00:00Z', 'all', { spanMs: 60, reportedMs: 60, usedMs: 30, utilNum: 120, utilDen: 600, peak: 4, targetKnownMs: 60, under60Ms: 60 }),
    hour('module', MODULE, '2026-11-23T10:00:00Z', 'all', { spanMs: 60, reportedMs: 30, usedMs: 30, utilNum: 180, utilDen: 300, peak: 8, targetKnownMs: 30, from60to100Ms: 30 }),
    hour('module', MODULE, '2026-11-23T23:00:00Z', 'all', { spanMs: 60, reportedMs: 60, usedMs: 0, utilNum: 0, utilDen: 600, peak: 0, targetKnownMs: 60, under60Ms: 60 }),
    hour('module', MODULE, '2026-11-24T08:00:00Z', 'all', { spanMs: 60 }),
    hour('zone', 'mote-1', '2026-11-23T09:00:00Z', 'all', { spanMs: 60, reportedMs: 60, usedMs: 45, utilNum: 240, utilDen: 480, peak: 6, targetKnownMs: 60, under60Ms: 30, from60to100Ms: 30 }),
    hour('zone', 'mote-1', '2026-11-23T10:00:00Z', 'all', { spanMs: 60, reportedMs: 60, usedMs: 60, utilNum: 480, utilDen: 480, peak: 9, targetKnownMs: 60, from60to100Ms: 40, over100Ms: 20 }),
    hour('zone', 'mote-2', '2026-11-23T09:00:00Z', 'all', { spanMs: 60, reportedMs: 30, usedMs: 15, utilNum: 15, utilDen: 30, peak: 1 }),
    hour('module', MODULE, '2026-11-23T09:00:00Z', 'staffed', { spanMs: 60, reportedMs: 60, usedMs: 30, utilNum: 120, utilDen: 600, peak: 4, targetKnownMs: 60 }),
    hour('module', MODULE, '2026-11-23T17:00:00Z', 'meraapent', { spanMs: 60, reportedMs: 60, usedMs: 60, utilNum: 300, utilDen: 600, peak: 6, targetKnownMs: 60 }),
  ];
}

/** Monday 19 Oct 2026 00:00 in Oslo (CEST, UTC+2) and Monday 26 Oct 00:00 (CET after the 25 Oct fall-back), by hand. */
const WEEK_43 = Date.parse('2026-10-18T22:00:00Z');
const WEEK_44 = Date.parse('2026-10-25T23:00:00Z');

/**
 * Skalering (window: the 8 complete weeks before 24 Nov, Mon 28 Sep – Sun 22 Nov), hand-computed.
 * The week 19–25 Oct ends on the DST change: 25 Oct 22:00Z is Sunday 23:00 CET (week 43) and 23:00Z
 * Monday 00:00 (week 44). Module arbeidsplasser: week 43 (30 + 60) / (60 + 60) = 0.75, week 44
 * (0 + 15) / (60 + 60) = 0.125; `time(1w, 4d)` would start week 44 at Sunday 23:00 and give 0.5 and
 * 75 / 180. Zone arbeid (capacity 24, so utilDen = 24 × targetKnown): peak ÷ capacity 12/24 = 0.5,
 * 18/24 = 0.75, 23/24 on Sunday 23:00 → week 43 max 23/24; Monday 00:00 12/24 → week 44 0.5.
 * Zone mote-2 has no head count and must not appear. Completeness of the module: week 43
 * 120 / 120 = 1, week 44 (60 + 30) / 120 = 0.75. Meråpent torg hours (mean occupancy): 17 Nov 06Z
 * 360 / 60 = 6, 20Z 90 / 30 = 3. Rooms in use at once (module arbeidsplasser, highest hour of the
 * week): week 43 max(1, 2) = 2, week 44 max(3, 1) = 3; with weeks starting Sunday 23:00 CET the 2
 * would move to week 44 and give 1 and 3.
 */
function skaleringLines(): string[] {
  return [
    hour('module', WEEK_MODULE, '2026-10-20T10:00:00Z', 'all', { spanMs: 60, reportedMs: 60, utilNum: 30, utilDen: 60, usedMs: 30, roomsInUsePeak: 1 }),
    hour('module', WEEK_MODULE, '2026-10-25T22:00:00Z', 'all', { spanMs: 60, reportedMs: 60, utilNum: 60, utilDen: 60, usedMs: 60, roomsInUsePeak: 2 }),
    hour('module', WEEK_MODULE, '2026-10-25T23:00:00Z', 'all', { spanMs: 60, reportedMs: 60, utilNum: 0, utilDen: 60, roomsInUsePeak: 3 }),
    hour('module', WEEK_MODULE, '2026-10-26T10:00:00Z', 'all', { spanMs: 60, reportedMs: 30, utilNum: 15, utilDen: 60, usedMs: 15, roomsInUsePeak: 1 }),
    hour('zone', 'arbeid', '2026-10-20T10:00:00Z', 'all', { spanMs: 60, reportedMs: 60, peak: 12, targetKnownMs: 60, utilDen: 24 * 60, utilNum: 300 }),
    hour('zone', 'arbeid', '2026-10-21T10:00:00Z', 'all', { spanMs: 60, reportedMs: 30, peak: 18, targetKnownMs: 30, utilDen: 24 * 30, utilNum: 300 }),
    hour('zone', 'arbeid', '2026-10-25T22:00:00Z', 'all', { spanMs: 60, reportedMs: 60, peak: 23, targetKnownMs: 60, utilDen: 24 * 60, utilNum: 900 }),
    hour('zone', 'arbeid', '2026-10-25T23:00:00Z', 'all', { spanMs: 60, reportedMs: 60, peak: 12, targetKnownMs: 60, utilDen: 24 * 60, utilNum: 300 }),
    hour('zone', 'mote-2', '2026-10-20T10:00:00Z', 'all', { spanMs: 60, reportedMs: 60, peak: 1, usedMs: 60, utilNum: 60, utilDen: 60 }),
    hour('torg', TORG, '2026-11-17T06:00:00Z', 'meraapent', { spanMs: 60, reportedMs: 60, occMs: 360, peak: 9 }),
    hour('torg', TORG, '2026-11-17T20:00:00Z', 'meraapent', { spanMs: 60, reportedMs: 30, occMs: 90, peak: 4 }),
  ];
}

const MUNICIPALITY = 'Asker kommune';
/** Starts of the Oslo months October and November 2026 (CEST, then CET), and October 2025: by hand. */
const OCT = Date.parse('2026-09-30T22:00:00Z');
const NOV = Date.parse('2026-10-31T23:00:00Z');
const OCT_2025 = Date.parse('2025-09-30T22:00:00Z');

function indicator(id: string, scopeId: string, start: number, month: string, v: Partial<IndicatorValue>): string {
  return indicatorValueToLine(
    indicatorValueSchema.parse({
      indicator: id,
      definitionVersion: '2026.1',
      effectGoal: 2,
      name: { nb: id },
      unit: { nb: 'antall' },
      month,
      start,
      scopeId,
      torg: scopeId === MUNICIPALITY ? null : scopeId,
      value: null,
      previousMonthValue: null,
      trendVsPreviousMonth: null,
      trendVsBaseline: null,
      expected: 0,
      status: 'unknown',
      completeness: null,
      lowCompleteness: false,
      missing: [],
      ...v,
    }),
  );
}

/**
 * Effektmål through the indicator store's point builder. besok-per-1000: Asker sentrum 10 → 12.5
 * (expected 9 → 9.5, on track), the municipality 8 → 7 (off track in November); October 2025 (5) is
 * before the one-year range. inneklima-co2, Asker sentrum: 0.92 in October, unknown in November —
 * the latest-month row must show November with no value, not October's 0.92.
 */
function indicatorLines(): string[] {
  return [
    indicator('besok-per-1000', TORG, OCT_2025, '2025-10', { value: 5, expected: 5, status: 'on-track', completeness: 1 }),
    indicator('besok-per-1000', TORG, OCT, '2026-10', { value: 10, expected: 9, status: 'on-track', completeness: 0.95 }),
    indicator('besok-per-1000', TORG, NOV, '2026-11', { value: 12.5, previousMonthValue: 10, trendVsPreviousMonth: 2.5, trendVsBaseline: 4.5, expected: 9.5, status: 'on-track', completeness: 0.9 }),
    indicator('besok-per-1000', MUNICIPALITY, OCT, '2026-10', { value: 8, expected: 9, status: 'at-risk', completeness: 0.9 }),
    indicator('besok-per-1000', MUNICIPALITY, NOV, '2026-11', { value: 7, previousMonthValue: 8, trendVsPreviousMonth: -1, expected: 9.5, status: 'off-track', completeness: 0.9 }),
    indicator('inneklima-co2', TORG, OCT, '2026-10', { value: 0.92, expected: 0.9, status: 'on-track', completeness: 0.85 }),
    indicator('inneklima-co2', TORG, NOV, '2026-11', { expected: 0.9, status: 'unknown', completeness: 0.1, lowCompleteness: true, missing: ['climate'] }),
  ];
}

// --- Grafana's expansion ---------------------------------------------------------------------------

// Formatters are built once: constructing an Intl.DateTimeFormat per call costs milliseconds.
const OSLO_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const OSLO_OFFSET = new Intl.DateTimeFormat('en-US', { timeZone: TIME_ZONE, timeZoneName: 'longOffset' });
const OSLO_WEEKDAY = new Intl.DateTimeFormat('en-US', { timeZone: TIME_ZONE, weekday: 'short' });

/** Start of the Oslo day containing `ms` (offset read from Intl, so DST days are right too). */
function osloStartOfDay(ms: number): number {
  const utcMidnight = Date.parse(`${OSLO_DATE.format(new Date(ms))}T00:00:00Z`);
  const offsetAt = (t: number): number => {
    const name = OSLO_OFFSET.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
    return m === null ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  };
  return utcMidnight - offsetAt(utcMidnight - offsetAt(utcMidnight));
}

/** ISO weekday of `ms` in Oslo, Monday = 1. */
function osloWeekday(ms: number): number {
  const name = OSLO_WEEKDAY.format(new Date(ms));
  return ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(name) + 1;
}

/** Monday 00:00 (Oslo) of the week containing `ms`, walking back whole Oslo days (23 h and 25 h ones included). */
function osloStartOfWeek(ms: number): number {
  let day = osloStartOfDay(ms);
  while (osloWeekday(day) !== 1) day = osloStartOfDay(day - 1);
  return day;
}

/** Grafana dateMath for the forms the dashboards use: now, now-Nh/d/w, now-1y, and `/w` rounding (Monday weeks). */
function relative(expr: string, roundUp = false): number {
  if (expr === 'now') return NOW;
  const m = /^now-(\d+)([hdwy])(\/w)?$/.exec(expr);
  if (m === null) throw new Error(`relative time not handled by this test: ${expr}`);
  const n = Number(m[1]);
  let t: number;
  if (m[2] === 'y') {
    const d = new Date(NOW);
    d.setUTCFullYear(d.getUTCFullYear() - n);
    t = d.getTime();
  } else {
    t = NOW - n * (m[2] === 'h' ? HOUR : m[2] === 'd' ? DAY : 7 * DAY);
  }
  if (m[3] === undefined) return t;
  const weekStart = osloStartOfWeek(t);
  return roundUp ? osloStartOfWeek(weekStart + 8 * DAY) - 1 : weekStart;
}

interface Range {
  from: number;
  to: number;
}

function panelRange(board: { time?: { from: string; to: string } }, timeFrom: string | undefined): Range {
  if (timeFrom === 'now/d') {
    const from = osloStartOfDay(NOW);
    return { from, to: osloStartOfDay(from + 36 * HOUR) - 1 };
  }
  if (timeFrom !== undefined) return { from: relative(`now-${timeFrom}`), to: NOW };
  const time = board.time ?? { from: 'now-6h', to: 'now' };
  return { from: relative(time.from), to: relative(time.to, true) };
}

/** Grafana's rangeUtil interval steps above the datasource minimum (timeInterval 1m), ~300 px wide. */
function interval(range: Range): string {
  const steps: [number, string][] = [[60_000, '1m'], [300_000, '5m'], [600_000, '10m'], [900_000, '15m'], [1_800_000, '30m'], [HOUR, '1h'], [3 * HOUR, '3h'], [6 * HOUR, '6h'], [12 * HOUR, '12h'], [DAY, '1d']];
  const raw = (range.to - range.from) / 300;
  return (steps.find(([ms]) => ms >= raw) ?? [DAY, '1d'])[1];
}

function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** A template variable's values as Grafana would interpolate them into an InfluxQL query. */
type Vars = Map<string, { values: string[]; multi: boolean }>;

function interpolate(query: string, vars: Vars): string {
  // Longest names first, so `$torg` never eats the start of a longer name.
  const names = [...vars.keys()].sort((a, b) => b.length - a.length);
  let out = query;
  for (const name of names) {
    const v = vars.get(name);
    if (v === undefined) continue;
    const escaped = v.multi ? v.values.map(escapeRegex) : v.values;
    const text = escaped.length === 1 ? (escaped[0] ?? '') : `(${escaped.join('|')})`;
    out = out.replaceAll(`$${name}`, text);
  }
  return out;
}

function expand(query: string, range: Range, vars: Vars): string {
  return interpolate(query.replaceAll('$timeFilter', `time >= ${range.from}ms and time <= ${range.to}ms`).replaceAll('$__interval', interval(range)).replaceAll('$interval', interval(range)), vars);
}

// --- the run ---------------------------------------------------------------------------------------

interface RanTarget {
  dashboard: string;
  panel: string;
  refId: string;
  query: string;
  series: Series[];
}

let influx: InfluxHandle;
const ran: RanTarget[] = [];
let torgValues: string[] = [];
const variableValues = new Map<string, Map<string, string[]>>();

async function run(influxql: string): Promise<Series[]> {
  const response = queryResponseSchema.parse(await influx.query(influxql));
  return response.results.flatMap((r) => r.series ?? []);
}

async function write(rp: string, lines: string[]): Promise<void> {
  const response = await fetch(`${influx.url}/write?db=${influx.db}&rp=${rp}&precision=ms`, { method: 'POST', body: lines.join('\n') });
  expect(response.status, await response.text()).toBe(204);
}

/** Resolves the board's variables in order (a variable's query may use the ones before it), All selected. */
async function resolveVariables(board: ReturnType<typeof allDashboards>[string]): Promise<Vars> {
  const vars: Vars = new Map();
  const seen = new Map<string, string[]>();
  for (const v of board.templating?.list ?? []) {
    let values: string[];
    if (v.type === 'query') {
      if (typeof v.query !== 'string') throw new Error(`${v.name}: query missing`);
      values = (await run(interpolate(v.query, vars))).flatMap((s) => (s.values ?? []).map((row) => String(row[1])));
    } else {
      const current = v.current?.value;
      values = Array.isArray(current) ? current : [String(current)];
    }
    vars.set(v.name, { values, multi: v.multi === true });
    seen.set(v.name, values);
  }
  variableValues.set(board.uid ?? '', seen);
  return vars;
}

beforeAll(async () => {
  influx = await startInfluxDB();
  const lines = SEED.map(([torg, input]) => {
    const reading = readingSchema.parse(input);
    return readingToLine(torg, reading, Date.parse(reading.time));
  });
  await write(RP_RAW, [...lines, ...deadLetterLines()]);
  await write(RP_AGGREGATES, [...aggLines(), ...roomLines(), ...skaleringLines(), ...indicatorLines()]);

  const boards = Object.values(allDashboards());
  const variable = boards[0]?.templating?.list?.find((v) => v.name === 'torg');
  if (typeof variable?.query !== 'string') throw new Error('torg variable query missing');
  torgValues = (await run(variable.query)).flatMap((s) => (s.values ?? []).map((row) => String(row[1])));

  for (const board of boards) {
    const vars = await resolveVariables(board);
    for (const panel of board.panels ?? []) {
      if (!('targets' in panel)) continue;
      const timeFrom = 'timeFrom' in panel ? panel.timeFrom : undefined;
      const range = panelRange(board, timeFrom);
      const repeat = 'repeat' in panel ? panel.repeat : undefined;
      // A repeated panel is cloned per value of its variable, each clone with only that value selected.
      const runs = repeat === undefined ? [vars] : (vars.get(repeat)?.values ?? []).map((value) => new Map([...vars, [repeat, { values: [value], multi: true }]]));
      for (const runVars of runs) {
        for (const target of panel.targets ?? []) {
          const { query: raw, refId } = target as { query?: unknown; refId?: unknown };
          if (typeof raw !== 'string' || typeof refId !== 'string') throw new Error(`${board.title}/${panel.title}: target without a query`);
          const query = expand(raw, range, runVars);
          ran.push({ dashboard: board.uid ?? '', panel: interpolate(panel.title ?? '', new Map([...runVars].map(([k, v]) => [k, { ...v, multi: false }]))), refId, query, series: await run(query) });
        }
      }
    }
  }
}, 60_000);

afterAll(async () => {
  await influx.dispose();
});

function seriesOf(dashboard: string, panel: string, refId = 'A'): Series[] {
  const hit = ran.find((r) => r.dashboard === dashboard && r.panel === panel && r.refId === refId);
  if (hit === undefined) throw new Error(`no panel ${dashboard}/${panel}/${refId}`);
  return hit.series;
}

/** value column `column` of the single row of the series tagged torg=`torg` (and device, if given). */
function valueFor(series: Series[], column: string, tags: Record<string, string>): unknown[] {
  const s = series.find((x) => Object.entries(tags).every(([k, v]) => x.tags?.[k] === v));
  if (s === undefined) throw new Error(`no series tagged ${JSON.stringify(tags)}`);
  const i = s.columns.indexOf(column);
  return (s.values ?? []).map((row) => row[i]);
}

describe('Grafana dashboards against a seeded real InfluxDB', () => {
  it('the torg variable lists the torg that have counters', () => {
    expect(torgValues).toEqual([TORG, OTHER]);
  });

  it('runs every panel target, and every one returns data', () => {
    // overview 4 panels, torg detail 3, climate 4, device health 3, ingest operations 3; rooms 3 + 3
    // targets × 2 tables + 1; effektmål 1 + 2 targets × 2 indicators (repeated); skalering 5.
    expect(ran).toHaveLength(37);
    for (const r of ran) {
      expect(r.query, `${r.dashboard}/${r.panel}`).not.toMatch(/\$[A-Za-z_]/);
      expect(r.series.length, `${r.dashboard}/${r.panel}: ${r.query}`).toBeGreaterThan(0);
    }
  });

  it('"Personer inne nå" is in minus out since Oslo midnight per torg', () => {
    const series = seriesOf('itorg-overview', 'Personer inne nå');
    expect(valueFor(series, 'inne', { torg: TORG })).toEqual([8]);
    expect(valueFor(series, 'inne', { torg: OTHER })).toEqual([5]);
  });

  it('"Besøk i dag" counts from Oslo midnight, including 23:30Z the day before', () => {
    const series = seriesOf('itorg-overview', 'Besøk i dag');
    expect(valueFor(series, 'besok', { torg: TORG })).toEqual([20]);
    expect(valueFor(series, 'besok', { torg: OTHER })).toEqual([7]);
  });

  it('"Besøk per dag" buckets on Oslo days, not UTC days', () => {
    const series = seriesOf('itorg-overview', 'Besøk per dag');
    const s = series.find((x) => x.tags?.['torg'] === TORG);
    const byTime = new Map((s?.values ?? []).map((row) => [row[0], row[1]]));
    expect(byTime.get(OSLO_YESTERDAY)).toBe(15);
    expect(byTime.get(OSLO_TODAY)).toBe(20);
  });

  it('"Siste måling per sone" shows the latest climate values', () => {
    const series = seriesOf('itorg-climate', 'Siste måling per sone');
    expect(valueFor(series, 'co2', { torg: TORG, device: CLIMATE })).toEqual([900]);
    expect(valueFor(series, 'temperatur', { torg: TORG, device: CLIMATE })).toEqual([22]);
  });

  it('"Sist sett per enhet" gives the last health reading time and battery', () => {
    const series = seriesOf('itorg-device-health', 'Sist sett per enhet');
    expect(valueFor(series, 'time', { torg: TORG, device: CLIMATE })).toEqual([Date.parse('2026-11-24T11:30:00Z')]);
    expect(valueFor(series, 'batteri', { torg: TORG, device: CLIMATE })).toEqual([87]);
  });

  it('"Avviste meldinger siste døgn" counts dead letters per reason in the last 24 h', () => {
    const series = seriesOf('itorg-ingest-operations', 'Avviste meldinger siste døgn');
    expect(valueFor(series, 'antall', { reason: 'E_PAYLOAD_NOT_JSON' })).toEqual([2]);
    expect(valueFor(series, 'antall', { reason: 'E_READING_INVALID' })).toEqual([1]);
  });

  it('"Siste avviste meldinger" lists the newest first', () => {
    const [s] = seriesOf('itorg-ingest-operations', 'Siste avviste meldinger');
    const reason = s?.columns.indexOf('reason') ?? -1;
    expect((s?.values ?? []).map((row) => row[reason])).toEqual(['E_READING_INVALID', 'E_PAYLOAD_NOT_JSON', 'E_PAYLOAD_NOT_JSON']);
  });

  it('"Besøk per dag (aggregert)" sums hourly visits into Oslo days', () => {
    const s = seriesOf('itorg-torg-detail', 'Besøk per dag (aggregert)').find((x) => x.tags?.['torg'] === TORG);
    const byTime = new Map((s?.values ?? []).map((row) => [row[0], row[1]]));
    expect(byTime.get(OSLO_YESTERDAY)).toBe(15);
    expect(byTime.get(OSLO_TODAY)).toBe(14);
  });

  it('module utilisation and zone CO2 compliance are ratios of summed hours', () => {
    expect(valueFor(seriesOf('itorg-torg-detail', 'Utnyttelse per modul'), 'utnyttelse', { torg: TORG, scopeId: 'skranke' })).toEqual([0.75]);
    expect(valueFor(seriesOf('itorg-torg-detail', 'CO2 innenfor grensen per sone'), 'andel', { torg: TORG, scopeId: 'venteomrade' })).toEqual([0.5]);
  });

  // --- rooms and utilisation ---------------------------------------------------------------------

  it('the module variable lists the module ids of the selected torg from agg_hourly', () => {
    expect(variableValues.get('itorg-rooms')?.get('module')).toEqual([WEEK_MODULE, MODULE, 'skranke']);
    expect(variableValues.get('itorg-rooms')?.get('split')).toEqual(['all']);
  });

  it('module utilisation and time used per Oslo day count 23:00Z in the next Oslo day', () => {
    const byTime = (panel: string, column: string): Map<unknown, unknown> =>
      new Map(
        (seriesOf('itorg-rooms', panel).find((x) => x.tags?.['scopeId'] === MODULE)?.values ?? []).map((row) => [row[0], row[seriesOf('itorg-rooms', panel)[0]?.columns.indexOf(column) ?? -1]]),
      );
    const util = byTime('Utnyttelse per modul per dag', 'utnyttelse');
    expect(util.get(OSLO_YESTERDAY)).toBeCloseTo(1 / 3, 12);
    expect(util.get(OSLO_TODAY)).toBe(0);
    const used = byTime('Andel tid i bruk per modul per dag', 'tidIBruk');
    expect(used.get(OSLO_YESTERDAY)).toBeCloseTo(2 / 3, 12);
    expect(used.get(OSLO_TODAY)).toBe(0);
  });

  it('choosing "Betjent" in the split variable shows the staffed hours only', async () => {
    const board = allDashboards()['rooms.json'];
    const panel = board?.panels?.find((p) => p.title === 'Utnyttelse per modul per dag');
    const query = panel !== undefined && 'targets' in panel ? (panel.targets?.[0] as { query?: unknown } | undefined)?.query : undefined;
    if (board === undefined || typeof query !== 'string') throw new Error('rooms panel missing');
    const seen = variableValues.get('itorg-rooms');
    const vars: Vars = new Map([
      ['torg', { values: seen?.get('torg') ?? [], multi: true }],
      ['module', { values: seen?.get('module') ?? [], multi: true }],
      ['split', { values: ['staffed'], multi: false }],
    ]);
    const s = (await run(expand(query, panelRange(board, undefined), vars))).find((x) => x.tags?.['scopeId'] === MODULE);
    expect(s?.values).toEqual([[OSLO_YESTERDAY, 0.2]]);
  });

  it('zone utilisation per Oslo day, head-count and presence-only rooms', () => {
    const series = seriesOf('itorg-rooms', 'Utnyttelse per sone per dag');
    expect(series.find((x) => x.tags?.['scopeId'] === 'mote-1')?.values).toEqual([[OSLO_YESTERDAY, 0.75]]);
    expect(series.find((x) => x.tags?.['scopeId'] === 'mote-2')?.values).toEqual([[OSLO_YESTERDAY, 0.5]]);
  });

  it('the zone table gives utilisation, time used, peak, time at target and completeness', () => {
    const panel = 'Soner i perioden';
    const a = seriesOf('itorg-rooms', panel, 'A');
    expect(valueFor(a, 'utnyttelse', { scopeId: 'mote-1' })).toEqual([0.75]);
    expect(valueFor(a, 'tidIBruk', { scopeId: 'mote-1' })).toEqual([0.875]);
    expect(valueFor(a, 'topp', { scopeId: 'mote-1' })).toEqual([9]);
    expect(valueFor(a, 'utnyttelse', { scopeId: 'mote-2' })).toEqual([0.5]);
    const b = seriesOf('itorg-rooms', panel, 'B');
    expect(valueFor(b, 'under60', { scopeId: 'mote-1' })).toEqual([0.25]);
    expect(valueFor(b, 'fra60til100', { scopeId: 'mote-1' })[0]).toBeCloseTo(7 / 12, 12);
    expect(valueFor(b, 'over100', { scopeId: 'mote-1' })[0]).toBeCloseTo(1 / 6, 12);
    // A presence-only room has no time at target: no row, not 0 %.
    expect(b.find((x) => x.tags?.['scopeId'] === 'mote-2')).toBeUndefined();
    const c = seriesOf('itorg-rooms', panel, 'C');
    expect(valueFor(c, 'kompletthet', { scopeId: 'mote-1' })).toEqual([1]);
    expect(valueFor(c, 'kompletthet', { scopeId: 'mote-2' })).toEqual([0.5]);
  });

  it('the module table counts unreported hours in completeness only', () => {
    const panel = 'Moduler i perioden';
    const a = seriesOf('itorg-rooms', panel, 'A');
    expect(valueFor(a, 'utnyttelse', { scopeId: MODULE })).toEqual([0.2]);
    expect(valueFor(a, 'tidIBruk', { scopeId: MODULE })).toEqual([0.4]);
    expect(valueFor(a, 'topp', { scopeId: MODULE })).toEqual([8]);
    const b = seriesOf('itorg-rooms', panel, 'B');
    expect(valueFor(b, 'under60', { scopeId: MODULE })).toEqual([0.8]);
    expect(valueFor(b, 'fra60til100', { scopeId: MODULE })).toEqual([0.2]);
    expect(valueFor(b, 'over100', { scopeId: MODULE })).toEqual([0]);
    expect(valueFor(seriesOf('itorg-rooms', panel, 'C'), 'kompletthet', { scopeId: MODULE })).toEqual([0.625]);
  });

  it('staffed and meråpent hours are shown apart', () => {
    const series = seriesOf('itorg-rooms', 'Betjent og meråpent per modul');
    expect(valueFor(series, 'utnyttelse', { scopeId: MODULE, split: 'staffed' })).toEqual([0.2]);
    expect(valueFor(series, 'tidIBruk', { scopeId: MODULE, split: 'staffed' })).toEqual([0.5]);
    expect(valueFor(series, 'utnyttelse', { scopeId: MODULE, split: 'meraapent' })).toEqual([0.5]);
    expect(valueFor(series, 'tidIBruk', { scopeId: MODULE, split: 'meraapent' })).toEqual([1]);
  });

  // --- effektmål ---------------------------------------------------------------------------------

  it('the effektmål variables list the indicators and the scopes, municipality included', () => {
    expect(variableValues.get('itorg-effektmaal')?.get('indikator')).toEqual(['besok-per-1000', 'inneklima-co2']);
    expect(variableValues.get('itorg-effektmaal')?.get('omraade')).toEqual([MUNICIPALITY, TORG]);
  });

  it('"Effektmål siste måned" shows the latest month, with an unknown value left empty', () => {
    const series = seriesOf('itorg-effektmaal', 'Effektmål siste måned');
    expect(valueFor(series, 'time', { indicator: 'besok-per-1000', scopeId: TORG })).toEqual([NOV]);
    expect(valueFor(series, 'verdi', { indicator: 'besok-per-1000', scopeId: TORG })).toEqual([12.5]);
    expect(valueFor(series, 'forventet', { indicator: 'besok-per-1000', scopeId: TORG })).toEqual([9.5]);
    expect(valueFor(series, 'status', { indicator: 'besok-per-1000', scopeId: TORG })).toEqual(['on-track']);
    expect(valueFor(series, 'endringForrigeMaaned', { indicator: 'besok-per-1000', scopeId: TORG })).toEqual([2.5]);
    expect(valueFor(series, 'status', { indicator: 'besok-per-1000', scopeId: MUNICIPALITY })).toEqual(['off-track']);
    expect(valueFor(series, 'endringForrigeMaaned', { indicator: 'besok-per-1000', scopeId: MUNICIPALITY })).toEqual([-1]);
    expect(valueFor(series, 'time', { indicator: 'inneklima-co2', scopeId: TORG })).toEqual([NOV]);
    expect(valueFor(series, 'verdi', { indicator: 'inneklima-co2', scopeId: TORG })).toEqual([null]);
    expect(valueFor(series, 'status', { indicator: 'inneklima-co2', scopeId: TORG })).toEqual(['unknown']);
  });

  it('the repeated indicator panel compares municipality and torg per month, with the expected line', () => {
    const values = seriesOf('itorg-effektmaal', 'besok-per-1000 per måned', 'A');
    expect(values.find((x) => x.tags?.['scopeId'] === TORG)?.values).toEqual([
      [OCT, 10],
      [NOV, 12.5],
    ]);
    expect(values.find((x) => x.tags?.['scopeId'] === MUNICIPALITY)?.values).toEqual([
      [OCT, 8],
      [NOV, 7],
    ]);
    expect(seriesOf('itorg-effektmaal', 'besok-per-1000 per måned', 'B').find((x) => x.tags?.['scopeId'] === TORG)?.values).toEqual([
      [OCT, 9],
      [NOV, 9.5],
    ]);
    expect(seriesOf('itorg-effektmaal', 'inneklima-co2 per måned', 'A')).toEqual([expect.objectContaining({ tags: { scopeId: TORG }, values: [[OCT, 0.92]] })]);
  });

  // --- skalering ---------------------------------------------------------------------------------

  it('the skalering range is the 8 complete Oslo weeks before this one', () => {
    const board = allDashboards()['skalering.json'];
    // Monday 28 Sep 2026 00:00 CEST, and the last ms of Sunday 22 Nov 2026 (CET): by hand.
    expect(panelRange(board ?? {}, undefined)).toEqual({ from: Date.parse('2026-09-27T22:00:00Z'), to: Date.parse('2026-11-22T22:59:59.999Z') });
  });

  it('module utilisation per ISO week starts weeks at Oslo Monday midnight across the DST change', () => {
    const s = seriesOf('itorg-skalering', 'Utnyttelse per modul per uke').find((x) => x.tags?.['scopeId'] === WEEK_MODULE);
    expect(s?.values).toEqual([
      [WEEK_43, 0.75],
      [WEEK_44, 0.125],
    ]);
    // The møterom hours of 23 Nov are in the current week, outside the rules' window.
    expect(seriesOf('itorg-skalering', 'Utnyttelse per modul per uke').find((x) => x.tags?.['scopeId'] === MODULE)).toBeUndefined();
  });

  it('peak ÷ capacity per head-counting zone and week', () => {
    const series = seriesOf('itorg-skalering', 'Toppbelegg ÷ kapasitet per sone per uke');
    const s = series.find((x) => x.tags?.['scopeId'] === 'arbeid');
    expect(s?.values?.map((row) => row[0])).toEqual([WEEK_43, WEEK_44]);
    expect(s?.values?.[0]?.[1]).toBeCloseTo(23 / 24, 12);
    expect(s?.values?.[1]?.[1]).toBeCloseTo(0.5, 12);
    expect(series.find((x) => x.tags?.['scopeId'] === 'mote-2')).toBeUndefined();
  });

  it('module completeness per week, and meråpent hours of the torg', () => {
    expect(seriesOf('itorg-skalering', 'Kompletthet per modul per uke').find((x) => x.tags?.['scopeId'] === WEEK_MODULE)?.values).toEqual([
      [WEEK_43, 1],
      [WEEK_44, 0.75],
    ]);
    expect(seriesOf('itorg-skalering', 'Meråpent: snittbelegg per time').find((x) => x.tags?.['torg'] === TORG)?.values).toEqual([
      [Date.parse('2026-11-17T06:00:00Z'), 6],
      [Date.parse('2026-11-17T20:00:00Z'), 3],
    ]);
  });

  it('rooms of a module in use at once: the highest hour of each Oslo week', () => {
    expect(seriesOf('itorg-skalering', 'Rom i bruk samtidig per modul per uke').find((x) => x.tags?.['scopeId'] === WEEK_MODULE)?.values).toEqual([
      [WEEK_43, 2],
      [WEEK_44, 3],
    ]);
  });
});

describe('Oslo ISO-week buckets in InfluxQL', () => {
  /** Every UTC hour from Monday 5 Jan 2026 00:00 Oslo to Monday 4 Jan 2027 00:00 Oslo (52 weeks). */
  const FROM = Date.parse('2026-01-04T23:00:00Z');
  const TO = Date.parse('2027-01-03T23:00:00Z');

  async function weekCounts(group: string): Promise<Map<number, number>> {
    const [s] = await run(`SELECT count("v") FROM "${RP_AGGREGATES}"."week_probe" WHERE time >= ${FROM}ms AND time < ${TO}ms GROUP BY ${group} fill(none) ${TZ_CLAUSE}`);
    return new Map((s?.values ?? []).map((row) => [Number(row[0]), Number(row[1])]));
  }

  it('OSLO_WEEK_GROUP puts every hour of 2026 in its Oslo ISO week, the 167 h and 169 h DST weeks included', async () => {
    const lines: string[] = [];
    const expected = new Map<number, number>();
    for (let t = FROM; t < TO; t += HOUR) {
      lines.push(`week_probe v=1i ${t}`);
      const week = osloStartOfWeek(t);
      expected.set(week, (expected.get(week) ?? 0) + 1);
    }
    await write(RP_AGGREGATES, lines);
    // Hand check of the independent expectation: 52 weeks; the weeks of 29 March and 25 October
    // (spring forward, fall back) start Monday 23 March 00:00 CET and 19 October 00:00 CEST.
    expect(expected.size).toBe(52);
    expect(expected.get(Date.parse('2026-03-22T23:00:00Z'))).toBe(167);
    expect(expected.get(Date.parse('2026-10-18T22:00:00Z'))).toBe(169);

    expect(await weekCounts(OSLO_WEEK_GROUP)).toEqual(expected);
    // The obvious offset from the Thursday epoch is off by an hour in the week after each DST change,
    // so this data set tells the two apart.
    expect(await weekCounts('time(1w, 4d)')).not.toEqual(expected);
  });
});

/**
 * Every panel target of every generated dashboard, with its template variables and Grafana's macros
 * expanded the way Grafana's InfluxDB datasource expands them for InfluxQL, runs against a real
 * InfluxDB seeded through the ingest's own line protocol, and returns the series the panel expects.
 *
 * Expansion, as in grafana/public/app/plugins/datasource/influxdb (datasource.ts, influx_query_model.ts):
 * - `$timeFilter` → `time >= <from>ms and time <= <to>ms` (getTimeFilter, epoch ms);
 * - `$__interval` / `$interval` → the panel interval, never below the datasource's timeInterval (1m);
 * - `$torg` (multi/All) → regex-escaped values, several joined as `(a|b)` (interpolateQueryExpr).
 * Panel time overrides follow rangeUtil.describeTextRange: `now/d` is today in the dashboard's time
 * zone (from Oslo midnight to the end of the Oslo day), `7d` is now-7d..now.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDashboards } from '../../../dashboards/grafana/generate.ts';
import { TIME_ZONE } from '../../../dashboards/grafana/common.ts';
import { readingSchema, type ReadingInput } from '../../../devices/contract/reading.schema.ts';
import { RP_AGGREGATES, RP_RAW } from '../../../devices/contract/influx-layout.ts';
import { readingToLine } from '../../../ingest/line-protocol.ts';
import { DeadLetterSink } from '../../../ingest/dead-letter.ts';
import { emptyAccumulator } from '../../../dashboards/metrics/accumulator.ts';
import { hourBucketToLine } from '../../../dashboards/metrics/agg-hourly.ts';
import type { Scope } from '../../../dashboards/metrics/metric-row.schema.ts';
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

// --- Grafana's expansion ---------------------------------------------------------------------------

/** Start of the Oslo day containing `ms` (offset read from Intl, so DST days are right too). */
function osloStartOfDay(ms: number): number {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
  const utcMidnight = Date.parse(`${parts}T00:00:00Z`);
  const offsetAt = (t: number): number => {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: TIME_ZONE, timeZoneName: 'longOffset' }).formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
    return m === null ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  };
  return utcMidnight - offsetAt(utcMidnight - offsetAt(utcMidnight));
}

function relative(expr: string): number {
  if (expr === 'now') return NOW;
  const m = /^now-(\d+)([hd])$/.exec(expr);
  if (m === null) throw new Error(`relative time not handled by this test: ${expr}`);
  return NOW - Number(m[1]) * (m[2] === 'h' ? HOUR : DAY);
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
  return { from: relative(time.from), to: relative(time.to) };
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

function expand(query: string, range: Range, torgs: string[]): string {
  const escaped = torgs.map(escapeRegex);
  const torg = escaped.length === 1 ? (escaped[0] ?? '') : `(${escaped.join('|')})`;
  return query
    .replaceAll('$timeFilter', `time >= ${range.from}ms and time <= ${range.to}ms`)
    .replaceAll('$__interval', interval(range))
    .replaceAll('$interval', interval(range))
    .replaceAll('$torg', torg);
}

// --- the run ---------------------------------------------------------------------------------------

interface RanTarget {
  dashboard: string;
  panel: string;
  query: string;
  series: Series[];
}

let influx: InfluxHandle;
const ran: RanTarget[] = [];
let torgValues: string[] = [];

async function run(influxql: string): Promise<Series[]> {
  const response = queryResponseSchema.parse(await influx.query(influxql));
  return response.results.flatMap((r) => r.series ?? []);
}

beforeAll(async () => {
  influx = await startInfluxDB();
  const lines = SEED.map(([torg, input]) => {
    const reading = readingSchema.parse(input);
    return readingToLine(torg, reading, Date.parse(reading.time));
  });
  const write = await fetch(`${influx.url}/write?db=${influx.db}&rp=${RP_RAW}&precision=ms`, { method: 'POST', body: [...lines, ...deadLetterLines()].join('\n') });
  expect(write.status).toBe(204);
  const aggWrite = await fetch(`${influx.url}/write?db=${influx.db}&rp=${RP_AGGREGATES}&precision=ms`, { method: 'POST', body: aggLines().join('\n') });
  expect(aggWrite.status).toBe(204);

  const boards = Object.values(allDashboards());
  const variable = boards[0]?.templating?.list?.find((v) => v.name === 'torg');
  if (typeof variable?.query !== 'string') throw new Error('torg variable query missing');
  torgValues = (await run(variable.query)).flatMap((s) => (s.values ?? []).map((row) => String(row[1])));

  for (const board of boards) {
    for (const panel of board.panels ?? []) {
      if (!('targets' in panel)) continue;
      const timeFrom = 'timeFrom' in panel ? panel.timeFrom : undefined;
      const range = panelRange(board, timeFrom);
      for (const target of panel.targets ?? []) {
        const raw = (target as { query?: unknown }).query;
        if (typeof raw !== 'string') throw new Error(`${board.title}/${panel.title}: target without a query`);
        const query = expand(raw, range, torgValues);
        ran.push({ dashboard: board.uid ?? '', panel: panel.title ?? '', query, series: await run(query) });
      }
    }
  }
}, 60_000);

afterAll(async () => {
  await influx.dispose();
});

function seriesOf(dashboard: string, panel: string): Series[] {
  const hit = ran.find((r) => r.dashboard === dashboard && r.panel === panel);
  if (hit === undefined) throw new Error(`no panel ${dashboard}/${panel}`);
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
    // overview 4 panels, torg detail 3, climate 4, device health 3, ingest operations 3.
    expect(ran).toHaveLength(17);
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
});

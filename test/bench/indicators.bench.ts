/**
 * `npm run bench:indicators` (issue 6 "Benchmark"): a month for 7 torg × 500 devices at one reading
 * per minute. What is measured, and what is not, is stated in test/bench/README.md ("Indicators
 * benchmark"); in short:
 *
 * 1. Seeding. The simulator's fast-forward (simulator/model.ts TorgSimulator, one step per minute)
 *    runs the 7 sample torg through the month. Each zone's occupancy is fanned out over several seat
 *    sensors (their counts sum to the simulated occupancy) so each torg has `--devices` devices.
 *    Each local day's readings are generated in memory and fed to the metrics engine
 *    (computeHourBuckets), exactly as recomputeDay would after reading them back; the day's hour
 *    buckets are written to a real InfluxDB 1.6 (`agg_hourly`, RP forever). The raw readings are not
 *    written (151 M points would take hours here); measure (a) is the engine's raw → hourly compute,
 *    timed per day, summed, and given per device-day.
 * 2. Measure (b): the month's metrics and indicators from the stored hours, as the API and the
 *    monthly report compute them: every scope, period and split rolled up from `agg_hourly` read over
 *    HTTP (InfluxMetricsReader), then computeIndicators with config/indicators.sample.json.
 *
 * Prints one JSON line per measure: {"measure", "devices", "days", "seconds", ...}.
 * Options: --month YYYY-MM (default 2026-10, which has the fall-back day), --days N (first N days
 * of the month; default all), --devices N per torg (default 500), --seed N.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import { RP_AGGREGATES } from '../../devices/contract/influx-layout.ts';
import { localDay, localMonth } from '../../devices/torg/opening-hours.ts';
import { loadTorgConfig } from '../../devices/torg/torg-config.schema.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { hourBucketsToLines } from '../../dashboards/metrics/agg-hourly.ts';
import { InfluxMetricsReader } from '../../dashboards/metrics/influx-metrics-reader.ts';
import { computeHourBuckets, RollUp } from '../../dashboards/metrics/metrics-engine.ts';
import type { AssignmentLookup, ClimateSample, CounterSample, HourBucket, MetricsOptions, Place, PresenceSample } from '../../dashboards/metrics/metrics-engine.ts';
import { loadIndicatorFile } from '../../dashboards/indicators/indicator-definition.schema.ts';
import { computeIndicators } from '../../dashboards/indicators/indicator-engine.ts';
import { InfluxWriter } from '../../ingest/influx-writer.ts';
import { TorgSimulator } from '../../simulator/model.ts';
import { runReportReads } from '../dashboards/report/report-reads.ts';
import { startInfluxDB } from '../support/services.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ZONE = 'Europe/Oslo';

const { values: args } = parseArgs({
  options: {
    month: { type: 'string', default: '2026-10' },
    days: { type: 'string' },
    devices: { type: 'string', default: '500' },
    seed: { type: 'string', default: '42' },
    repeat: { type: 'string', default: '3' },
    'data-dir': { type: 'string' },
    reuse: { type: 'boolean', default: false },
  },
});
// (b) is timed `--repeat` times over the same stored hours: the first run is cold (JIT, InfluxDB's
// caches), the later ones are what a service that has answered before sees. All are printed.
const repeat = Number(args.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat: an integer ≥ 1');
// `--data-dir DIR` keeps InfluxDB's data after the run; `--reuse` measures (b) on a DIR seeded by an
// earlier run with the same options, without seeding again (for working on (b)).
if (args.reuse && args['data-dir'] === undefined) throw new Error('--reuse needs --data-dir');
const devicesPerTorg = Number(args.devices);
if (!Number.isInteger(devicesPerTorg) || devicesPerTorg < 10) throw new Error('--devices: an integer ≥ 10');
const monthStart = DateTime.fromISO(`${args.month}-01`, { zone: ZONE });
if (!monthStart.isValid) throw new Error(`--month: not a month: ${args.month}`);
const month = localMonth(monthStart.toMillis(), ZONE);
const daysInMonth = Math.round(monthStart.plus({ months: 1 }).diff(monthStart, 'days').days);
const days = args.days === undefined ? daysInMonth : Math.min(daysInMonth, Number(args.days));
// The month before is seeded as well: the indicators' trend reads its stored hours, as on a platform
// that has run for more than a month.
const prevMonth = localMonth(month.startMs - 1, ZONE);
const prevDays = Math.round(DateTime.fromMillis(month.startMs, { zone: ZONE }).diff(DateTime.fromMillis(prevMonth.startMs, { zone: ZONE }), 'days').days);

const config = loadTorgConfig(`${root}config/torg.asker.sample.json`);
const torgs: readonly Torg[] = config.torg;

// One reading per minute: the reporting window is 2.5 minutes (metrics engine default factor).
const options: Partial<MetricsOptions> = { defaultExpectedIntervalMs: 60_000, municipality: 'asker' };

/** Seat sensors per zone so that counters + doors + climate + seats = devicesPerTorg. */
function seatsPerZone(torg: Torg): number[] {
  const fixed = torg.entrances.length * 2 + torg.zones.length;
  const seats = devicesPerTorg - fixed;
  if (seats < torg.zones.length) throw new Error(`${torg.id}: --devices too small for ${torg.zones.length} zones`);
  return torg.zones.map((_, i) => Math.floor(seats / torg.zones.length) + (i < seats % torg.zones.length ? 1 : 0));
}

const places = new Map<string, { torg: string; place: Place }>();
const seatIds = new Map<string, string[]>(); // simulator presence device → its seat sensors
const sims = torgs.map((torg) => new TorgSimulator(torg, { seed: Number(args.seed), startMs: prevMonth.startMs, stepSeconds: 60, faultRate: 0.3 }));
for (const [ti, sim] of sims.entries()) {
  const torg = torgs[ti]!;
  const seats = seatsPerZone(torg);
  for (const d of sim.devices) {
    if (d.role === 'counter') places.set(d.id, { torg: torg.id, place: { type: 'entrance', entrance: d.entrance!, line: d.lines![0]! } });
    if (d.role === 'climate') places.set(d.id, { torg: torg.id, place: { type: 'zone', zone: d.zone! } });
    if (d.role === 'presence') {
      const n = seats[torg.zones.findIndex((z) => z.id === d.zone)]!;
      const ids = Array.from({ length: n }, (_, i) => `${d.id}-seat${i}`);
      seatIds.set(d.id, ids);
      for (const id of ids) places.set(id, { torg: torg.id, place: { type: 'zone', zone: d.zone! } });
    }
  }
}
const assignments: AssignmentLookup = (device) => places.get(device) ?? null;
const totalDevices = sims.reduce((n, s) => n + s.devices.filter((d) => d.role !== 'presence').length, 0) + [...seatIds.values()].reduce((n, ids) => n + ids.length, 0);

const influx = await startInfluxDB(args['data-dir'] === undefined ? {} : { dataDir: args['data-dir'] });
const writer = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_AGGREGATES, precision: 'ms' });
const reader = new InfluxMetricsReader({ url: influx.url, db: influx.db, timeoutMs: 120_000 });
const log = (s: string) => process.stderr.write(`${s}\n`);

try {
  let engineMs = 0;
  let simulateMs = 0;
  let readingsTotal = 0;
  let points = 0;
  let prevPoints = 0;
  let presence: PresenceSample[] = [];
  let climate: ClimateSample[] = [];
  let counter: CounterSample[] = [];
  let dayStart = prevMonth.startMs;
  for (let d = 0; d < (args.reuse ? 0 : prevDays + days); d++) {
    const day = localDay(dayStart, ZONE);
    const measured = d >= prevDays; // (a) and the point count are the month's
    // Readings of the previous day inside one reporting window hold into this one (recomputeDay's lookback).
    const lookback = day.startMs - 150_000;
    presence = presence.filter((r) => r.time >= lookback);
    climate = climate.filter((r) => r.time >= lookback);
    counter = counter.filter((r) => r.time >= lookback);
    const s0 = performance.now();
    for (let t = day.startMs + 60_000; t <= day.endMs; t += 60_000) {
      for (const sim of sims) {
        const step = sim.step();
        for (const r of step.readings) {
          if (r.kind === 'presence') {
            const ids = seatIds.get(r.device) ?? [];
            const n = r.count ?? (r.occupied ? 1 : 0);
            const base = Math.floor(n / ids.length);
            const extra = n % ids.length;
            ids.forEach((id, i) => {
              const c = base + (i < extra ? 1 : 0);
              presence.push({ device: id, time: step.timeMs, occupied: c > 0, count: c });
            });
          } else if (r.kind === 'climate') {
            climate.push({ device: r.device, time: step.timeMs, co2: r.co2 ?? null, temperature: r.temperature ?? null, humidity: r.humidity ?? null });
          } else if (r.kind === 'counter' && r.line !== undefined) {
            counter.push({ device: r.device, line: r.line, time: step.timeMs, periodIn: r.periodIn ?? null, periodOut: r.periodOut ?? null });
          }
        }
      }
    }
    if (measured) simulateMs += performance.now() - s0;
    if (measured) readingsTotal += presence.length + climate.length + counter.length;
    const e0 = performance.now();
    const hours = computeHourBuckets({ torgs, fromMs: day.startMs, toMs: day.endMs, readings: { presence, climate, counter }, assignments, options });
    const dayEngineMs = performance.now() - e0;
    if (measured) engineMs += dayEngineMs;
    const lines = hourBucketsToLines(hours);
    for (let i = 0; i < lines.length; i += 5000) {
      const outcome = await writer.write(lines.slice(i, i + 5000));
      if (outcome.rejected.length > 0) throw new Error(`agg_hourly refused: ${outcome.rejected[0]!.reason}`);
    }
    if (measured) points += lines.length;
    else prevPoints += lines.length;
    log(`${day.label}: ${presence.length + climate.length + counter.length} readings, engine ${(dayEngineMs / 1000).toFixed(2)} s, ${lines.length} hour points`);
    dayStart = day.endMs;
  }
  if (args.reuse) {
    const count = async (from: number, to: number) =>
      Number((await reader.query(`SELECT count("spanMs") FROM "${RP_AGGREGATES}"."agg_hourly" WHERE time >= ${from}ms AND time < ${to}ms`))[0]?.['count'] ?? 0);
    points = await count(month.startMs, month.endMs);
    prevPoints = await count(prevMonth.startMs, prevMonth.endMs);
    if (points === 0) throw new Error(`--reuse: no agg_hourly points in ${args['data-dir']}`);
    dayStart = localDay(month.startMs, ZONE).startMs;
    for (let d = 0; d < days; d++) dayStart = localDay(dayStart, ZONE).endMs;
  }
  const seededEnd = dayStart;

  // (b) The month's metrics and indicators from stored hours. The month before is read too, as
  // GET /api/v1/indicators reads it for the trend: its torg and municipality hours only.
  const indicatorFile = loadIndicatorFile(`${root}config/indicators.sample.json`);
  const measureB = async () => {
    const b0 = performance.now();
    // The platform's path (createHourSource): each day's stored hours are folded into the roll-up as
    // they are read, so the read and the roll-up overlap; `rows()` then builds the period rows.
    const roll = new RollUp(options, ZONE);
    let bucketsRead = 0;
    const fold = (day: HourBucket[]) => {
      bucketsRead += day.length;
      for (const b of day) roll.add(b);
    };
    await Promise.all([
      reader.forEachAggHourlyDay(prevMonth.startMs, prevMonth.endMs, ['torg', 'municipality'], fold),
      reader.forEachAggHourlyDay(month.startMs, month.endMs, undefined, fold),
    ]);
    const bRead = performance.now();
    const rows = roll.rows();
    const b1 = performance.now();
    const result = computeIndicators(indicatorFile, rows.filter((r) => r.period === 'month'), [], month.label, {
      torg: torgs.map((t) => ({ id: t.id, population: t.population })),
      municipality: 'asker',
    });
    const b2 = performance.now();
    return { b0, bRead, b1, b2, hourBucketsRead: bucketsRead, metricRows: rows.length, indicatorValues: result.values.length };
  };

  // (c) The monthly report's reads (report-sources.ts: the month's metrics, its indicators computed
  // from stored hours, the recommendations at the month's end) in a child process with the ingest's
  // V8 flags (ingest/node-flags: a 128 MB heap), as the service that builds the report runs them.

  const deviceDays = totalDevices * days;
  const base = { devices: totalDevices, torg: torgs.length, days };
  const print = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
  if (!args.reuse) {
    print({
      measure: 'raw_to_hourly_engine',
      ...base,
      seconds: +(engineMs / 1000).toFixed(3),
      readings: readingsTotal,
      msPerDeviceDay: +(engineMs / deviceDays).toFixed(4),
      hourPointsStored: points,
      simulateSeconds: +(simulateMs / 1000).toFixed(3),
    });
  }
  const s = (ms: number) => +(ms / 1000).toFixed(3);
  for (let run = 1; run <= repeat; run++) {
    const m = await measureB();
    print({
      measure: 'month_metrics_and_indicators_from_stored_hours',
      ...base,
      run,
      seconds: s(m.b2 - m.b0),
      readAndFoldSeconds: s(m.bRead - m.b0),
      rowsSeconds: s(m.b1 - m.bRead),
      indicatorsSeconds: s(m.b2 - m.b1),
      hourPointsStored: points,
      previousMonthPointsStored: prevPoints,
      hourBucketsRead: m.hourBucketsRead,
      metricRows: m.metricRows,
      indicatorValues: m.indicatorValues,
      withinTarget5s: (m.b2 - m.b0) / 1000 < 5,
      seededThrough: DateTime.fromMillis(seededEnd, { zone: ZONE }).toISODate(),
    });
  }
  print({ measure: 'monthly_report_reads_in_ingest_heap', ...base, month: month.label, ...(await runReportReads(influx.url, influx.db, month.label)) });
} finally {
  await writer.close();
  await influx.dispose();
}

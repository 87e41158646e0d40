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
import { hourBucketToLine } from '../../dashboards/metrics/agg-hourly.ts';
import { InfluxMetricsReader } from '../../dashboards/metrics/influx-metrics-reader.ts';
import { computeHourBuckets, rollUp } from '../../dashboards/metrics/metrics-engine.ts';
import type { AssignmentLookup, ClimateSample, CounterSample, MetricsOptions, Place, PresenceSample } from '../../dashboards/metrics/metrics-engine.ts';
import { loadIndicatorFile } from '../../dashboards/indicators/indicator-definition.schema.ts';
import { computeIndicators } from '../../dashboards/indicators/indicator-engine.ts';
import { InfluxWriter } from '../../ingest/influx-writer.ts';
import { TorgSimulator } from '../../simulator/model.ts';
import { startInfluxDB } from '../support/services.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ZONE = 'Europe/Oslo';

const { values: args } = parseArgs({
  options: {
    month: { type: 'string', default: '2026-10' },
    days: { type: 'string' },
    devices: { type: 'string', default: '500' },
    seed: { type: 'string', default: '42' },
  },
});
const devicesPerTorg = Number(args.devices);
if (!Number.isInteger(devicesPerTorg) || devicesPerTorg < 10) throw new Error('--devices: an integer ≥ 10');
const monthStart = DateTime.fromISO(`${args.month}-01`, { zone: ZONE });
if (!monthStart.isValid) throw new Error(`--month: not a month: ${args.month}`);
const month = localMonth(monthStart.toMillis(), ZONE);
const daysInMonth = Math.round(monthStart.plus({ months: 1 }).diff(monthStart, 'days').days);
const days = args.days === undefined ? daysInMonth : Math.min(daysInMonth, Number(args.days));

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
const sims = torgs.map((torg) => new TorgSimulator(torg, { seed: Number(args.seed), startMs: month.startMs, stepSeconds: 60, faultRate: 0.3 }));
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

const influx = await startInfluxDB();
const writer = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_AGGREGATES, precision: 'ms' });
const reader = new InfluxMetricsReader({ url: influx.url, db: influx.db, timeoutMs: 120_000 });
const log = (s: string) => process.stderr.write(`${s}\n`);

try {
  let engineMs = 0;
  let simulateMs = 0;
  let readingsTotal = 0;
  let points = 0;
  let presence: PresenceSample[] = [];
  let climate: ClimateSample[] = [];
  let counter: CounterSample[] = [];
  let dayStart = month.startMs;
  for (let d = 0; d < days; d++) {
    const day = localDay(dayStart, ZONE);
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
    simulateMs += performance.now() - s0;
    readingsTotal += presence.length + climate.length + counter.length;
    const e0 = performance.now();
    const hours = computeHourBuckets({ torgs, fromMs: day.startMs, toMs: day.endMs, readings: { presence, climate, counter }, assignments, options });
    const dayEngineMs = performance.now() - e0;
    engineMs += dayEngineMs;
    const lines = hours.map(hourBucketToLine);
    for (let i = 0; i < lines.length; i += 5000) {
      const outcome = await writer.write(lines.slice(i, i + 5000));
      if (outcome.rejected.length > 0) throw new Error(`agg_hourly refused: ${outcome.rejected[0]!.reason}`);
    }
    points += lines.length;
    log(`${day.label}: ${presence.length + climate.length + counter.length} readings, engine ${(dayEngineMs / 1000).toFixed(2)} s, ${lines.length} hour points`);
    dayStart = day.endMs;
  }
  const seededEnd = dayStart;

  // (b) The month's metrics and indicators from stored hours (the month before is read too: the
  // indicators' trend needs it; it is empty here, as on the platform's first month).
  const prevMonth = localMonth(month.startMs - 1, ZONE);
  const indicatorFile = loadIndicatorFile(`${root}config/indicators.sample.json`);
  const b0 = performance.now();
  // rollUpStored's two steps, timed apart: reading the stored hours, and rolling them up.
  const stored = await reader.readAggHourly(prevMonth.startMs, month.endMs);
  const bRead = performance.now();
  const rows = rollUp(stored, options, ZONE);
  const b1 = performance.now();
  const result = computeIndicators(indicatorFile, rows.filter((r) => r.period === 'month'), [], month.label, {
    torg: torgs.map((t) => ({ id: t.id, population: t.population })),
    municipality: 'asker',
  });
  const b2 = performance.now();

  const deviceDays = totalDevices * days;
  const base = { devices: totalDevices, torg: torgs.length, days };
  const print = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
  print({
    measure: 'raw_to_hourly_engine',
    ...base,
    seconds: +(engineMs / 1000).toFixed(3),
    readings: readingsTotal,
    msPerDeviceDay: +(engineMs / deviceDays).toFixed(4),
    hourPointsStored: points,
    simulateSeconds: +(simulateMs / 1000).toFixed(3),
  });
  print({
    measure: 'month_metrics_and_indicators_from_stored_hours',
    ...base,
    seconds: +((b2 - b0) / 1000).toFixed(3),
    readAndRollUpSeconds: +((b1 - b0) / 1000).toFixed(3),
    readSeconds: +((bRead - b0) / 1000).toFixed(3),
    rollUpSeconds: +((b1 - bRead) / 1000).toFixed(3),
    indicatorsSeconds: +((b2 - b1) / 1000).toFixed(3),
    hourPointsRead: points,
    metricRows: rows.length,
    indicatorValues: result.values.length,
    withinTarget5s: (b2 - b0) / 1000 < 5,
    seededThrough: DateTime.fromMillis(seededEnd, { zone: ZONE }).toISODate(),
  });
} finally {
  await writer.close();
  await influx.dispose();
}

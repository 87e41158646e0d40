/**
 * The usage-metrics engine (issue 6): raw readings of a period → metric rows per zone, module, torg
 * and municipality, per hour, day, ISO week and month in Europe/Oslo, split into staffed, meråpent,
 * closed and all open time. Pure: no clock, no I/O; the reader (influx-metrics-reader.ts) and the
 * recompute job feed it. Every modelling rule is stated here and in README.md.
 *
 * Method: the period is cut into elementary segments at every instant anything can change (hour
 * boundaries, opening-hour boundaries, each reading, each end of a reporting window, each counter
 * event). Within a segment every state is constant, so every time-weighted figure is an exact sum
 * of segment lengths — a 23- or 25-hour day has exactly its 23 or 25 hour buckets, because hours are
 * UTC hours (Europe/Oslo offsets are whole hours) labelled in local time.
 */
import { DateTime } from 'luxon';
import { closingOf, TorgOccupancy } from '../occupancy/torg-occupancy.ts';
import type { DriftCorrection } from '../occupancy/torg-occupancy.ts';
import { localDay, localIsoWeek, localMonth, openIntervals } from '../../devices/torg/opening-hours.ts';
import type { OpeningStatus } from '../../devices/torg/opening-hours.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { emptyAccumulator, mergeInto, mergeMembersInto, rowValues } from './accumulator.ts';
import type { Accumulator } from './accumulator.ts';
import type { MetricRow, MetricsResult, PeriodKind, Scope, Split } from './metric-row.schema.ts';

export const HOUR_MS = 3_600_000;

export type Place = { type: 'zone'; zone: string } | { type: 'entrance'; entrance: string; line: string };
/**
 * Where a device was at an instant. Readings of a device with no assignment at their timestamp are
 * left out, which keeps pending devices out of every indicator (issue 4).
 */
export type AssignmentLookup = (device: string, atMs: number) => { torg: string; place: Place } | null;

export interface PresenceSample {
  device: string;
  time: number;
  occupied: boolean | null;
  count: number | null;
}
export interface CounterSample {
  device: string;
  line: string;
  time: number;
  periodIn: number | null;
  periodOut: number | null;
}
export interface ClimateSample {
  device: string;
  time: number;
  co2: number | null;
  temperature: number | null;
  humidity: number | null;
}
export interface RawReadings {
  presence: readonly PresenceSample[];
  counter: readonly CounterSample[];
  climate: readonly ClimateSample[];
}

export interface MetricsOptions {
  /** Expected reporting interval per device (ms); devices not listed use the default. */
  expectedIntervalMs: Readonly<Record<string, number>>;
  defaultExpectedIntervalMs: number;
  /** A sensor is reporting at t if it sent a reading within interval × this factor before t. */
  reportingFactor: number;
  /** Below this completeness a row is flagged lowCompleteness. */
  completenessThreshold: number;
  /** CO2 norm (FHI, Arbeidstilsynet: 1000 ppm). */
  co2MaxPpm: number;
  temperatureRange: readonly [number, number];
  humidityRange: readonly [number, number];
  /** scopeId of the municipality row. */
  municipality: string;
}

export const DEFAULT_METRICS_OPTIONS: MetricsOptions = {
  expectedIntervalMs: {},
  defaultExpectedIntervalMs: 10 * 60_000,
  reportingFactor: 2.5,
  completenessThreshold: 0.8,
  co2MaxPpm: 1000,
  temperatureRange: [19, 24],
  humidityRange: [20, 60],
  municipality: 'asker',
};

/** The hold and gap rules, stated with the numbers (issue 6: "if any filling is done, the rule is stated in the output"). */
export function rulesOf(o: MetricsOptions): MetricsResult['rules'] {
  return {
    hold:
      `A presence or climate reading holds its value from its timestamp until the next reading of the same sensor, ` +
      `but never beyond the sensor's expected interval × ${o.reportingFactor} (its reporting window). Counter counts are placed at the end of ` +
      `their counting period; torg occupancy is in − out accumulated from 0 at the start of the computed local day, clamped at 0 and reset at closing.`,
    gaps: 'Time when a sensor behind a scope is not reporting is left out of every average and share, never filled; completeness is the share of time kept.',
    completenessThreshold: o.completenessThreshold,
  };
}

/** One hour bucket of one scope and split. */
export interface HourBucket {
  scope: Scope;
  scopeId: string;
  torg: string | null;
  hourStart: number;
  split: Split;
  acc: Accumulator;
}

interface Hold<T> {
  start: number;
  end: number;
  value: T;
}

function windowOf(device: string, o: MetricsOptions): number {
  return (o.expectedIntervalMs[device] ?? o.defaultExpectedIntervalMs) * o.reportingFactor;
}

/** Per-device holds: [t_i, min(t_{i+1}, t_i + window)). A repeated timestamp keeps the last reading. */
function holdsOf<T extends { device: string; time: number }>(samples: readonly T[], o: MetricsOptions): Map<string, Hold<T>[]> {
  const byDevice = new Map<string, T[]>();
  for (const s of samples) {
    const list = byDevice.get(s.device) ?? [];
    list.push(s);
    byDevice.set(s.device, list);
  }
  const out = new Map<string, Hold<T>[]>();
  for (const [device, list] of byDevice) {
    list.sort((a, b) => a.time - b.time);
    const w = windowOf(device, o);
    const holds: Hold<T>[] = [];
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      const next = list[i + 1];
      if (next && next.time === s.time) continue;
      holds.push({ start: s.time, end: Math.min(next ? next.time : Infinity, s.time + w), value: s });
    }
    out.set(device, holds);
  }
  return out;
}

/** Cursor over one device's holds for a forward sweep. */
class HoldCursor<T> {
  private i = 0;
  constructor(private readonly holds: readonly Hold<T>[]) {}
  at(t: number): T | undefined {
    while (this.i < this.holds.length && this.holds[this.i]!.end <= t) this.i++;
    const h = this.holds[this.i];
    return h && h.start <= t ? h.value : undefined;
  }
}

class Buckets {
  readonly map = new Map<string, HourBucket>();
  /** Last (hour, status) → accumulators per scope: consecutive segments mostly share them. */
  private readonly last = new Map<string, { hour: number; status: OpeningStatus; accs: Accumulator[] }>();
  get(scope: Scope, scopeId: string, torg: string | null, hourStart: number, split: Split, withVisits: boolean): Accumulator {
    // Zone ids are unique within a torg only (torg-config.schema.ts), so the torg is part of the key.
    const key = `${scope}|${torg}|${scopeId}|${hourStart}|${split}`;
    let b = this.map.get(key);
    if (!b) {
      b = { scope, scopeId, torg, hourStart, split, acc: emptyAccumulator(withVisits) };
      this.map.set(key, b);
    }
    return b.acc;
  }
  /** The status split plus 'all' when open; 'all' exists for every hour even when closed throughout. */
  each(scope: Scope, scopeId: string, torg: string | null, hourStart: number, status: OpeningStatus, withVisits: boolean): Accumulator[] {
    const scopeKey = `${scope}|${torg}|${scopeId}`;
    const cached = this.last.get(scopeKey);
    if (cached && cached.hour === hourStart && cached.status === status) return cached.accs;
    const all = this.get(scope, scopeId, torg, hourStart, 'all', withVisits);
    const accs = status === 'closed' ? [this.get(scope, scopeId, torg, hourStart, 'closed', withVisits)] : [this.get(scope, scopeId, torg, hourStart, status, withVisits), all];
    this.last.set(scopeKey, { hour: hourStart, status, accs });
    return accs;
  }
}

const hourOf = (t: number): number => Math.floor(t / HOUR_MS) * HOUR_MS;

/**
 * Hour buckets of every scope for [fromMs, toMs), which must be whole hours; torg occupancy is replayed
 * from 0 at fromMs, so callers start at a local midnight (the torg was reset at its last closing).
 * `readings` may include readings before fromMs (up to one reporting window) so holds reach into the period.
 */
export function computeHourBuckets(input: {
  torgs: readonly Torg[];
  fromMs: number;
  toMs: number;
  readings: RawReadings;
  assignments: AssignmentLookup;
  options?: Partial<MetricsOptions>;
}): HourBucket[] {
  const o: MetricsOptions = { ...DEFAULT_METRICS_OPTIONS, ...input.options };
  const { fromMs, toMs } = input;
  if (fromMs % HOUR_MS !== 0 || toMs % HOUR_MS !== 0 || toMs <= fromMs) throw new RangeError('computeHourBuckets: from/to must be whole hours, from < to');
  const buckets = new Buckets();
  const torgTimelines: TorgSegment[][] = [];
  for (const torg of input.torgs) torgTimelines.push(computeTorg(torg, fromMs, toMs, input.readings, input.assignments, o, buckets));
  // Occupancy of modules (computeTorg) and of the municipality (municipalitySweep) is summed at each
  // moment; climate times, visits, runs and drift are additive over members and merged here.
  for (const b of [...buckets.map.values()]) {
    if (b.scope === 'zone') {
      const torg = input.torgs.find((t) => t.id === b.torg)!;
      const zone = torg.zones.find((z) => z.id === b.scopeId)!;
      mergeMembersInto(buckets.get('module', `${torg.id}/${zone.module}`, torg.id, b.hourStart, b.split, false), b.acc);
    }
  }
  for (const b of [...buckets.map.values()]) {
    if (b.scope === 'torg') mergeMembersInto(buckets.get('municipality', o.municipality, null, b.hourStart, b.split, true), b.acc);
  }
  municipalitySweep(torgTimelines, fromMs, toMs, o, buckets);
  return [...buckets.map.values()];
}

/** One elementary segment of a torg: its status, and its occupancy when its counters all report. */
interface TorgSegment {
  start: number;
  end: number;
  status: OpeningStatus;
  /** null when the torg is not reporting (or has no counter seen in the range: not a member then). */
  occupancy: number | null;
  capacity: number;
  member: boolean;
}

/**
 * The municipality's occupancy at t is the sum of its torg's at t. Torg have different opening
 * hours, so for split s the members at t are the torg whose status is s ('all': open, staffed or
 * meråpent); the split has time when at least one torg is in it, and is reporting when every member
 * in it is (the gap rule of zones and torg). A torg with no counter seen in the range is not a
 * member (the engine cannot know it has sensors, as for zones: README.md "Sensors behind a scope").
 */
function municipalitySweep(timelines: readonly TorgSegment[][], fromMs: number, toMs: number, o: MetricsOptions, buckets: Buckets): void {
  const cuts = new Set<number>([fromMs, toMs]);
  for (const tl of timelines) for (const s of tl) cuts.add(s.start).add(s.end);
  const points = [...cuts].filter((t) => t >= fromMs && t <= toMs).sort((a, b) => a - b);
  const idx = timelines.map(() => 0);
  for (let p = 0; p + 1 < points.length; p++) {
    const a = points[p]!;
    const dt = points[p + 1]! - a;
    const hour = hourOf(a);
    const now: TorgSegment[] = [];
    timelines.forEach((tl, i) => {
      while (idx[i]! < tl.length && tl[idx[i]!]!.end <= a) idx[i]!++;
      const seg = tl[idx[i]!];
      if (seg && seg.start <= a) now.push(seg);
    });
    for (const split of ['staffed', 'meraapent', 'closed', 'all'] as const) {
      const inSplit = now.filter((s) => (split === 'all' ? s.status !== 'closed' : s.status === split));
      if (inSplit.length === 0) continue;
      const acc = buckets.get('municipality', o.municipality, null, hour, split, true);
      acc.spanMs += dt;
      const members = inSplit.filter((s) => s.member);
      if (members.length === 0 || members.some((s) => s.occupancy === null)) continue;
      addOccupancy(acc, members.reduce((sum, s) => sum + s.occupancy!, 0), members.reduce((sum, s) => sum + s.capacity, 0), true, dt);
    }
  }
}

function computeTorg(torg: Torg, fromMs: number, toMs: number, readings: RawReadings, assignments: AssignmentLookup, o: MetricsOptions, buckets: Buckets): TorgSegment[] {
  // Resolve assignments at each reading's own timestamp.
  const zoneOfPresence = new Map<PresenceSample, string>();
  const zoneOfClimate = new Map<ClimateSample, string>();
  const presence: PresenceSample[] = [];
  const climate: ClimateSample[] = [];
  const counters: CounterSample[] = [];
  const zoneIds = new Set(torg.zones.map((z) => z.id));
  for (const r of readings.presence) {
    const a = assignments(r.device, r.time);
    if (a?.torg === torg.id && a.place.type === 'zone' && zoneIds.has(a.place.zone)) {
      presence.push(r);
      zoneOfPresence.set(r, a.place.zone);
    }
  }
  for (const r of readings.climate) {
    const a = assignments(r.device, r.time);
    if (a?.torg === torg.id && a.place.type === 'zone' && zoneIds.has(a.place.zone)) {
      climate.push(r);
      zoneOfClimate.set(r, a.place.zone);
    }
  }
  // A redelivered counter reading (MQTT QoS 1 is at-least-once; a gateway replay can resend a
  // backlog) carries the same device, line and period end: it is one count, not two. InfluxDB
  // already keeps one point per series and timestamp, so this keeps the pure engine equal to
  // what the store would return. The last copy wins, as in holdsOf.
  const counterByKey = new Map<string, CounterSample>();
  for (const r of readings.counter) {
    const a = assignments(r.device, r.time);
    if (a?.torg === torg.id && a.place.type === 'entrance') counterByKey.set(`${r.device}|${r.line}|${r.time}`, r);
  }
  for (const r of counterByKey.values()) counters.push(r);

  const presenceHolds = holdsOf(presence, o);
  const climateHolds = holdsOf(climate, o);
  const counterHolds = holdsOf(counters, o);

  // The sensors behind a zone are the presence sensors assigned to it during the period (the
  // AssignmentLookup cannot enumerate, so a sensor silent for the whole period is not seen).
  const zoneSensors = new Map<string, { presence: [string, HoldCursor<PresenceSample>][]; climate: [string, HoldCursor<ClimateSample>][]; headcount: boolean }>();
  for (const z of torg.zones) zoneSensors.set(z.id, { presence: [], climate: [], headcount: false });
  for (const [device, holds] of presenceHolds) {
    const zones = new Set(holds.map((h) => zoneOfPresence.get(h.value)!));
    for (const zone of zones) {
      const zs = zoneSensors.get(zone)!;
      // A device moved between zones holds only its readings taken in this zone.
      zs.presence.push([device, new HoldCursor(holds.filter((h) => zoneOfPresence.get(h.value) === zone))]);
      if (holds.some((h) => h.value.count !== null)) zs.headcount = true;
    }
  }
  for (const [device, holds] of climateHolds) {
    const zones = new Set(holds.map((h) => zoneOfClimate.get(h.value)!));
    for (const zone of zones) zoneSensors.get(zone)!.climate.push([device, new HoldCursor(holds.filter((h) => zoneOfClimate.get(h.value) === zone))]);
  }
  const counterCursors = [...counterHolds].map(([d, h]) => [d, new HoldCursor(h)] as const);

  // Torg occupancy: replay counter events in time order through the live model, so the engine and
  // the live page apply the same clamp and closing-reset rules.
  const occ = new TorgOccupancy({ torg, now: () => fromMs });
  type Ev = { t: number; kind: 0; c: CounterSample } | { t: number; kind: 1 };
  const events: Ev[] = [];
  for (const c of counters) if (c.time > fromMs && c.time <= toMs) events.push({ t: c.time, kind: 0, c });
  let day = DateTime.fromMillis(fromMs, { zone: torg.timeZone }).startOf('day');
  while (day.toMillis() < toMs) {
    const closing = closingOf(torg, day.toISODate()!);
    if (closing !== null && closing > fromMs && closing <= toMs) events.push({ t: closing, kind: 1 });
    day = day.plus({ days: 1 });
  }
  // A count whose period ends at the closing instant belongs before the reset.
  events.sort((a, b) => a.t - b.t || a.kind - b.kind);
  const steps: { t: number; occupancy: number }[] = [{ t: fromMs, occupancy: 0 }];
  const corrections: DriftCorrection[] = [];
  const statusAt = statusLookup(torg, fromMs, toMs);
  for (const ev of events) {
    const before = occ.current;
    if (ev.kind === 0) {
      const c = ev.c;
      const a = assignments(c.device, c.time);
      const entrance = a?.place.type === 'entrance' ? a.place.entrance : 'unknown';
      occ.apply({ at: c.time, device: c.device, entrance, line: c.line, in: c.periodIn ?? 0, out: c.periodOut ?? 0 });
      // Counts are placed at the last ms of their counting period, so a period ending on an hour
      // boundary falls in the hour it counted.
      const t = c.time - 1;
      for (const acc of buckets.each('torg', torg.id, torg.id, hourOf(t), statusAt(t), true)) acc.visits = (acc.visits ?? 0) + (c.periodIn ?? 0);
      const after = occ.current;
      for (const d of occ.driftSince(after.day === before.day ? before.driftCount : 0)) corrections.push(d);
    } else {
      const d = occ.tick(ev.t);
      if (d) corrections.push(d);
    }
    steps.push({ t: ev.t, occupancy: occ.current.occupancy });
  }
  for (const d of corrections) {
    const t = d.at - 1;
    for (const acc of buckets.each('torg', torg.id, torg.id, hourOf(t), statusAt(t), true)) {
      if (d.cause === 'below_zero') acc.driftBelowZero = (acc.driftBelowZero ?? 0) + d.size;
      else acc.driftClosingReset = (acc.driftClosingReset ?? 0) - d.size;
    }
  }

  // Elementary segment boundaries.
  const cuts = new Set<number>([fromMs, toMs]);
  for (let h = fromMs; h < toMs; h += HOUR_MS) cuts.add(h);
  for (const i of openIntervals(torg, fromMs, toMs)) cuts.add(i.startMs).add(i.endMs);
  for (const m of [presenceHolds, climateHolds, counterHolds] as Map<string, Hold<unknown>[]>[]) {
    for (const holds of m.values()) for (const h of holds) cuts.add(h.start).add(h.end);
  }
  for (const s of steps) cuts.add(s.t);
  const points = [...cuts].filter((t) => t >= fromMs && t <= toMs).sort((a, b) => a - b);

  const runStart = new Map<string, number>();
  const closeRun = (zoneId: string, endMs: number): void => {
    const start = runStart.get(zoneId);
    if (start === undefined) return;
    runStart.delete(zoneId);
    const minutes = (endMs - start) / 60_000;
    const status = statusAt(start);
    for (const acc of buckets.each('zone', zoneId, torg.id, hourOf(start), status, false)) acc.runs.push(minutes);
    for (const acc of buckets.each('torg', torg.id, torg.id, hourOf(start), status, true)) acc.runs.push(minutes);
  };
  const modules = [...new Set(torg.zones.map((z) => z.module))];
  const timeline: TorgSegment[] = [];

  let stepIdx = 0;
  for (let p = 0; p + 1 < points.length; p++) {
    const a = points[p]!;
    const dt = points[p + 1]! - a;
    const hour = hourOf(a);
    const status = statusAt(a);
    while (stepIdx + 1 < steps.length && steps[stepIdx + 1]!.t <= a) stepIdx++;
    const torgOcc = steps[stepIdx]!.occupancy;
    const torgReporting = counterCursors.length > 0 && counterCursors.every(([, c]) => c.at(a) !== undefined);
    const torgAccs = buckets.each('torg', torg.id, torg.id, hour, status, true);
    for (const acc of torgAccs) {
      acc.spanMs += dt;
      if (torgReporting) addOccupancy(acc, torgOcc, torg.capacity, true, dt);
    }
    timeline.push({ start: a, end: a + dt, status, occupancy: torgReporting ? torgOcc : null, capacity: torg.capacity, member: counterCursors.length > 0 });
    // Module occupancy at this moment = Σ of its rooms' (issue 6 review); members are the rooms with
    // a presence sensor seen in the range, and the module reports only when all of them do.
    const moduleNow = new Map<string, { occ: number; capacity: number; headcount: boolean; members: number; reporting: boolean; roomsInUse: number }>();

    for (const zone of torg.zones) {
      const zs = zoneSensors.get(zone.id)!;
      const values = zs.presence.map(([, c]) => c.at(a));
      const reporting = values.length > 0 && values.every((v) => v !== undefined);
      let zoneOcc = 0;
      for (const v of values) if (v) zoneOcc += v.count ?? (v.occupied ? 1 : 0);
      const zoneAccs = buckets.each('zone', zone.id, torg.id, hour, status, false);
      for (const acc of zoneAccs) {
        acc.spanMs += dt;
        if (reporting) addOccupancy(acc, zoneOcc, zone.capacity, zs.headcount, dt);
      }
      const m = moduleNow.get(zone.module) ?? { occ: 0, capacity: 0, headcount: true, members: 0, reporting: true, roomsInUse: 0 };
      if (zs.presence.length > 0) {
        m.members++;
        m.occ += zoneOcc;
        if (zoneOcc > 0) m.roomsInUse++;
        m.capacity += zone.capacity;
        m.headcount &&= zs.headcount;
        m.reporting &&= reporting;
      }
      moduleNow.set(zone.module, m);
      if (reporting && zoneOcc > 0) {
        if (!runStart.has(zone.id)) runStart.set(zone.id, a);
        // Climate compliance is over occupied time with a reporting presence sensor.
        const climateValues = zs.climate.map(([, c]) => c.at(a)).filter((v) => v !== undefined);
        const co2 = climateValues.map((v) => v.co2).filter((v) => v !== null);
        const temp = climateValues.map((v) => v.temperature).filter((v) => v !== null);
        const hum = climateValues.map((v) => v.humidity).filter((v) => v !== null);
        for (const acc of [...zoneAccs, ...torgAccs]) {
          if (co2.length > 0) {
            acc.co2KnownMs += dt;
            if (co2.every((v) => v <= o.co2MaxPpm)) acc.co2OkMs += dt;
          }
          if (temp.length > 0) {
            acc.tempKnownMs += dt;
            if (temp.every((v) => v >= o.temperatureRange[0] && v <= o.temperatureRange[1])) acc.tempOkMs += dt;
          }
          if (hum.length > 0) {
            acc.humKnownMs += dt;
            if (hum.every((v) => v >= o.humidityRange[0] && v <= o.humidityRange[1])) acc.humOkMs += dt;
          }
        }
      } else {
        // A run ends when the room empties or its sensor stops reporting (its true end is unknown).
        closeRun(zone.id, a);
      }
    }
    for (const module of modules) {
      const m = moduleNow.get(module)!;
      for (const acc of buckets.each('module', `${torg.id}/${module}`, torg.id, hour, status, false)) {
        acc.spanMs += dt;
        // A module mixing head-count and presence-only rooms uses the presence-only rule
        // (occupied time ÷ reported time): a people ÷ capacity ratio needs every room's head count.
        if (m.members > 0 && m.reporting) {
          addOccupancy(acc, m.occ, m.capacity, m.headcount, dt);
          // Rooms occupied at this same moment (issue 6 dimensioning): two meetings one after the
          // other in different rooms within an hour need one room, which a per-room hourly peak
          // cannot tell.
          acc.roomsInUsePeak = Math.max(acc.roomsInUsePeak ?? 0, m.roomsInUse);
        }
      }
    }
  }
  // Runs still open at the end of the computed range are cut there.
  for (const zone of torg.zones) closeRun(zone.id, toMs);
  return timeline;
}

function addOccupancy(acc: Accumulator, occupancy: number, capacity: number, headcount: boolean, dt: number): void {
  acc.reportedMs += dt;
  acc.occMs += occupancy * dt;
  acc.peak = acc.peak === null ? occupancy : Math.max(acc.peak, occupancy);
  if (occupancy > 0) acc.usedMs += dt;
  if (headcount) {
    acc.utilNum += occupancy * dt;
    acc.utilDen += capacity * dt;
    acc.targetKnownMs += dt;
    const r = occupancy / capacity;
    if (r < 0.6) acc.under60Ms += dt;
    else if (r <= 1) acc.from60to100Ms += dt;
    else acc.over100Ms += dt;
  } else {
    // Presence-only room: utilisation is occupied time ÷ open time (docs/product.md).
    acc.utilNum += occupancy > 0 ? dt : 0;
    acc.utilDen += dt;
  }
}

/** Opening status by instant for a range, from one openIntervals call. */
function statusLookup(torg: Torg, fromMs: number, toMs: number): (t: number) => OpeningStatus {
  const intervals = openIntervals(torg, fromMs - HOUR_MS, toMs + HOUR_MS);
  // Intervals are sorted and disjoint: binary search for the last one starting at or before t.
  return (t) => {
    let lo = 0;
    let hi = intervals.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (intervals[mid]!.startMs <= t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const i = intervals[found];
    return i && t < i.endMs ? i.kind : 'closed';
  };
}

/** Oslo local hour label; the repeated hour of a fall-back day carries its UTC offset. */
export function hourLabel(hourStart: number, zone = 'Europe/Oslo'): string {
  const fmt = (t: number): string => DateTime.fromMillis(t, { zone }).toFormat("yyyy-MM-dd'T'HH");
  const label = fmt(hourStart);
  if (fmt(hourStart - HOUR_MS) === label || fmt(hourStart + HOUR_MS) === label) return label + DateTime.fromMillis(hourStart, { zone }).toFormat('ZZ');
  return label;
}

/** The busiest child of a period so far: the highest value, the earliest on a tie (order-independent). */
interface Busiest {
  label: string;
  start: number;
  value: number;
}

/** Busiest by visits where the scope counts visits, else by average occupancy. */
const busyValue = (acc: Accumulator): number => acc.visits ?? (acc.reportedMs > 0 ? acc.occMs / acc.reportedMs : 0);

function busier(best: Busiest | undefined, label: string, start: number, acc: Accumulator): Busiest | undefined {
  const value = busyValue(acc);
  // Only a period with some use has a busiest child (a value of 0 names none).
  if (value <= 0) return best;
  if (best === undefined || value > best.value || (value === best.value && start < best.start)) return { label, start, value };
  return best;
}

interface PeriodBucket {
  base: HourBucket;
  period: 'day' | 'week' | 'month';
  start: number;
  end: number;
  label: string;
  acc: Accumulator;
  busiestHour: Busiest | undefined;
  /** The day buckets of the same scope and split, by start (busiest day of weeks and months). */
  seriesDays: Map<number, PeriodBucket>;
}

/** Which rows a roll-up emits: by period, and for hour rows by bucket (hour rows are most of the rows). */
export type RowWanted = (period: PeriodKind, bucket: Pick<HourBucket, 'scope' | 'scopeId' | 'torg' | 'split'>) => boolean;

/**
 * Hour buckets → rows for hours, days, ISO weeks and months, one bucket at a time: it keeps the day,
 * week and month sums, not the hours (and the hour rows only where `wanted`), so a month of every
 * scope rolls up in bounded memory (issue 6 benchmark; the ingest runs with a 128 MB heap). The rows
 * do not depend on the order buckets are added in, except for the order of the rows themselves.
 */
export class RollUp {
  private readonly o: MetricsOptions;
  private readonly bySeries = new Map<string, Record<'day' | 'week' | 'month', Map<number, PeriodBucket>>>();
  /** In the order first seen, which is the order of the period rows. */
  private readonly periods: PeriodBucket[] = [];
  private readonly hourRows: MetricRow[] = [];
  // luxon computes an IANA zone offset through Intl on every conversion; a month has ~744 distinct
  // hours against ~10^5 buckets, so the calendar of each hour is computed once.
  private readonly cal = new Map<number, { label: string; periods: readonly (readonly ['day' | 'week' | 'month', { startMs: number; endMs: number; label: string }])[] }>();

  constructor(
    options: Partial<MetricsOptions> = {},
    private readonly zone = 'Europe/Oslo',
    private readonly wanted: RowWanted = () => true,
  ) {
    this.o = { ...DEFAULT_METRICS_OPTIONS, ...options };
  }

  private calOf(t: number) {
    let c = this.cal.get(t);
    if (!c) {
      const z = this.zone;
      c = { label: hourLabel(t, z), periods: [['day', localDay(t, z)], ['week', localIsoWeek(t, z)], ['month', localMonth(t, z)]] };
      this.cal.set(t, c);
    }
    return c;
  }

  /** 'all' is always a row; the other splits only where they have time in the period. */
  private row(base: HourBucket, period: PeriodKind, start: number, end: number, label: string, acc: Accumulator, extra: Partial<MetricRow>): MetricRow | null {
    if (base.split !== 'all' && acc.spanMs === 0) return null;
    return { scope: base.scope, scopeId: base.scopeId, torg: base.torg, period, start, end, label, split: base.split, ...rowValues(acc, this.o.completenessThreshold), ...extra };
  }

  add(h: HourBucket): void {
    const c = this.calOf(h.hourStart);
    if (this.wanted('hour', h)) {
      const r = this.row(h, 'hour', h.hourStart, h.hourStart + HOUR_MS, c.label, h.acc, {});
      if (r) this.hourRows.push(r);
    }
    const seriesKey = `${h.scope}|${h.torg}|${h.scopeId}|${h.split}`;
    let series = this.bySeries.get(seriesKey);
    if (!series) {
      series = { day: new Map(), week: new Map(), month: new Map() };
      this.bySeries.set(seriesKey, series);
    }
    const withVisits = h.scope === 'torg' || h.scope === 'municipality';
    for (const [period, p] of c.periods) {
      let b = series[period].get(p.startMs);
      if (!b) {
        b = { base: h, period, start: p.startMs, end: p.endMs, label: p.label, acc: emptyAccumulator(withVisits), busiestHour: undefined, seriesDays: series.day };
        series[period].set(p.startMs, b);
        this.periods.push(b);
      }
      mergeInto(b.acc, h.acc);
      b.busiestHour = busier(b.busiestHour, c.label, h.hourStart, h.acc);
    }
  }

  /** Hour rows by start, then day, week and month rows. */
  rows(): MetricRow[] {
    const rows = [...this.hourRows].sort((a, b) => a.start - b.start);
    for (const b of this.periods) {
      if (!this.wanted(b.period, b.base)) continue;
      const extra: Partial<MetricRow> = {};
      if (b.period !== 'day') {
        let bd: Busiest | undefined;
        for (const d of b.seriesDays.values()) if (d.start >= b.start && d.start < b.end) bd = busier(bd, d.label, d.start, d.acc);
        if (bd) extra.busiestDay = bd.label;
      }
      if (b.busiestHour) extra.busiestHour = b.busiestHour.label;
      const r = this.row(b.base, b.period, b.start, b.end, b.label, b.acc, extra);
      if (r) rows.push(r);
    }
    return rows;
  }
}

/** Hour buckets → rows for hours, days, ISO weeks and months (RollUp over an array, hours in time order). */
export function rollUp(hours: readonly HourBucket[], options: Partial<MetricsOptions> = {}, zone = 'Europe/Oslo', wanted?: RowWanted): MetricRow[] {
  const r = new RollUp(options, zone, wanted);
  for (const h of [...hours].sort((a, b) => a.hourStart - b.hourStart)) r.add(h);
  return r.rows();
}

/** Convenience: hour buckets and rows with the rules they were computed under. */
export function computeMetrics(input: Parameters<typeof computeHourBuckets>[0]): MetricsResult {
  const hours = computeHourBuckets(input);
  return { from: input.fromMs, to: input.toMs, rules: rulesOf({ ...DEFAULT_METRICS_OPTIONS, ...input.options }), rows: rollUp(hours, input.options) };
}

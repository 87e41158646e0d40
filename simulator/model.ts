/**
 * A deterministic model of the people, rooms, air and sensors of each torg. Pure: the same torg,
 * seed and start time give the same readings, byte for byte. All randomness comes from one seeded
 * PRNG per torg (mulberry32); nothing reads the wall clock.
 *
 * What it models, and why the numbers are what they are:
 * - Walk-in visitors arrive as a Poisson process whose rate follows the weekday and the hour of
 *   day, scaled by the catchment population and lower in meråpent hours. Each visitor goes to one
 *   zone and stays an exponentially distributed time; nobody stays past the end of the open stretch
 *   (meråpent access control locks people out, not in, but the building is empty after closing).
 * - Meeting rooms get booked groups, the event space gets occasional evening events whose guests
 *   arrive in a burst before the start and leave together at the end.
 * - Entrance counters count every arrival in and every departure out on a random line of a random
 *   entrance, so the counts imply exactly the simulated occupancy. Running totals wrap at 2^16 (the
 *   VS133 rollover the ingest must handle; Milesight VS133 user guide, "cumulative count").
 * - CO2 follows the single-zone mass balance dC/dt = G·n/V − λ(C − C_out) (EN 16798-1 annex on
 *   ventilation rates; G ≈ 0.018 m³/h per sedentary adult), solved exactly per step.
 * - Faults: a dead sensor stops reporting for good; a drifting counter loses a share of its outs
 *   (the typical failure of line counters, which the occupancy calculation must correct).
 */
import { DateTime } from 'luxon';
import type { ReadingInput } from '../devices/contract/reading.schema.ts';
import type { ModuleType, Torg, Zone } from '../devices/torg/torg-config.schema.ts';
import { CalendarCache } from './calendar-cache.ts';

/** mulberry32: a 32-bit seeded PRNG, small and good enough for simulation (not for security). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a, to derive stable seeds and ids from strings. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Milesight's IEEE OUI; their LoRaWAN DevEUIs start with it. */
const MILESIGHT_OUI = '24e124';

/** A DevEUI-style id (16 lower-case hex digits) that depends only on the torg and the device's role. */
export function devEui(key: string): string {
  const a = hash32(key).toString(16).padStart(8, '0');
  const b = (hash32(`${key}#2`) & 0xff).toString(16).padStart(2, '0');
  return `${MILESIGHT_OUI}${a}${b}`;
}

export type SimRole = 'counter' | 'door' | 'presence' | 'climate';

export interface SimDevice {
  id: string;
  torg: string;
  role: SimRole;
  /** Device model id, as a gateway would know it. */
  model: string;
  power: 'battery' | 'mains';
  entrance?: string;
  lines?: string[];
  zone?: string;
  fault?: { type: 'dead'; fromMs: number } | { type: 'drift'; outLossRate: number };
}

export interface SimOptions {
  seed: number;
  /** First step ends at startMs + stepSeconds. */
  startMs: number;
  stepSeconds?: number;
  /** Probability per torg of one dead sensor and, separately, of one drifting counter. */
  faultRate?: number;
  /** Seconds between health readings of a device. */
  healthEverySeconds?: number;
}

export interface SimStep {
  torg: string;
  /** End of the step, ms; every reading of the step carries this time (door changes their own). */
  timeMs: number;
  readings: ReadingInput[];
}

interface Person {
  zone: string;
  leaveMs: number;
}

interface Planned {
  arriveMs: number;
  leaveMs: number;
  zone: string;
}

interface ZoneAir {
  co2: number;
  temperature: number;
  humidity: number;
}

const OUTDOOR_CO2_PPM = 400;
/** m³ CO2 per hour per sedentary adult (≈ 0.005 L/s). */
const CO2_PER_PERSON_M3H = 0.018;
const CEILING_M = 2.7;
const TOTAL_WRAP = 65_536;

/** Relative visit intensity by local hour (0–23): a late-morning peak and an evening tail. */
const HOUR_CURVE = [0, 0, 0, 0, 0, 0, 0, 0.3, 0.5, 0.8, 1.0, 1.2, 1.3, 1.2, 1.1, 1.0, 0.9, 0.9, 0.8, 0.6, 0.5, 0.4, 0.2, 0];
/** Relative visit intensity Monday..Sunday; the late staffed day is busier. */
const WEEKDAY_FACTOR = [1.0, 1.05, 1.0, 1.15, 0.85, 0.6, 0.45];
/** Visits per resident per ordinary weekday at the peak-hour rate. */
const VISITS_PER_RESIDENT_HOUR = 0.0012;
const MERAAPENT_FACTOR = 0.35;

const MEAN_DWELL_MIN: Record<ModuleType, number> = {
  innbyggerservice: 15,
  møterom: 60,
  arbeidsplasser: 120,
  arrangement: 90,
  bibliotek: 30,
  'meråpent-sone': 40,
};
/** Floor area per design seat, m², for the zone's air volume. */
const AREA_PER_SEAT_M2: Record<ModuleType, number> = {
  innbyggerservice: 5,
  møterom: 2.5,
  arbeidsplasser: 5,
  arrangement: 1.5,
  bibliotek: 6,
  'meråpent-sone': 5,
};

export function buildInventory(torg: Torg): SimDevice[] {
  const devices: SimDevice[] = [];
  for (const e of torg.entrances) {
    devices.push({ id: devEui(`${torg.id}/counter/${e.id}`), torg: torg.id, role: 'counter', model: 'milesight-vs133', power: 'mains', entrance: e.id, lines: [...e.lines] });
    devices.push({ id: devEui(`${torg.id}/door/${e.id}`), torg: torg.id, role: 'door', model: 'milesight-ws301', power: 'battery', entrance: e.id });
  }
  for (const z of torg.zones) {
    devices.push({ id: devEui(`${torg.id}/presence/${z.id}`), torg: torg.id, role: 'presence', model: 'milesight-vs121', power: 'mains', zone: z.id });
    devices.push({ id: devEui(`${torg.id}/climate/${z.id}`), torg: torg.id, role: 'climate', model: 'milesight-am319', power: 'battery', zone: z.id });
  }
  return devices;
}

export class TorgSimulator {
  readonly torg: Torg;
  readonly devices: SimDevice[];
  private readonly rng: () => number;
  private readonly calendar: CalendarCache;
  private readonly stepMs: number;
  private readonly healthEveryMs: number;
  private readonly startMs: number;
  private nowMs: number;
  private people: Person[] = [];
  private planned: Planned[] = [];
  private plannedDay = '';
  private readonly totals = new Map<string, { in: number; out: number }>();
  private readonly doors = new Map<string, { open: boolean; openings: number }>();
  private readonly air = new Map<string, ZoneAir>();
  private readonly health = new Map<string, { battery: number; perDay: number; rssi: number; snr: number; nextMs: number }>();
  private pressure = 1013;

  constructor(torg: Torg, options: SimOptions) {
    this.torg = torg;
    this.rng = mulberry32(hash32(`${options.seed}:${torg.id}`));
    this.stepMs = (options.stepSeconds ?? 60) * 1000;
    this.healthEveryMs = (options.healthEverySeconds ?? 3600) * 1000;
    this.startMs = options.startMs;
    this.nowMs = options.startMs;
    this.calendar = new CalendarCache(torg, options.startMs);
    this.devices = buildInventory(torg);
    const faultRate = options.faultRate ?? 0.3;
    if (this.rng() < faultRate) {
      const candidates = this.devices.filter((d) => d.role === 'climate' || d.role === 'presence');
      const victim = candidates[Math.floor(this.rng() * candidates.length)];
      if (victim) victim.fault = { type: 'dead', fromMs: options.startMs + Math.floor(this.rng() * 3 * 86_400_000) };
    }
    if (this.rng() < faultRate) {
      const counters = this.devices.filter((d) => d.role === 'counter');
      const victim = counters[Math.floor(this.rng() * counters.length)];
      if (victim) victim.fault = { type: 'drift', outLossRate: 0.02 + 0.06 * this.rng() };
    }
    for (const d of this.devices) {
      for (const line of d.lines ?? []) {
        // Installed counters have been counting for a while: start the totals anywhere in range.
        this.totals.set(`${d.id}/${line}`, { in: Math.floor(this.rng() * TOTAL_WRAP), out: Math.floor(this.rng() * TOTAL_WRAP) });
      }
      if (d.role === 'door') this.doors.set(d.id, { open: false, openings: Math.floor(this.rng() * 5000) });
      this.health.set(d.id, {
        battery: 60 + 40 * this.rng(),
        perDay: 0.03 + 0.12 * this.rng(),
        rssi: -75 - 40 * this.rng(),
        snr: 9 - 12 * this.rng(),
        nextMs: options.startMs + Math.floor(this.rng() * this.healthEveryMs),
      });
    }
    for (const z of torg.zones) {
      this.air.set(z.id, { co2: OUTDOOR_CO2_PPM + 20 * this.rng(), temperature: 19 + this.rng(), humidity: 30 + 10 * this.rng() });
    }
  }

  /** People inside now (ground truth, for tests and the demo). */
  get occupancy(): number {
    return this.people.length;
  }

  get timeMs(): number {
    return this.nowMs;
  }

  private poisson(lambda: number): number {
    // Knuth's method; lambda per step is small (< 30) here.
    if (lambda <= 0) return 0;
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.rng();
    while (p > limit) {
      k++;
      p *= this.rng();
    }
    return k;
  }

  private exp(mean: number): number {
    return -mean * Math.log(1 - this.rng());
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)] as T;
  }

  /** Meetings and events of one local day, decided when the simulation enters the day. */
  private planDay(local: DateTime): void {
    const zones = this.torg.zones;
    const isWeekend = local.weekday >= 6;
    for (const z of zones) {
      if (z.module === 'møterom') {
        const n = this.poisson(isWeekend ? 0.5 : 2.5);
        const taken: [number, number][] = [];
        for (let k = 0; k < n; k++) {
          const start = local.set({ hour: 8 + Math.floor(this.rng() * 12), minute: this.rng() < 0.5 ? 0 : 30 }).toMillis();
          const end = start + (this.rng() < 0.6 ? 60 : 90) * 60_000;
          if (taken.some(([a, b]) => start < b && end > a)) continue;
          taken.push([start, end]);
          this.planGroup(z, start, end, 2 + Math.floor(this.rng() * (z.capacity - 1)), 5);
        }
      } else if (z.module === 'arrangement') {
        if (this.rng() < (isWeekend ? 0.25 : 0.35)) {
          const start = local.set({ hour: isWeekend ? 12 : 18, minute: 0 }).toMillis();
          const size = Math.min(z.fireMax, Math.round(z.capacity * (0.3 + 0.6 * this.rng())));
          this.planGroup(z, start, start + 2 * 3_600_000, size, 20);
        }
      }
    }
    this.planned.sort((a, b) => a.arriveMs - b.arriveMs);
  }

  /** A group arriving in the `spreadMin` minutes before `start` and leaving within 10 min of `end`. */
  private planGroup(zone: Zone, start: number, end: number, size: number, spreadMin: number): void {
    const first = start - spreadMin * 60_000;
    // Bookings only happen when the torg is open for the whole slot.
    if (this.calendar.status(first) === 'closed') return;
    const until = this.calendar.openUntil(first);
    if (until === null || until < end + 10 * 60_000) return;
    for (let i = 0; i < size; i++) {
      this.planned.push({
        arriveMs: first + Math.floor(this.rng() * spreadMin * 60_000),
        leaveMs: end + Math.floor(this.rng() * 10 * 60_000),
        zone: zone.id,
      });
    }
  }

  private walkInZone(staffed: boolean): Zone {
    const choices = this.torg.zones.filter((z) => !z.bookable && (staffed || z.module !== 'innbyggerservice'));
    const pool = choices.length > 0 ? choices : this.torg.zones;
    const weights = pool.map((z) => z.capacity);
    let u = this.rng() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < pool.length; i++) {
      u -= weights[i]!;
      if (u < 0) return pool[i]!;
    }
    return pool[pool.length - 1]!;
  }

  private alive(d: SimDevice, ms: number): boolean {
    return !(d.fault?.type === 'dead' && ms >= d.fault.fromMs);
  }

  /** Advances one step and returns the readings of the devices for it. */
  step(): SimStep {
    const from = this.nowMs;
    const to = from + this.stepMs;
    this.nowMs = to;
    const local = DateTime.fromMillis(to, { zone: this.torg.timeZone });
    const day = local.toISODate()!;
    if (day !== this.plannedDay) {
      this.plannedDay = day;
      this.planDay(local.startOf('day'));
    }

    // Arrivals in (from, to]: booked groups, then walk-ins.
    const arrivals: Person[] = [];
    while (this.planned.length > 0 && this.planned[0]!.arriveMs <= to) {
      const p = this.planned.shift()!;
      if (p.arriveMs > from) arrivals.push({ zone: p.zone, leaveMs: p.leaveMs });
    }
    const status = this.calendar.status(from + this.stepMs / 2);
    if (status !== 'closed') {
      const rate =
        this.torg.population * VISITS_PER_RESIDENT_HOUR * HOUR_CURVE[local.hour]! * WEEKDAY_FACTOR[local.weekday - 1]! *
        (status === 'staffed' ? 1 : MERAAPENT_FACTOR);
      const n = this.poisson((rate * this.stepMs) / 3_600_000);
      for (let i = 0; i < n; i++) {
        const arriveMs = from + 1 + Math.floor(this.rng() * (this.stepMs - 1));
        const until = this.calendar.openUntil(arriveMs);
        if (until === null) continue;
        const zone = this.walkInZone(status === 'staffed');
        const dwell = Math.max(120_000, this.exp(MEAN_DWELL_MIN[zone.module] * 60_000));
        // Leave before the doors lock: the last person is out before the stretch ends.
        arrivals.push({ zone: zone.id, leaveMs: Math.max(arriveMs + 1, Math.min(arriveMs + dwell, until - 1000)) });
      }
    }
    const departures = this.people.filter((p) => p.leaveMs <= to);
    this.people = this.people.filter((p) => p.leaveMs > to).concat(arrivals.filter((p) => p.leaveMs > to));
    // Someone who arrives and leaves within the step crosses the line twice.
    departures.push(...arrivals.filter((p) => p.leaveMs <= to));

    const readings: ReadingInput[] = [];
    const time = new Date(to).toISOString();
    const period = new Map<string, { in: number; out: number }>();
    const counters = this.devices.filter((d) => d.role === 'counter');
    const crossings = new Map<string, number>();
    const cross = (dir: 'in' | 'out') => {
      const c = this.pick(counters);
      const key = `${c.id}/${this.pick(c.lines ?? ['main'])}`;
      crossings.set(c.entrance!, (crossings.get(c.entrance!) ?? 0) + 1);
      if (dir === 'out' && c.fault?.type === 'drift' && this.rng() < c.fault.outLossRate) return;
      const p = period.get(key) ?? { in: 0, out: 0 };
      p[dir]++;
      period.set(key, p);
    };
    for (let i = 0; i < arrivals.length; i++) cross('in');
    for (let i = 0; i < departures.length; i++) cross('out');

    for (const d of this.devices) {
      if (!this.alive(d, to)) continue;
      if (d.role === 'counter') {
        for (const line of d.lines ?? []) {
          const key = `${d.id}/${line}`;
          const p = period.get(key) ?? { in: 0, out: 0 };
          const total = this.totals.get(key)!;
          total.in = (total.in + p.in) % TOTAL_WRAP;
          total.out = (total.out + p.out) % TOTAL_WRAP;
          readings.push({ kind: 'counter', device: d.id, time, line, periodIn: p.in, periodOut: p.out, periodSeconds: this.stepMs / 1000, totalIn: total.in, totalOut: total.out });
        }
      } else if (d.role === 'door') {
        const door = this.doors.get(d.id)!;
        const open = (crossings.get(d.entrance!) ?? 0) > 0;
        if (open !== door.open) {
          door.open = open;
          if (open) door.openings++;
          // Door sensors report on change, at the moment of change, not on the step grid.
          const at = open ? from + Math.floor(this.rng() * this.stepMs) + 1 : to;
          readings.push({ kind: 'door', device: d.id, time: new Date(Math.min(at, to)).toISOString(), open, openings: door.openings });
        }
      }
    }

    const counts = new Map<string, number>();
    for (const p of this.people) counts.set(p.zone, (counts.get(p.zone) ?? 0) + 1);
    const open = status !== 'closed';
    this.pressure = Math.min(1050, Math.max(975, this.pressure + (this.rng() - 0.5) * 0.2));
    for (const z of this.torg.zones) {
      const n = counts.get(z.id) ?? 0;
      const air = this.air.get(z.id)!;
      const volume = z.capacity * AREA_PER_SEAT_M2[z.module] * CEILING_M;
      // Demand-controlled ventilation runs at full rate in opening hours, minimum rate at night.
      const ach = open ? 3 : 0.5;
      const steady = OUTDOOR_CO2_PPM + (CO2_PER_PERSON_M3H * n * 1e6) / (ach * volume);
      const decay = Math.exp((-ach * this.stepMs) / 3_600_000);
      air.co2 = steady + (air.co2 - steady) * decay;
      const targetT = (open ? 21.5 : 19.5) + Math.min(2, (n / z.capacity) * 1.5);
      air.temperature += (targetT - air.temperature) * (1 - Math.exp(-this.stepMs / 7_200_000)) + (this.rng() - 0.5) * 0.02;
      air.humidity = Math.min(60, Math.max(20, air.humidity + (this.rng() - 0.5) * 0.2 + (n > 0 ? 0.01 : -0.005)));
      for (const d of this.devices) {
        if (d.zone !== z.id || !this.alive(d, to)) continue;
        if (d.role === 'presence') readings.push({ kind: 'presence', device: d.id, time, occupied: n > 0, count: n });
        else if (d.role === 'climate') {
          readings.push({
            kind: 'climate',
            device: d.id,
            time,
            temperature: Math.round(air.temperature * 10) / 10,
            humidity: Math.round(air.humidity * 2) / 2,
            co2: Math.max(0, Math.round(air.co2 + (this.rng() - 0.5) * 10)),
            tvoc: Math.round(60 + 4 * n + 20 * this.rng()),
            pressure: Math.round(this.pressure * 10) / 10,
            illuminance: open ? Math.round(350 + 150 * this.rng()) : Math.round(3 * this.rng()),
          });
        }
      }
    }

    for (const d of this.devices) {
      const h = this.health.get(d.id)!;
      if (h.nextMs > to || !this.alive(d, to)) continue;
      h.nextMs += this.healthEveryMs;
      const days = (to - this.startMs) / 86_400_000;
      readings.push({
        kind: 'health',
        device: d.id,
        time,
        ...(d.power === 'battery' ? { battery: Math.max(0, Math.round((h.battery - h.perDay * days) * 10) / 10) } : {}),
        rssi: Math.round(h.rssi + (this.rng() - 0.5) * 6),
        snr: Math.round((h.snr + (this.rng() - 0.5) * 3) * 10) / 10,
      });
    }
    return { torg: this.torg.id, timeMs: to, readings };
  }

}

/** Steps every torg from `startMs` until `endMs`, yielding one step per torg per step time. */
export function* simulateRange(
  torgs: readonly Torg[],
  options: SimOptions & { endMs: number },
): Generator<SimStep> {
  const sims = torgs.map((t) => new TorgSimulator(t, options));
  const stepMs = (options.stepSeconds ?? 60) * 1000;
  for (let t = options.startMs + stepMs; t <= options.endMs; t += stepMs) {
    for (const s of sims) yield s.step();
  }
}

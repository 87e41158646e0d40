/**
 * The live state of every torg (issue 5 "Live state"), built from validated readings.
 *
 * Pure and clock-injected: readings come in with their torg (from the topic) and their time in ms;
 * `now` is passed to every query, so a test walks a value across its stale threshold exactly. No
 * subscription, no storage: live-service.ts feeds it from MQTT and from InfluxDB at start.
 *
 * Honesty (live.schema.ts): every value carries `at` (its observation time) and `fresh`. A value is
 * fresh only while its device is online AND the value itself is younger than the device's stale
 * threshold (ingest/liveness/liveness.ts deviceThresholds). Unknown is null, never 0.
 */
import { DateTime } from 'luxon';
import type { Reading } from '../../devices/contract/reading.schema.ts';
import { localDay, openingStatus } from '../../devices/torg/opening-hours.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { deviceThresholds, type DeviceClass, type LivenessState } from '../../ingest/liveness/liveness.ts';
import type { Place } from '../../ingest/registry/registry.ts';
import { TorgOccupancy, type OccupancySnapshot } from '../occupancy/torg-occupancy.ts';
import type { z } from 'zod';
import { co2Band, type liveAlertSchema, type LiveOverview, type TorgLive } from './live.schema.ts';

export type LiveAlert = z.infer<typeof liveAlertSchema>;

/** What the live state needs to know about a device; the lead adapts the registry to it. */
export interface PlaceInfo {
  torg: string;
  place: Place | null;
  status: 'pending' | 'active' | 'decommissioned';
  model: string | null;
  deviceClass: DeviceClass;
  expectedIntervalS: number | null;
}
export type PlaceLookup = (device: string) => PlaceInfo | undefined;

/** The control plane's LivenessTracker satisfies this; `undefined` = the tracker does not know the device. */
export interface LivenessView {
  deviceState(device: string, now: number): LivenessState | undefined;
  lastSeen?(device: string): number | null;
}

export interface AlertsView {
  activeAlerts(): LiveAlert[];
}

/** Points of the small chart: one per 5-minute bucket, the last value seen in it. */
export const SERIES_BUCKET_MS = 5 * 60_000;

function thresholdsOf(info: PlaceInfo | undefined): { staleAfterMs: number; offlineAfterMs: number } {
  return deviceThresholds(info?.deviceClass ?? 'battery', info?.expectedIntervalS != null ? info.expectedIntervalS * 1000 : undefined);
}

/**
 * Liveness derived from reading times alone, with the class/interval thresholds of the control
 * plane's tracker, so the live state works without the control plane (e.g. a dev stack).
 */
export class ReadingTimeLiveness implements LivenessView {
  private readonly lastSeenMs = new Map<string, number>();
  constructor(private readonly places: PlaceLookup) {}
  seen(device: string, atMs: number): void {
    const prev = this.lastSeenMs.get(device);
    if (prev === undefined || atMs > prev) this.lastSeenMs.set(device, atMs);
  }
  lastSeen(device: string): number | null {
    return this.lastSeenMs.get(device) ?? null;
  }
  deviceState(device: string, now: number): LivenessState | undefined {
    const at = this.lastSeenMs.get(device);
    if (at === undefined) return 'never_seen';
    const t = thresholdsOf(this.places(device));
    const silent = now - at;
    return silent >= t.offlineAfterMs ? 'offline' : silent >= t.staleAfterMs ? 'stale' : 'online';
  }
}

interface Observed<T> {
  value: T;
  at: number;
}

interface PresenceState {
  occupied: boolean;
  count: number | null;
  at: number;
  /** The earliest reading of the current run of `occupied`: the change happened at or before it. */
  since: number;
}

interface DoorState {
  open: boolean | null;
  at: number;
  since: number;
}

interface ClimateState {
  temperature: Observed<number> | null;
  humidity: Observed<number> | null;
  co2: Observed<number> | null;
  at: number;
}

interface TorgEntry {
  torg: Torg;
  occupancy: TorgOccupancy;
  lastCounterAt: number | null;
  series: Map<number, number>;
  seriesDay: string;
  devices: Set<string>;
}

export interface LiveStateOptions {
  torgs: readonly Torg[];
  places: PlaceLookup;
  /** The control plane's tracker; devices it does not know fall back to reading times. */
  liveness?: LivenessView;
  alerts?: AlertsView;
  now: () => number;
  /** Devices registered to a torg, asked on every query (so a device that never reported shows as never_seen). */
  devicesOf?: (torg: string) => readonly string[];
  /** Bound of the counter de-duplication set (readings seen both in InfluxDB and live); default 200 000. */
  dedupeLimit?: number;
}

export interface LiveStateStats {
  applied: number;
  /** Counter readings seen twice (rebuild + live, or a redelivery): counted once. */
  duplicates: number;
  /** Readings of unknown/decommissioned devices or of a device that belongs to another torg. */
  ignored: number;
  /** Older de-duplication keys forgotten because the set was full. */
  dedupeEvicted: number;
  /** Presence/door/climate/health readings older than the value already held. */
  outOfOrder: number;
}

function placeLabel(p: Place | null): string | null {
  if (p === null) return null;
  return p.type === 'zone' ? p.zone : `${p.entrance}/${p.line}`;
}

/**
 * TorgOccupancy treats every closing before its construction as done and counts deltas at or before
 * that instant as visits only (torg-occupancy.ts). The live state is rebuilt from today's counters
 * after it is constructed, so the model must start at the beginning of the Oslo day: yesterday's
 * closing is then done and today's deltas count toward occupancy.
 */
function startOfDayOccupancy(torg: Torg, now: () => number): TorgOccupancy {
  let constructing = true;
  const occupancy = new TorgOccupancy({ torg, now: () => (constructing ? localDay(now(), torg.timeZone).startMs : now()) });
  constructing = false;
  return occupancy;
}

export class LiveState {
  private readonly torgs = new Map<string, TorgEntry>();
  private readonly fallback: ReadingTimeLiveness;
  private readonly presence = new Map<string, PresenceState>();
  private readonly doors = new Map<string, DoorState>();
  private readonly climate = new Map<string, ClimateState>();
  private readonly battery = new Map<string, Observed<number>>();
  private readonly counterKeys = new Map<string, true>();
  private readonly dedupeLimit: number;
  readonly stats: LiveStateStats = { applied: 0, duplicates: 0, ignored: 0, dedupeEvicted: 0, outOfOrder: 0 };

  constructor(private readonly opts: LiveStateOptions) {
    this.fallback = new ReadingTimeLiveness(opts.places);
    this.dedupeLimit = opts.dedupeLimit ?? 200_000;
    for (const torg of opts.torgs) {
      this.torgs.set(torg.id, {
        torg,
        occupancy: startOfDayOccupancy(torg, opts.now),
        lastCounterAt: null,
        series: new Map(),
        seriesDay: '',
        devices: new Set(),
      });
    }
  }

  torgIds(): string[] {
    return [...this.torgs.keys()];
  }

  /**
   * Applies one validated reading. Returns the torg whose state changed, or null when the reading
   * was ignored (unknown or decommissioned device, wrong torg, duplicate, older than the value held).
   */
  apply(torgId: string, reading: Reading, timeMs: number): string | null {
    const entry = this.torgs.get(torgId);
    const info = this.opts.places(reading.device);
    // The ingest dead-letters these (E_DEVICE_UNKNOWN / _DECOMMISSIONED / _SPOOFED); the live state
    // must not show what the stored data will never contain.
    if (!entry || !info || info.status === 'decommissioned' || info.torg !== torgId) {
      this.stats.ignored++;
      return null;
    }
    entry.devices.add(reading.device);
    this.fallback.seen(reading.device, timeMs);
    this.stats.applied++;
    switch (reading.kind) {
      case 'counter':
        this.applyCounter(entry, info, reading, timeMs);
        break;
      case 'presence': {
        const prev = this.presence.get(reading.device);
        if (prev && timeMs < prev.at) {
          this.stats.outOfOrder++;
          break;
        }
        const count = reading.count ?? null;
        const since = prev && prev.occupied === reading.occupied ? prev.since : timeMs;
        this.presence.set(reading.device, { occupied: reading.occupied, count, at: timeMs, since });
        break;
      }
      case 'door': {
        const prev = this.doors.get(reading.device);
        if (prev && timeMs < prev.at) {
          this.stats.outOfOrder++;
          break;
        }
        const open = reading.open ?? prev?.open ?? null;
        const since = prev && prev.open === open ? prev.since : timeMs;
        this.doors.set(reading.device, { open, at: timeMs, since });
        break;
      }
      case 'climate': {
        const prev = this.climate.get(reading.device) ?? { temperature: null, humidity: null, co2: null, at: 0 };
        // Per field: a sensor may send CO2 and temperature in separate uplinks.
        const pick = (v: number | undefined, old: Observed<number> | null) => (v !== undefined && (old === null || timeMs >= old.at) ? { value: v, at: timeMs } : old);
        this.climate.set(reading.device, {
          temperature: pick(reading.temperature, prev.temperature),
          humidity: pick(reading.humidity, prev.humidity),
          co2: pick(reading.co2, prev.co2),
          at: Math.max(prev.at, timeMs),
        });
        break;
      }
      case 'health': {
        const prev = this.battery.get(reading.device);
        if (reading.battery !== undefined && (!prev || timeMs >= prev.at)) this.battery.set(reading.device, { value: reading.battery, at: timeMs });
        break;
      }
    }
    return torgId;
  }

  private applyCounter(entry: TorgEntry, info: PlaceInfo, r: Extract<Reading, { kind: 'counter' }>, timeMs: number): void {
    // A counter counts only where it is installed: pending devices (no place) are shown under
    // device health and not counted (issue 4: pending data stays out of indicators).
    if (info.status !== 'active' || info.place?.type !== 'entrance') return;
    const key = `${r.device}|${r.line}|${timeMs}`;
    // InfluxDB identifies a counter point by (device, line, time) (influx-layout.ts); the same key
    // here makes a reading seen in both the rebuild and the live stream count once.
    if (this.counterKeys.has(key)) {
      this.stats.duplicates++;
      return;
    }
    this.counterKeys.set(key, true);
    if (this.counterKeys.size > this.dedupeLimit) {
      const oldest = this.counterKeys.keys().next().value;
      if (oldest !== undefined) this.counterKeys.delete(oldest);
      this.stats.dedupeEvicted++;
    }
    // Period counts only: totals are the device's running counters since its last reset, and the
    // simulator and the supported counters (Milesight VS133) send the period counts beside them.
    if (r.periodIn === undefined && r.periodOut === undefined) return;
    // A closing that passed before this count must be reset first, whether the periodic tick has
    // run yet (live) or not at all (rebuild after closing). A count ending exactly at the closing
    // still belongs before the reset, as in the metrics engine's replay (metrics-engine.ts).
    const reset = entry.occupancy.tick(timeMs - 1);
    if (reset !== null) this.recordSeries(entry, reset.at);
    entry.occupancy.apply({ at: timeMs, device: r.device, entrance: info.place.entrance, line: r.line, in: r.periodIn ?? 0, out: r.periodOut ?? 0 });
    entry.lastCounterAt = Math.max(entry.lastCounterAt ?? 0, timeMs);
    this.recordSeries(entry, timeMs);
  }

  private recordSeries(entry: TorgEntry, atMs: number): void {
    const snap = entry.occupancy.snapshot();
    if (snap.day !== entry.seriesDay) {
      entry.series.clear();
      entry.seriesDay = snap.day;
    }
    entry.series.set(Math.floor(atMs / SERIES_BUCKET_MS) * SERIES_BUCKET_MS, snap.occupancy);
  }

  /**
   * Advances every torg's occupancy to `now` (reset at closing, day change). Returns the torg whose
   * state changed. Call on a timer (live-service.ts) and before building a response.
   */
  tick(now: number): string[] {
    const changed: string[] = [];
    for (const [id, entry] of this.torgs) {
      const before = entry.occupancy.snapshot();
      const correction = entry.occupancy.tick(now);
      const after = entry.occupancy.snapshot();
      if (correction !== null) this.recordSeries(entry, correction.at);
      if (correction !== null || after.day !== before.day || after.occupancy !== before.occupancy) changed.push(id);
    }
    return changed;
  }

  private livenessOf(device: string, now: number): LivenessState {
    return this.opts.liveness?.deviceState(device, now) ?? this.fallback.deviceState(device, now) ?? 'never_seen';
  }

  private lastSeenOf(device: string): number | null {
    return this.opts.liveness?.lastSeen?.(device) ?? this.fallback.lastSeen(device);
  }

  /** A value is fresh while its device is online and the value is younger than the stale threshold. */
  private fresh(device: string, at: number, now: number): boolean {
    return this.livenessOf(device, now) === 'online' && now - at < thresholdsOf(this.opts.places(device)).staleAfterMs;
  }

  torg(id: string, now: number = this.opts.now()): TorgLive | undefined {
    const entry = this.torgs.get(id);
    if (!entry) return undefined;
    const { torg } = entry;
    const snap: OccupancySnapshot = entry.occupancy.snapshot();
    const today = DateTime.fromMillis(now, { zone: torg.timeZone }).toISODate();
    const countedToday = entry.lastCounterAt !== null && DateTime.fromMillis(entry.lastCounterAt, { zone: torg.timeZone }).toISODate() === today && snap.day === today;

    // A device reassigned to another torg (or gone from the registry) keeps its entries here; it
    // belongs to the torg the registry says now, so it neither shows nor counts under this one.
    const devices = [...new Set([...entry.devices, ...(this.opts.devicesOf?.(id) ?? [])])].filter((d) => this.opts.places(d)?.torg === id).sort();
    const infoOf = new Map(devices.map((d) => [d, this.opts.places(d)] as const));
    const counterDevices = devices.filter((d) => {
      const i = infoOf.get(d);
      return i?.status === 'active' && i.place?.type === 'entrance';
    });
    // Occupancy is in − out summed over every line: one silent counter makes the total wrong, so
    // it is fresh only while every counter of the torg is.
    const countersFresh =
      countedToday &&
      counterDevices.length > 0 &&
      counterDevices.every((d) => this.livenessOf(d, now) === 'online') &&
      now - entry.lastCounterAt! < Math.min(...counterDevices.map((d) => thresholdsOf(infoOf.get(d)).staleAfterMs));

    const lines: TorgLive['occupancy']['lines'] = [];
    for (const e of torg.entrances) {
      for (const line of e.lines) {
        const c = countedToday ? (snap.byLine[`${e.id}/${line}`] ?? { in: 0, out: 0 }) : { in: 0, out: 0 };
        lines.push({ entrance: e.id, line, in: c.in, out: c.out, share: countedToday && snap.visitsToday > 0 ? c.in / snap.visitsToday : null });
      }
    }
    // A line the device reports but the torg config does not list still counts; it is shown too,
    // so the shares add up to the visits.
    if (countedToday) {
      for (const [key, c] of Object.entries(snap.byLine)) {
        const slash = key.indexOf('/');
        const entrance = key.slice(0, slash);
        const line = key.slice(slash + 1);
        if (lines.some((l) => l.entrance === entrance && l.line === line)) continue;
        lines.push({ entrance, line, in: c.in, out: c.out, share: snap.visitsToday > 0 ? c.in / snap.visitsToday : null });
      }
    }

    const zoneDevices = (zone: string, map: Map<string, unknown>) =>
      devices.filter((d) => {
        const i = infoOf.get(d);
        return i?.status === 'active' && i.place?.type === 'zone' && i.place.zone === zone && map.has(d);
      });

    const zones: TorgLive['zones'] = torg.zones.map((z) => {
      const pres = zoneDevices(z.id, this.presence).map((d) => ({ d, s: this.presence.get(d)! }));
      const freshPres = pres.filter((p) => this.fresh(p.d, p.s.at, now));
      const presAt = pres.length ? Math.max(...pres.map((p) => p.s.at)) : null;
      let occupied: boolean | null = null;
      let count: number | null = null;
      let since: number | null = null;
      if (freshPres.length > 0 && freshPres.length === pres.length) {
        occupied = freshPres.some((p) => p.s.occupied);
        // Occupied since the first sensor saw people; free since the last one stopped seeing them.
        since = occupied ? Math.min(...freshPres.filter((p) => p.s.occupied).map((p) => p.s.since)) : Math.max(...freshPres.map((p) => p.s.since));
        count = freshPres.every((p) => p.s.count !== null) ? freshPres.reduce((n, p) => n + p.s.count!, 0) : null;
      }
      const clim = zoneDevices(z.id, this.climate).map((d) => ({ d, s: this.climate.get(d)! }));
      let climate: TorgLive['zones'][number]['climate'] = null;
      if (clim.length > 0) {
        const latest = (f: 'temperature' | 'humidity' | 'co2') => {
          let best: (Observed<number> & { d: string }) | null = null;
          for (const c of clim) {
            const o = c.s[f];
            if (o && (!best || o.at > best.at)) best = { ...o, d: c.d };
          }
          return best;
        };
        const t = latest('temperature');
        const h = latest('humidity');
        const co2 = latest('co2');
        const parts = [t, h, co2].filter((x): x is Observed<number> & { d: string } => x !== null);
        climate = {
          temperature: t?.value ?? null,
          humidity: h?.value ?? null,
          co2: co2?.value ?? null,
          co2Band: co2 ? co2Band(co2.value) : null,
          at: parts.length ? Math.max(...parts.map((p) => p.at)) : null,
          fresh: parts.length > 0 && parts.every((p) => this.fresh(p.d, p.at, now)),
        };
      }
      return {
        id: z.id,
        name: z.name,
        module: z.module,
        capacity: z.capacity,
        fireMax: z.fireMax,
        occupied,
        count,
        since,
        climate,
        at: presAt,
        fresh: pres.length > 0 && freshPres.length === pres.length,
      };
    });

    const doors: TorgLive['doors'] = devices
      .filter((d) => this.doors.has(d) && infoOf.get(d)?.status === 'active')
      .map((d) => {
        const s = this.doors.get(d)!;
        const p = infoOf.get(d)!.place;
        const name = p?.type === 'zone' ? (torg.zones.find((z) => z.id === p.zone)?.name ?? p.zone) : p?.type === 'entrance' ? (torg.entrances.find((e) => e.id === p.entrance)?.name ?? p.entrance) : d;
        // Door contacts report on change (and a heartbeat), not periodically: the state holds while
        // the device is online, so only its liveness decides freshness, not the age of the state.
        return { device: d, zone: p?.type === 'zone' ? p.zone : null, name, open: s.open, since: s.since, at: s.at, fresh: this.livenessOf(d, now) === 'online' };
      });

    const health: TorgLive['devices'] = devices
      .filter((d) => infoOf.get(d)?.status !== 'decommissioned')
      .map((d) => {
        const i = infoOf.get(d);
        const b = this.battery.get(d);
        return {
          device: d,
          model: i?.model ?? null,
          place: placeLabel(i?.place ?? null),
          state: this.livenessOf(d, now),
          lastSeenAt: this.lastSeenOf(d),
          battery: i?.deviceClass === 'mains' ? null : (b?.value ?? null),
        };
      });

    const series = countedToday ? [...entry.series.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => [t, v] as [number, number]) : [];

    return {
      id: torg.id,
      name: torg.name,
      openingStatus: openingStatus(torg, now),
      occupancy: {
        people: countedToday ? snap.occupancy : null,
        capacity: torg.capacity,
        visitsToday: countedToday ? snap.visitsToday : 0,
        lines,
        driftToday: snap.driftToday.map((c) => ({ at: c.at, cause: c.cause, size: c.size })),
        series,
        at: entry.lastCounterAt,
        fresh: countersFresh,
      },
      zones,
      doors,
      devices: health,
      alerts: (this.opts.alerts?.activeAlerts() ?? []).filter((a) => a.torg === torg.id),
    };
  }

  overview(now: number = this.opts.now()): LiveOverview {
    return { generatedAt: now, torg: this.torgIds().map((id) => this.torg(id, now)!) };
  }
}

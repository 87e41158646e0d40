/**
 * Liveness of devices and gateways: online, stale, offline or never seen (issue 4, "Liveness").
 *
 * Pure and in memory: it is told what was seen and when (ms since epoch, from the caller's injected
 * clock) and answers for any instant, so a test can walk a device across its thresholds exactly. It
 * does not subscribe, store or alert; the ingest feeds it, the metrics and the alert engine read the
 * transitions that `evaluate(now)` returns.
 *
 * States are an enum, never a number: a stale device has no current value, and reading it as 0 would
 * show an empty room where we simply do not know (issue 4: "Stale is a state, not a zero").
 */
import { z } from 'zod';
import type { DeviceClass } from '../../devices/contract/device-messages.schema.ts';
import { slugSchema } from '../../devices/contract/reading.schema.ts';
import { openingStatus } from '../../devices/torg/opening-hours.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';

export const LIVENESS_STATES = ['never_seen', 'online', 'stale', 'offline'] as const;
export type LivenessState = (typeof LIVENESS_STATES)[number];
export type { DeviceClass };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Offline after this much silence when the device's reporting interval is unknown (issue 4 defaults).
 * Mains devices report every few minutes; 25 h for battery devices covers the once-a-day heartbeat
 * many LoRaWAN battery sensors fall back to, plus an hour of slack.
 */
export const CLASS_OFFLINE_AFTER_MS: Readonly<Record<DeviceClass, number>> = { mains: 10 * MINUTE, battery: 25 * HOUR };

/**
 * Without a known interval a device is stale at half its class timeout: long enough that one lost
 * uplink does not flap it, early enough that the live page marks its value as old well before the
 * alert threshold.
 */
export const CLASS_STALE_FRACTION = 0.5;

/**
 * With an expected reporting interval I:
 *   stale   after 2.5 × I: two consecutive uplinks are missing plus half an interval of jitter. Sensors
 *           send LoRaWAN "unconfirmed data up" frames, which nobody acknowledges or retransmits
 *           (LoRaWAN 1.0.3 spec, MAC message types), so losing one to a collision is ordinary; losing
 *           two in a row is the first real sign.
 *   offline after max(class default, 3 × I): never earlier than the class default, so a fast-reporting
 *           battery sensor is not declared dead after minutes, and for a slow reporter no earlier than
 *           three missed reports.
 * Since 2.5 × I < 3 × I ≤ offline, stale always comes strictly before offline.
 */
export const INTERVAL_STALE_FACTOR = 2.5;
export const INTERVAL_OFFLINE_FACTOR = 3;

export interface Thresholds {
  staleAfterMs: number;
  offlineAfterMs: number;
}

export function deviceThresholds(deviceClass: DeviceClass, expectedIntervalMs?: number): Thresholds {
  const classOffline = CLASS_OFFLINE_AFTER_MS[deviceClass];
  if (expectedIntervalMs === undefined) return { staleAfterMs: classOffline * CLASS_STALE_FRACTION, offlineAfterMs: classOffline };
  return {
    staleAfterMs: INTERVAL_STALE_FACTOR * expectedIntervalMs,
    offlineAfterMs: Math.max(classOffline, INTERVAL_OFFLINE_FACTOR * expectedIntervalMs),
  };
}

/** State after `elapsedMs` of silence; each threshold is reached at exactly its value. */
function stateAfter(elapsedMs: number, t: Thresholds): LivenessState {
  if (elapsedMs >= t.offlineAfterMs) return 'offline';
  if (elapsedMs >= t.staleAfterMs) return 'stale';
  return 'online';
}

export const deviceSpecSchema = z
  .object({
    device: z.string().min(1).max(128),
    torg: slugSchema,
    deviceClass: z.enum(['mains', 'battery']),
    /** Expected reporting interval from the registry; overrides the class thresholds (rule above). */
    expectedIntervalMs: z.number().int().positive().optional(),
  })
  .strict();
export type DeviceSpec = z.infer<typeof deviceSpecSchema>;

/**
 * The gateway's retained `itorg/v1/{torg}/{gateway}/state` payload: the birth `{online:true, bdSeq,
 * startedAt}` or the last will / clean death `{online:false, bdSeq}` (gateway/uplink/mqtt-uplink.ts).
 */
export const gatewayStatePayloadSchema = z.object({
  online: z.boolean(),
  bdSeq: z.number().int().nonnegative(),
});
export type GatewayStatePayload = z.infer<typeof gatewayStatePayloadSchema>;

export interface LivenessOptions {
  /**
   * A gateway whose session is up (birth) but from which no reading has arrived for this long is
   * stale: connected, yet its sources deliver nothing. Default: the mains offline timeout, since
   * every torg has mains-powered counters reporting every few minutes.
   */
  gatewaySilentAfterMs?: number;
}

export interface Transition {
  kind: 'device' | 'gateway';
  /** Device id, or the gateway id for a gateway. */
  id: string;
  torg: string;
  from: LivenessState;
  to: LivenessState;
  /** The instant of the evaluation that saw the change. */
  at: number;
}

/** What `gatewayState` did with a state message, for logs and metrics. */
export type StateMessageOutcome = 'birth' | 'death' | 'late_death_ignored' | 'invalid';

interface DeviceEntry {
  spec: DeviceSpec;
  thresholds: Thresholds;
  lastSeenMs?: number;
}

interface GatewayEntry {
  torg: string;
  gateway: string;
  /** bdSeq of the newest birth, and when it arrived. */
  birth?: { bdSeq: number; atMs: number };
  /** The current session is dead (a death not older than the newest birth). */
  dead: boolean;
  lastReadingMs?: number;
}

const gatewayKey = (torg: string, gateway: string): string => `${torg}/${gateway}`;

export class LivenessTracker {
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly gateways = new Map<string, GatewayEntry>();
  /** States as of the last `evaluate`, keyed `device:<id>` / `gateway:<torg>/<gw>`. */
  private readonly reported = new Map<string, LivenessState>();
  private readonly gatewaySilentAfterMs: number;
  /** Sightings of devices that were never registered; the registry, not liveness, decides about them. */
  unknownDeviceSightings = 0;

  constructor(opts: LivenessOptions = {}) {
    this.gatewaySilentAfterMs = opts.gatewaySilentAfterMs ?? CLASS_OFFLINE_AFTER_MS.mains;
  }

  /** Registers or updates a device (class or interval changed in the registry); keeps its last-seen. */
  upsertDevice(input: DeviceSpec): void {
    const spec = deviceSpecSchema.parse(input);
    const previous = this.devices.get(spec.device);
    this.devices.set(spec.device, {
      spec,
      thresholds: deviceThresholds(spec.deviceClass, spec.expectedIntervalMs),
      ...(previous?.lastSeenMs !== undefined ? { lastSeenMs: previous.lastSeenMs } : {}),
    });
  }

  /** A decommissioned device leaves liveness entirely (no alerts for a device taken down on purpose). */
  removeDevice(device: string): void {
    this.devices.delete(device);
    this.reported.delete(`device:${device}`);
  }

  /**
   * A reading of `device` observed at `observedMs`, received now (`nowMs`). Last-seen is the
   * observation time: a backlog a gateway drains after a network outage proves the device was alive
   * then, not now. It is capped at `nowMs` (a sensor clock ahead must not keep a device online in
   * advance) and never moves backwards (readings arrive out of order across a replay).
   */
  deviceSeen(device: string, observedMs: number, nowMs: number): boolean {
    const entry = this.devices.get(device);
    if (!entry) {
      this.unknownDeviceSightings++;
      return false;
    }
    const at = Math.min(observedMs, nowMs);
    if (entry.lastSeenMs === undefined || at > entry.lastSeenMs) entry.lastSeenMs = at;
    return true;
  }

  /** Observation time of the device's newest reading, undefined when never seen or not tracked. */
  deviceLastSeen(device: string): number | undefined {
    return this.devices.get(device)?.lastSeenMs;
  }

  /** Newest of the gateway's current birth and its last reading; undefined when nothing arrived. */
  gatewayLastSeen(torg: string, gateway: string): number | undefined {
    const entry = this.gateways.get(gatewayKey(torg, gateway));
    if (!entry) return undefined;
    const last = Math.max(entry.birth?.atMs ?? -Infinity, entry.lastReadingMs ?? -Infinity);
    return last === -Infinity ? undefined : last;
  }

  deviceState(device: string, nowMs: number): LivenessState | undefined {
    const entry = this.devices.get(device);
    if (!entry) return undefined;
    if (entry.lastSeenMs === undefined) return 'never_seen';
    return stateAfter(Math.max(0, nowMs - entry.lastSeenMs), entry.thresholds);
  }

  private gatewayEntry(torg: string, gateway: string): GatewayEntry {
    const key = gatewayKey(torg, gateway);
    let entry = this.gateways.get(key);
    if (!entry) {
      entry = { torg, gateway, dead: false };
      this.gateways.set(key, entry);
    }
    return entry;
  }

  /**
   * A message on the gateway's state topic, received at `nowMs`. Sparkplug B matches a death to the
   * session it ends by bdSeq (Eclipse Sparkplug 3.0, the bdSeq metric of
   * NBIRTH/NDEATH):
   * a restarting gateway connects with a new bdSeq before the broker has noticed the old connection
   * is gone, and the old will then arrives after the new birth. The gateway's bdSeq never repeats
   * (gateway/uplink/durable-counter.ts), so a death older than the newest birth belongs to a past
   * session and is ignored. A death at least as new as the birth ends the session; one newer than any
   * birth we saw is a session whose birth we missed, and it is dead too. A retained birth delivered on
   * subscribe is treated as current: the broker would hold the will instead if the session had ended.
   */
  gatewayState(torg: string, gateway: string, payload: unknown, nowMs: number): StateMessageOutcome {
    const parsed = gatewayStatePayloadSchema.safeParse(payload);
    if (!parsed.success) return 'invalid';
    const { online, bdSeq } = parsed.data;
    const entry = this.gatewayEntry(torg, gateway);
    if (online) {
      // The newest birth wins even with a lower bdSeq: a gateway whose disk was replaced starts its
      // counter again, and refusing its births would keep it offline for ever.
      entry.birth = { bdSeq, atMs: nowMs };
      entry.dead = false;
      return 'birth';
    }
    if (entry.birth !== undefined && bdSeq < entry.birth.bdSeq) return 'late_death_ignored';
    entry.dead = true;
    return 'death';
  }

  /** A reading envelope arrived from the gateway (its own liveness, separate from its devices'). */
  gatewaySeen(torg: string, gateway: string, nowMs: number): void {
    const entry = this.gatewayEntry(torg, gateway);
    if (entry.lastReadingMs === undefined || nowMs > entry.lastReadingMs) entry.lastReadingMs = nowMs;
  }

  /**
   * A gateway is offline when its current session died; online while its session is up and it
   * delivered a reading (or its birth) within `gatewaySilentAfterMs`, stale beyond that. A gateway
   * that never published a state message (an older gateway) is judged on its readings alone, with the
   * mains thresholds.
   */
  gatewayLiveness(torg: string, gateway: string, nowMs: number): LivenessState | undefined {
    const entry = this.gateways.get(gatewayKey(torg, gateway));
    if (!entry) return undefined;
    if (entry.dead) return 'offline';
    const lastMs = Math.max(entry.birth?.atMs ?? -Infinity, entry.lastReadingMs ?? -Infinity);
    if (lastMs === -Infinity) return 'never_seen';
    const elapsed = Math.max(0, nowMs - lastMs);
    if (entry.birth !== undefined) return elapsed >= this.gatewaySilentAfterMs ? 'stale' : 'online';
    return stateAfter(elapsed, deviceThresholds('mains'));
  }

  /** Registers a gateway before anything arrives from it, so "never seen" can be reported. */
  addGateway(torg: string, gateway: string): void {
    this.gatewayEntry(slugSchema.parse(torg), slugSchema.parse(gateway));
  }

  /** Every known device and gateway with its state at `nowMs` (for gauges and the API). */
  snapshot(nowMs: number): { devices: { device: string; torg: string; state: LivenessState }[]; gateways: { torg: string; gateway: string; state: LivenessState }[] } {
    return {
      devices: [...this.devices.values()].map((e) => ({ device: e.spec.device, torg: e.spec.torg, state: this.deviceState(e.spec.device, nowMs)! })),
      gateways: [...this.gateways.values()].map((e) => ({ torg: e.torg, gateway: e.gateway, state: this.gatewayLiveness(e.torg, e.gateway, nowMs)! })),
    };
  }

  /**
   * The state changes since the previous call. A device or gateway not yet reported counts as having
   * been `never_seen`, so one that is already online on the first evaluation yields a transition
   * (the alert engine sees it come up) and one never heard from yields none.
   */
  evaluate(nowMs: number): Transition[] {
    const out: Transition[] = [];
    const note = (key: string, kind: Transition['kind'], id: string, torg: string, to: LivenessState): void => {
      const from = this.reported.get(key) ?? 'never_seen';
      if (from !== to) out.push({ kind, id, torg, from, to, at: nowMs });
      this.reported.set(key, to);
    };
    const snap = this.snapshot(nowMs);
    for (const d of snap.devices) note(`device:${d.device}`, 'device', d.device, d.torg, d.state);
    for (const g of snap.gateways) note(`gateway:${gatewayKey(g.torg, g.gateway)}`, 'gateway', g.gateway, g.torg, g.state);
    return out;
  }
}

/**
 * Whether the torg is open at `instantMs` (staffed or meråpent), from its calendar in Europe/Oslo,
 * holidays and exceptions included. Meråpent hours count: the torg is in public use and a dead
 * counter loses visits that the effect indicators need.
 */
export function inOpeningHours(torg: Torg, instantMs: number): boolean {
  return openingStatus(torg, instantMs) !== 'closed';
}

/** An offline alert matters only while the torg is open (issue 4); stale never alerts on its own. */
export function shouldAlertOffline(state: LivenessState | undefined, torg: Torg, nowMs: number): boolean {
  return state === 'offline' && inOpeningHours(torg, nowMs);
}

/**
 * zigbee2mqtt state messages → ReadingInput[].
 *
 * zigbee2mqtt publishes each device's state as JSON on `{base}/{friendly_name}` and the device list,
 * retained, on `{base}/bridge/devices` (https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html).
 * The contract's device id is the IEEE address, which never changes; the friendly name is what the
 * topic carries and an operator can rename it at any time. So this source keeps the
 * friendly-name → IEEE map from the latest bridge/devices message, which zigbee2mqtt republishes
 * after every rename, join and removal.
 *
 * Field semantics (zigbee-herdsman-converters exposes, https://www.zigbee2mqtt.io/guide/usage/exposes.html):
 * - `contact`: "Indicates if the contact is closed (= true) or open (= false)". So open = !contact.
 * - `occupancy` (PIR) and `presence` (mmWave radar): true = someone detected.
 * - `temperature` °C, `humidity` %, `co2` ppm, `pressure` hPa, `battery` %.
 * - `linkquality`: the 802.15.4 LQI, 0–255, a vendor-scaled link quality figure (IEEE 802.15.4-2020
 *   §10.2.6 leaves its mapping to the implementer). It is NOT an RSSI in dBm and is not mapped to
 *   `rssi`; converting it would invent a number.
 * - `voltage` (mV) has no contract field; `battery` is the health figure.
 * zigbee2mqtt's state cache (`cache_state`, default on) repeats every last-known attribute in each
 * message, so a state (door, presence) can arrive again unchanged; readings are states, so a
 * repeat is harmless.
 */
import { z } from 'zod';
import type { ReadingInput } from '../contract/reading.schema.ts';
import { describeIssues } from '../contract/validate.ts';
import { fail, type SourceErrorCode, type SourceResult } from './source-errors.ts';
import { decodeJson } from './source-json.ts';
import { DEFAULT_MIN_PLAUSIBLE_MS, instantFromEpochMs, parseInstant } from './source-time.ts';

/** A Zigbee network has at most a few hundred devices per coordinator; a longer list is not one we trust. */
export const MAX_BRIDGE_DEVICES = 2_000;

export const bridgeDeviceSchema = z.looseObject({
  ieee_address: z.string().regex(/^0x[0-9a-fA-F]{16}$/, 'must be 0x + 16 hex digits'),
  friendly_name: z.string().min(1),
  type: z.string().optional(),
  definition: z
    .looseObject({ model: z.string(), vendor: z.string(), description: z.string().optional(), exposes: z.array(z.unknown()).optional() })
    .nullable()
    .optional(),
});
export const bridgeDevicesSchema = z.array(bridgeDeviceSchema).max(MAX_BRIDGE_DEVICES);
export type BridgeDevice = z.infer<typeof bridgeDeviceSchema>;

export interface FieldIssue {
  field: string;
  code: SourceErrorCode;
  detail: string;
}

export type Zigbee2mqttResult = SourceResult<
  | { kind: 'devices'; devices: number }
  | { kind: 'readings'; device: string; friendlyName: string; readings: ReadingInput[]; issues: FieldIssue[] }
  | { kind: 'ignored'; reason: string }
>;

/**
 * Booleans as zigbee2mqtt and hand-written converters send them. Only the spellings seen in
 * zigbee2mqtt payloads are accepted ("ON"/"OFF" is its binary-state style); anything else is
 * refused rather than guessed, because `Boolean("false")` is true.
 */
export function parseZigbeeBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  switch (value.trim().toLowerCase()) {
    case 'true':
    case 'on':
      return true;
    case 'false':
    case 'off':
      return false;
    default:
      return undefined;
  }
}

const CLIMATE_FIELDS = ['temperature', 'humidity', 'co2', 'pressure'] as const;

export interface Zigbee2mqttOptions {
  /** zigbee2mqtt's `mqtt.base_topic`; default `zigbee2mqtt`. */
  baseTopic?: string;
  minPlausibleMs?: number;
}

export class Zigbee2mqttSource {
  readonly baseTopic: string;
  private readonly minPlausibleMs: number;
  private byFriendlyName = new Map<string, BridgeDevice>();

  constructor(opts: Zigbee2mqttOptions = {}) {
    this.baseTopic = opts.baseTopic ?? 'zigbee2mqtt';
    this.minPlausibleMs = opts.minPlausibleMs ?? DEFAULT_MIN_PLAUSIBLE_MS;
  }

  /** The subscription that covers both the device list and every state message. */
  get subscription(): string {
    return `${this.baseTopic}/#`;
  }

  ieeeFor(friendlyName: string): string | undefined {
    return this.byFriendlyName.get(friendlyName)?.ieee_address;
  }

  /** Replaces the map from a bridge/devices payload; a rename shows up as the old name gone. */
  updateDevices(json: unknown): SourceResult<{ devices: number }> {
    const parsed = bridgeDevicesSchema.safeParse(json);
    if (!parsed.success) return fail('E_SOURCE_BAD_ENVELOPE', `bridge/devices: ${describeIssues(parsed.error)}`);
    const next = new Map<string, BridgeDevice>();
    for (const d of parsed.data) {
      // The coordinator is listed too; it publishes no state.
      if (d.type === 'Coordinator') continue;
      next.set(d.friendly_name, d);
    }
    this.byFriendlyName = next;
    return { ok: true, devices: next.size };
  }

  handleMessage(topic: string, payload: Uint8Array | string, receivedAtMs: number): Zigbee2mqttResult {
    const prefix = `${this.baseTopic}/`;
    if (!topic.startsWith(prefix)) return { ok: true, kind: 'ignored', reason: `topic outside ${prefix}` };
    const rest = topic.slice(prefix.length);
    if (rest === 'bridge/devices') {
      const j = decodeJson(payload);
      if (!j.ok) return j;
      const r = this.updateDevices(j.json);
      return r.ok ? { ok: true, kind: 'devices', devices: r.devices } : r;
    }
    if (rest.startsWith('bridge/')) return { ok: true, kind: 'ignored', reason: 'bridge message other than devices' };
    // Friendly names may contain "/" (zigbee2mqtt docs, "kitchen/floor_light"), so the whole rest is
    // looked up first; only if that fails is a trailing command/availability level stripped.
    if (!this.byFriendlyName.has(rest)) {
      const m = /^(.+)\/(set|get|availability)(?:\/.*)?$/.exec(rest);
      if (m && this.byFriendlyName.has(m[1]!)) return { ok: true, kind: 'ignored', reason: `${m[2]} topic, not state` };
      return fail('E_SOURCE_UNKNOWN_DEVICE', `no device named "${rest}" in ${this.baseTopic}/bridge/devices`);
    }
    const j = decodeJson(payload);
    if (!j.ok) return j;
    return this.stateToReadings(rest, j.json, receivedAtMs);
  }

  /** A state message (already JSON-decoded) for a friendly name. */
  stateToReadings(friendlyName: string, json: unknown, receivedAtMs: number): Zigbee2mqttResult {
    const device = this.byFriendlyName.get(friendlyName);
    if (device === undefined) return fail('E_SOURCE_UNKNOWN_DEVICE', `no device named "${friendlyName}"`);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return fail('E_SOURCE_BAD_ENVELOPE', 'state message is not a JSON object');
    }
    const state = json as Record<string, unknown>;
    const issues: FieldIssue[] = [];
    const receivedAt = new Date(receivedAtMs).toISOString();

    // `last_seen` is present only with zigbee2mqtt's `advanced.last_seen` set: ISO_8601,
    // ISO_8601_local (with offset) or epoch ms. It is stamped by zigbee2mqtt when the Zigbee frame
    // arrived, which makes it the network-side time, as an LNS timestamp is for LoRaWAN.
    let time = receivedAt;
    let timeSource: 'network' | 'gateway' = 'gateway';
    const lastSeen = state['last_seen'];
    if (lastSeen !== undefined) {
      const t =
        typeof lastSeen === 'string'
          ? parseInstant(lastSeen, this.minPlausibleMs)
          : typeof lastSeen === 'number'
            ? instantFromEpochMs(lastSeen, this.minPlausibleMs)
            : fail('E_SOURCE_BAD_TIME', `last_seen has type ${typeof lastSeen}`);
      if (t.ok) {
        time = t.iso;
        timeSource = 'network';
      } else {
        issues.push({ field: 'last_seen', code: t.code, detail: t.detail });
      }
    }
    const base = { device: device.ieee_address, time, timeSource, receivedAt };

    const bool = (field: string): boolean | undefined => {
      const v = state[field];
      if (v === undefined || v === null) return undefined;
      const b = parseZigbeeBoolean(v);
      if (b === undefined) issues.push({ field, code: 'E_SOURCE_BAD_VALUE', detail: `${JSON.stringify(v)} is not a boolean` });
      return b;
    };
    const num = (field: string): number | undefined => {
      const v = state[field];
      if (v === undefined || v === null) return undefined;
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      issues.push({ field, code: 'E_SOURCE_BAD_VALUE', detail: `${JSON.stringify(v)} is not a finite number` });
      return undefined;
    };

    const readings: ReadingInput[] = [];
    const contact = bool('contact');
    if (contact !== undefined) readings.push({ ...base, kind: 'door', open: !contact });

    const occupancy = bool('occupancy');
    const presence = bool('presence');
    const occupied = occupancy ?? presence;
    if (occupied !== undefined) readings.push({ ...base, kind: 'presence', occupied });

    const climate: Partial<Record<(typeof CLIMATE_FIELDS)[number], number>> = {};
    for (const f of CLIMATE_FIELDS) {
      const v = num(f);
      if (v !== undefined) climate[f] = v;
    }
    if (Object.keys(climate).length > 0) readings.push({ ...base, kind: 'climate', ...climate });

    const battery = num('battery');
    if (battery !== undefined) readings.push({ ...base, kind: 'health', battery });

    return { ok: true, kind: 'readings', device: device.ieee_address, friendlyName, readings, issues };
  }
}

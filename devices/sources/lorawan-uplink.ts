/**
 * One LoRaWAN uplink as the gateway sees it, whichever network server delivered it.
 *
 * ChirpStack v4 and The Things Stack v3 wrap the same radio frame in different JSON; their parsers
 * (chirpstack-v4.ts, tts-v3.ts) reduce it to this shape, and the payload decoders in
 * devices/models/<vendor>/ take it from here (`decode(fPort, bytes, { device, time })`).
 */
import type { ReadingInput } from '../contract/reading.schema.ts';
import { fail, type SourceResult } from './source-errors.ts';
import { DEFAULT_MIN_PLAUSIBLE_MS, parseInstant } from './source-time.ts';

export interface LorawanUplink {
  /** DevEUI, 16 lower-case hex digits (the contract's device id for LoRaWAN). */
  devEui: string;
  /** Observation time, `YYYY-MM-DDTHH:mm:ss.sssZ`, truncated from the server's nanoseconds. */
  time: string;
  /**
   * `network`: the network server's receive time. `gateway`: the server gave none, so the radio
   * gateway's receive time (or, lacking that too, our gateway's receive time) stands in.
   */
  timeSource: 'network' | 'gateway';
  /** 1–223 (LoRaWAN 1.0.4 §4.3.2: 0 is MAC-only, 224 the test port); parsers refuse 0. */
  fPort: number;
  bytes: Uint8Array;
  fCnt?: number;
  /** Best RSSI over all gateways that heard the frame, dBm. */
  rssi?: number;
  /** Best SNR over all gateways that heard the frame, dB. */
  snr?: number;
  deviceName?: string;
  tags?: Record<string, string>;
}

/** A parser's answer: an uplink to decode, or why there is none (E_SOURCE_NO_PAYLOAD for a MAC-only frame). */
export type UplinkResult = SourceResult<{ uplink: LorawanUplink }>;

/** What every network-server parser needs besides the message. */
export interface LnsParseOptions {
  /** When our gateway received the message (ms since epoch), from the injected clock. */
  receivedAtMs: number;
  minPlausibleMs?: number;
}

const DEV_EUI = /^[0-9a-fA-F]{16}$/;

export function normaliseDevEui(raw: string): string | null {
  const compact = raw.replace(/[-:\s]/g, '');
  return DEV_EUI.test(compact) ? compact.toLowerCase() : null;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Strict base64 (RFC 4648 §4): Node's decoder skips characters it does not know, so a corrupted
 * payload would decode to shorter, wrong bytes instead of failing.
 */
export function decodeBase64(text: string): SourceResult<{ bytes: Uint8Array }> {
  if (!BASE64.test(text)) return fail('E_SOURCE_BAD_ENVELOPE', `payload "${text.slice(0, 40)}" is not canonical base64`);
  return { ok: true, bytes: new Uint8Array(Buffer.from(text, 'base64')) };
}

/**
 * The application payload: absent is empty (proto3 JSON omits an empty bytes field,
 * https://protobuf.dev/programming-guides/json/), anything else must be strict base64.
 */
export function uplinkPayload(data: string | undefined): SourceResult<{ bytes: Uint8Array }> {
  if (data === undefined) return { ok: true, bytes: new Uint8Array(0) };
  return decodeBase64(data);
}

/**
 * The observation time of an uplink: the network server's receive time when it gave one. Otherwise
 * the earliest radio gateway receive time is the closest to the transmission; if no gateway reported
 * one, our own receive time is all there is.
 */
export function uplinkTime(
  serverTime: string | undefined,
  gatewayTimes: readonly (string | undefined)[],
  opts: LnsParseOptions,
): SourceResult<{ time: string; timeSource: LorawanUplink['timeSource'] }> {
  const minPlausibleMs = opts.minPlausibleMs ?? DEFAULT_MIN_PLAUSIBLE_MS;
  if (serverTime !== undefined) {
    const t = parseInstant(serverTime, minPlausibleMs);
    if (!t.ok) return t;
    return { ok: true, time: t.iso, timeSource: 'network' };
  }
  let earliest: { iso: string; ms: number } | undefined;
  for (const text of gatewayTimes) {
    if (text === undefined) continue;
    const t = parseInstant(text, minPlausibleMs);
    if (!t.ok) return t;
    if (earliest === undefined || t.ms < earliest.ms) earliest = t;
  }
  return { ok: true, time: earliest?.iso ?? new Date(opts.receivedAtMs).toISOString(), timeSource: 'gateway' };
}

/** An LNS uplink message with its fields mapped to ours, before any of them is checked. */
export interface LnsUplinkFields {
  /** Already normalised with normaliseDevEui. */
  devEui: string;
  /** Non-zero: the parser has already answered a port-0 frame itself. */
  fPort: number;
  fCnt: number;
  /** base64 application payload, as the server sent it. */
  data: string | undefined;
  /** The network server's receive time, if it gave one. */
  serverTime: string | undefined;
  /** Receive times the radio gateways reported, one per gateway (undefined where it gave none). */
  gatewayTimes: readonly (string | undefined)[];
  rx: readonly { rssi?: number | undefined; snr?: number | undefined }[];
  deviceName?: string | undefined;
  tags?: Record<string, string> | undefined;
}

/** The part of every LNS parser after its own field mapping: payload, time and radio, checked and joined. */
export function buildUplink(f: LnsUplinkFields, opts: LnsParseOptions): UplinkResult {
  const payload = uplinkPayload(f.data);
  if (!payload.ok) return payload;
  const when = uplinkTime(f.serverTime, f.gatewayTimes, opts);
  if (!when.ok) return when;
  const uplink: LorawanUplink = {
    devEui: f.devEui,
    time: when.time,
    timeSource: when.timeSource,
    fPort: f.fPort,
    bytes: payload.bytes,
    fCnt: f.fCnt,
    ...bestRadio(f.rx),
    ...(f.deviceName !== undefined ? { deviceName: f.deviceName } : {}),
    ...(f.tags !== undefined && Object.keys(f.tags).length > 0 ? { tags: f.tags } : {}),
  };
  return { ok: true, uplink };
}

/**
 * Best radio figures over all receiving gateways: the maximum RSSI and the maximum SNR, each taken
 * on its own (they may come from different gateways). The best link is what says whether the
 * device can still be heard; a weak second gateway says nothing about the device's health.
 */
export function bestRadio(rx: readonly { rssi?: number | undefined; snr?: number | undefined }[]): { rssi?: number; snr?: number } {
  let rssi: number | undefined;
  let snr: number | undefined;
  for (const r of rx) {
    if (r.rssi !== undefined && Number.isFinite(r.rssi) && (rssi === undefined || r.rssi > rssi)) rssi = r.rssi;
    if (r.snr !== undefined && Number.isFinite(r.snr) && (snr === undefined || r.snr > snr)) snr = r.snr;
  }
  return { ...(rssi !== undefined ? { rssi } : {}), ...(snr !== undefined ? { snr } : {}) };
}

/**
 * The health reading an uplink carries by itself: its radio metadata. Null when the server
 * reported no RSSI or SNR (e.g. ChirpStack without rxInfo), since a health reading needs a value.
 * Battery comes from the payload, so the model decoder reports it, not this function.
 */
export function uplinkHealthReading(uplink: LorawanUplink, receivedAt?: string): ReadingInput | null {
  if (uplink.rssi === undefined && uplink.snr === undefined) return null;
  return {
    kind: 'health',
    device: uplink.devEui,
    time: uplink.time,
    timeSource: uplink.timeSource,
    ...(receivedAt !== undefined ? { receivedAt } : {}),
    ...(uplink.rssi !== undefined ? { rssi: uplink.rssi } : {}),
    ...(uplink.snr !== undefined ? { snr: uplink.snr } : {}),
  };
}

/**
 * Disruptive Technologies (DT) Data Connector webhooks → ReadingInput[].
 *
 * A Data Connector POSTs `{ event, labels, metadata }` for every event of the project's sensors
 * (https://docs.developer.disruptive-technologies.com/data-connectors/receiving-events). With a
 * signature secret configured, the `X-Dt-Signature` header holds an HS256 JWT signed with that secret,
 * whose claims carry `checksum` (SHA-1, hex) and `checksum_sha256` (SHA-256, hex) of the exact request
 * body bytes and an `exp` expiry. The signature proves the sender; the checksum binds the body to it,
 * so the body must be hashed as received, before any JSON parsing (re-serialising changes bytes).
 * DT's own receiver (disruptive-technologies/python-integrations, dtintegrations/data_connector/
 * http_push.py) does the same: decode with HS256, then compare the body checksum.
 *
 * Event data shapes: https://docs.developer.disruptive-technologies.com/concepts/events and the
 * DT python client (disruptive/events/events.py). Per event type, `data.<type>.updateTime` is when
 * the Cloud Connector received the sensor's report; temperature/humidity `samples[].sampleTime` is
 * when each sample was measured (several samples = backfill after the sensor was out of reach).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { ReadingInput } from '../contract/reading.schema.ts';
import { PlatformError } from '../contract/errors.ts';
import { describeIssues } from '../contract/validate.ts';
import { fail, type SourceErrorCode, type SourceResult } from './source-errors.ts';
import { decodeJson } from './source-json.ts';
import { DEFAULT_MIN_PLAUSIBLE_MS, parseInstant, type Instant } from './source-time.ts';

export const DT_SIGNATURE_HEADER = 'x-dt-signature';

/** Headers as Node (IncomingHttpHeaders) or fetch-style records give them; names in any case. */
export type HeaderRecord = Record<string, string | string[] | undefined>;

function headerValue(headers: HeaderRecord, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined && first.trim() !== '') return first.trim();
  }
  return undefined;
}

function hexEqual(expectedHex: string, actual: Buffer): boolean {
  const expected = Buffer.from(expectedHex.toLowerCase(), 'hex');
  // Buffer.from(…, 'hex') stops at the first non-hex pair, so a malformed claim yields a short buffer.
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export interface DtVerifyOptions {
  secret: string;
  /** The receiver's clock, ms since epoch (injected; the token's `exp` is checked against it). */
  nowMs: number;
  /** Accepted clock skew for `exp`, seconds. Default 0. */
  clockToleranceSec?: number;
}

/**
 * Verifies `X-Dt-Signature` against the raw body. Distinct codes: missing header, bad signature
 * (wrong secret, forged or malformed token), expired token, body altered after signing.
 */
export async function verifyDtSignature(
  headers: HeaderRecord,
  body: Uint8Array | string,
  opts: DtVerifyOptions,
): Promise<SourceResult<{ claims: JWTPayload }>> {
  const token = headerValue(headers, DT_SIGNATURE_HEADER);
  if (token === undefined) return fail('E_SIGNATURE_MISSING', 'no X-Dt-Signature header');
  let claims: JWTPayload;
  try {
    const verified = await jwtVerify(token, new TextEncoder().encode(opts.secret), {
      algorithms: ['HS256'],
      currentDate: new Date(opts.nowMs),
      clockTolerance: opts.clockToleranceSec ?? 0,
      requiredClaims: ['exp'],
    });
    claims = verified.payload;
  } catch (err) {
    // jose checks the signature before the claims, so an expired token reaching here was signed
    // with our secret: the sender is genuine but the token is stale (e.g. a long-delayed retry).
    if (err instanceof joseErrors.JWTExpired) return fail('E_SIGNATURE_EXPIRED', err.message);
    return fail('E_SIGNATURE_INVALID', err instanceof Error ? err.message : String(err));
  }
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const sha256 = claims['checksum_sha256'];
  const sha1 = claims['checksum'];
  if (typeof sha256 !== 'string' && typeof sha1 !== 'string') {
    return fail('E_SIGNATURE_INVALID', 'token carries neither checksum_sha256 nor checksum');
  }
  // Both are checked when both are present: each is part of what DT signed.
  if (typeof sha256 === 'string' && !hexEqual(sha256, createHash('sha256').update(bytes).digest())) {
    return fail('E_SIGNATURE_BODY_MISMATCH', 'SHA-256 of the body differs from checksum_sha256');
  }
  if (typeof sha1 === 'string' && !hexEqual(sha1, createHash('sha1').update(bytes).digest())) {
    return fail('E_SIGNATURE_BODY_MISMATCH', 'SHA-1 of the body differs from checksum');
  }
  return { ok: true, claims };
}

/**
 * How a DT proximity sensor's objectPresent maps to a door. The usual mounting puts the sensor on
 * the frame and a magnet on the door leaf: magnet near (PRESENT) = closed, NOT_PRESENT = open
 * (magnet away). A sensor mounted on the leaf facing a magnet on a wall that the open door swings
 * against reads the other way round, hence per device.
 */
export type ObjectPresentPolarity = 'present-is-closed' | 'present-is-open';

export interface DtDeviceConfig {
  objectPresent?: ObjectPresentPolarity;
}

export const dtEventSchema = z.looseObject({
  eventId: z.string(),
  targetName: z.string(),
  eventType: z.string(),
  data: z.record(z.string(), z.unknown()),
  timestamp: z.string().optional(),
});
export type DtEvent = z.infer<typeof dtEventSchema>;

export const dtWebhookBodySchema = z.looseObject({
  event: dtEventSchema,
  labels: z.record(z.string(), z.string()).optional(),
  metadata: z.looseObject({ deviceId: z.string().optional(), projectId: z.string().optional(), deviceType: z.string().optional() }).optional(),
});

export interface DtIssue {
  field: string;
  code: SourceErrorCode;
  detail: string;
}

export type DtMapResult = SourceResult<{ device: string; readings: ReadingInput[]; issues: DtIssue[]; ignored?: string }>;

/** A reading without the fields every DT reading gets the same way (distributes over the kinds). */
type ReadingBody = ReadingInput extends infer R ? (R extends ReadingInput ? Omit<R, 'device' | 'time' | 'timeSource' | 'receivedAt'> : never) : never;

export interface DtMapOptions {
  /** When our gateway received the request (ms since epoch), from the injected clock. */
  receivedAtMs: number;
  devices?: Readonly<Record<string, DtDeviceConfig>>;
  minPlausibleMs?: number;
}

/**
 * `projects/<project>/devices/<device>` → `<device>`. Tolerates a leading "/" and surrounding
 * whitespace (DT's python-client test events have `"/projets/project_id/devices/device_id "`); the
 * device id is the last path element after `devices/`, as the python client takes it.
 */
export function dtDeviceId(targetName: string): string | null {
  const m = /(?:^|\/)devices\/([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(targetName.trim());
  return m ? m[1]! : null;
}

/** DT booleans; the strict parse exists because DT sample data carries the Python spelling "False". */
export function parseDtBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return undefined;
}

const num = z.number().finite();
const temperatureData = z.looseObject({
  value: num.optional(),
  updateTime: z.string().optional(),
  isBackfilled: z.unknown().optional(),
  samples: z.array(z.looseObject({ value: num, sampleTime: z.string() })).optional(),
});
const humidityData = z.looseObject({
  temperature: num.optional(),
  relativeHumidity: num.optional(),
  updateTime: z.string().optional(),
  isBackfilled: z.unknown().optional(),
  samples: z.array(z.looseObject({ temperature: num.optional(), relativeHumidity: num.optional(), sampleTime: z.string() })).optional(),
});
const stateData = z.looseObject({ state: z.string(), updateTime: z.string().optional() });
const totalData = z.looseObject({ total: z.number().int().min(0), updateTime: z.string().optional() });
const co2Data = z.looseObject({ ppm: num, updateTime: z.string().optional() });
const pressureData = z.looseObject({ pascal: num, updateTime: z.string().optional() });
const networkData = z.looseObject({ rssi: num.optional(), signalStrength: num.optional(), updateTime: z.string().optional() });
const batteryData = z.looseObject({ percentage: num, updateTime: z.string().optional() });

/**
 * Event types that carry nothing the contract holds, and why:
 * - touch: a finger on the sensor, used in DT Studio to identify a sensor; not occupancy, and DT
 *   sends a temperature event on touch anyway, which is the liveness signal.
 * - touchCount: a running count of those touches; same reason.
 * - connectionStatus: which uplink (ETHERNET/CELLULAR) a Cloud Connector uses, not a sensor value.
 */
const IGNORED_EVENTS: Readonly<Record<string, string>> = {
  touch: 'touch is an identification gesture, not a measurement',
  touchCount: 'touch counts are not a platform quantity',
  connectionStatus: 'Cloud Connector uplink type, not a sensor value',
};

/** Maps one DT event (API / Data Connector form) to readings. */
export function dtEventToReadings(json: unknown, opts: DtMapOptions): DtMapResult {
  const parsed = dtEventSchema.safeParse(json);
  if (!parsed.success) return fail('E_SOURCE_BAD_ENVELOPE', `DT event: ${describeIssues(parsed.error)}`);
  const ev = parsed.data;
  const device = dtDeviceId(ev.targetName);
  if (device === null) return fail('E_SOURCE_BAD_ENVELOPE', `targetName "${ev.targetName}" has no devices/<id>`);
  const ignored = IGNORED_EVENTS[ev.eventType];
  if (ignored !== undefined) return { ok: true, device, readings: [], issues: [], ignored };

  const minPlausible = opts.minPlausibleMs ?? DEFAULT_MIN_PLAUSIBLE_MS;
  const receivedAt = new Date(opts.receivedAtMs).toISOString();
  const issues: DtIssue[] = [];
  const payload = ev.data[ev.eventType];

  const dataOf = <S extends z.ZodType>(schema: S): SourceResult<{ data: z.infer<S> }> => {
    const r = schema.safeParse(payload);
    return r.success ? { ok: true, data: r.data } : fail('E_SOURCE_BAD_VALUE', `${ev.eventType}: ${describeIssues(r.error)}`);
  };
  // updateTime is the documented time of the value; the event-level timestamp stands in only when
  // it is missing. Either one at 1970 is an unset clock and is refused, never written.
  const eventTime = (updateTime: string | undefined): SourceResult<Instant> => {
    const text = updateTime ?? ev.timestamp;
    if (text === undefined) return fail('E_SOURCE_BAD_TIME', `${ev.eventType} event has neither updateTime nor timestamp`);
    return parseInstant(text, minPlausible);
  };
  const single = (
    updateTime: string | undefined,
    reading: ReadingBody,
  ): DtMapResult => {
    const t = eventTime(updateTime);
    if (!t.ok) return t;
    return { ok: true, device, issues, readings: [{ ...reading, device, time: t.iso, timeSource: 'network', receivedAt } as ReadingInput] };
  };
  const backfillFlag = (v: unknown): void => {
    if (v !== undefined && parseDtBoolean(v) === undefined) {
      issues.push({ field: 'isBackfilled', code: 'E_SOURCE_BAD_VALUE', detail: `${JSON.stringify(v)} is not a boolean` });
    }
  };
  /** One reading per sample, each at its own sampleTime; a bad sample costs only itself. */
  const sampled = (samples: { sampleTime: string; values: Record<string, number | undefined> }[]): DtMapResult => {
    const readings: ReadingInput[] = [];
    samples.forEach((s, i) => {
      const t = parseInstant(s.sampleTime, minPlausible);
      if (!t.ok) {
        issues.push({ field: `samples[${i}].sampleTime`, code: t.code, detail: t.detail });
        return;
      }
      const values = Object.fromEntries(Object.entries(s.values).filter(([, v]) => v !== undefined));
      if (Object.keys(values).length === 0) return;
      readings.push({ kind: 'climate', device, time: t.iso, timeSource: 'sensor', receivedAt, ...values });
    });
    const first = issues.find((x) => x.field.startsWith('samples['));
    if (readings.length === 0 && first !== undefined) return fail(first.code, first.detail);
    return { ok: true, device, readings, issues };
  };

  switch (ev.eventType) {
    case 'temperature': {
      const d = dataOf(temperatureData);
      if (!d.ok) return d;
      backfillFlag(d.data.isBackfilled);
      if (d.data.samples !== undefined && d.data.samples.length > 0) {
        return sampled(d.data.samples.map((s) => ({ sampleTime: s.sampleTime, values: { temperature: s.value } })));
      }
      if (d.data.value === undefined) return fail('E_SOURCE_BAD_VALUE', 'temperature event without value or samples');
      return single(d.data.updateTime, { kind: 'climate', temperature: d.data.value });
    }
    case 'humidity': {
      const d = dataOf(humidityData);
      if (!d.ok) return d;
      backfillFlag(d.data.isBackfilled);
      if (d.data.samples !== undefined && d.data.samples.length > 0) {
        return sampled(
          d.data.samples.map((s) => ({ sampleTime: s.sampleTime, values: { temperature: s.temperature, humidity: s.relativeHumidity } })),
        );
      }
      if (d.data.temperature === undefined && d.data.relativeHumidity === undefined) {
        return fail('E_SOURCE_BAD_VALUE', 'humidity event without values or samples');
      }
      return single(d.data.updateTime, {
        kind: 'climate',
        ...(d.data.temperature !== undefined ? { temperature: d.data.temperature } : {}),
        ...(d.data.relativeHumidity !== undefined ? { humidity: d.data.relativeHumidity } : {}),
      });
    }
    case 'co2': {
      const d = dataOf(co2Data);
      if (!d.ok) return d;
      return single(d.data.updateTime, { kind: 'climate', co2: d.data.ppm });
    }
    case 'pressure': {
      const d = dataOf(pressureData);
      if (!d.ok) return d;
      // DT reports Pa; the contract holds hPa.
      return single(d.data.updateTime, { kind: 'climate', pressure: d.data.pascal / 100 });
    }
    case 'objectPresent': {
      const d = dataOf(stateData);
      if (!d.ok) return d;
      const present = d.data.state === 'PRESENT' ? true : d.data.state === 'NOT_PRESENT' ? false : undefined;
      if (present === undefined) return fail('E_SOURCE_BAD_VALUE', `objectPresent state "${d.data.state}"`);
      const polarity = opts.devices?.[device]?.objectPresent ?? 'present-is-closed';
      return single(d.data.updateTime, { kind: 'door', open: polarity === 'present-is-closed' ? !present : present });
    }
    case 'objectPresentCount': {
      const d = dataOf(totalData);
      if (!d.ok) return d;
      // A running count of PRESENT transitions. On a door each closing follows an opening, so the
      // count differs from the openings by at most one, a constant the per-period differences the
      // platform computes from running counts cancel.
      return single(d.data.updateTime, { kind: 'door', openings: d.data.total });
    }
    case 'contact': {
      const d = dataOf(stateData);
      if (!d.ok) return d;
      const open = d.data.state === 'OPEN' ? true : d.data.state === 'CLOSED' ? false : undefined;
      if (open === undefined) return fail('E_SOURCE_BAD_VALUE', `contact state "${d.data.state}"`);
      return single(d.data.updateTime, { kind: 'door', open });
    }
    case 'motion': {
      const d = dataOf(stateData);
      if (!d.ok) return d;
      const occupied = d.data.state === 'MOTION_DETECTED' ? true : d.data.state === 'NO_MOTION_DETECTED' ? false : undefined;
      if (occupied === undefined) return fail('E_SOURCE_BAD_VALUE', `motion state "${d.data.state}"`);
      return single(d.data.updateTime, { kind: 'presence', occupied });
    }
    case 'deskOccupancy': {
      const d = dataOf(stateData);
      if (!d.ok) return d;
      // Any other state (DT documents INVALID when the sensor cannot tell) is not an answer.
      const occupied = d.data.state === 'OCCUPIED' ? true : d.data.state === 'NOT_OCCUPIED' ? false : undefined;
      if (occupied === undefined) return fail('E_SOURCE_BAD_VALUE', `deskOccupancy state "${d.data.state}"`);
      return single(d.data.updateTime, { kind: 'presence', occupied });
    }
    case 'networkStatus': {
      const d = dataOf(networkData);
      if (!d.ok) return d;
      // signalStrength is DT's 0–100 % rendering of the RSSI, not dBm; only rssi is a contract value.
      if (d.data.rssi === undefined) return { ok: true, device, readings: [], issues, ignored: 'networkStatus without rssi' };
      return single(d.data.updateTime, { kind: 'health', rssi: d.data.rssi });
    }
    case 'batteryStatus': {
      const d = dataOf(batteryData);
      if (!d.ok) return d;
      return single(d.data.updateTime, { kind: 'health', battery: d.data.percentage });
    }
    default:
      return fail('E_SOURCE_UNSUPPORTED_EVENT', `DT event type "${ev.eventType}"`);
  }
}

export interface DtWebhookRequest {
  headers: HeaderRecord;
  /** The body exactly as received; the checksum is over these bytes. */
  body: Uint8Array | string;
  /** The receiver's clock, ms since epoch. */
  nowMs: number;
}

export interface DtWebhookReceiverOptions {
  secret: string;
  devices?: Readonly<Record<string, DtDeviceConfig>>;
  clockToleranceSec?: number;
  minPlausibleMs?: number;
}

export interface DtWebhookReceiver {
  handle(req: DtWebhookRequest): Promise<DtMapResult>;
}

export function createDtWebhookReceiver(opts: DtWebhookReceiverOptions): DtWebhookReceiver {
  // An empty secret would make every forged token verify; refuse it at start-up.
  if (opts.secret.length === 0) throw new PlatformError('E_CONFIG_INVALID', 'Data Connector signature secret is empty');
  return {
    async handle(req) {
      const sig = await verifyDtSignature(req.headers, req.body, {
        secret: opts.secret,
        nowMs: req.nowMs,
        ...(opts.clockToleranceSec !== undefined ? { clockToleranceSec: opts.clockToleranceSec } : {}),
      });
      if (!sig.ok) return sig;
      const j = decodeJson(req.body);
      if (!j.ok) return j;
      const body = dtWebhookBodySchema.safeParse(j.json);
      if (!body.success) return fail('E_SOURCE_BAD_ENVELOPE', `Data Connector body: ${describeIssues(body.error)}`);
      const mapped = dtEventToReadings(body.data.event, {
        receivedAtMs: req.nowMs,
        ...(opts.devices !== undefined ? { devices: opts.devices } : {}),
        ...(opts.minPlausibleMs !== undefined ? { minPlausibleMs: opts.minPlausibleMs } : {}),
      });
      const metaId = body.data.metadata?.deviceId;
      if (mapped.ok && metaId !== undefined && metaId !== mapped.device) {
        return fail('E_SOURCE_BAD_ENVELOPE', `metadata.deviceId ${metaId} differs from targetName device ${mapped.device}`);
      }
      return mapped;
    },
  };
}

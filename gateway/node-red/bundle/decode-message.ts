/**
 * What the `innbyggertorg-decode` node does with one Node-RED message: a raw LoRaWAN frame for a
 * chosen device model, or a network-server / zigbee2mqtt message, becomes contract readings.
 *
 * Every reading leaves through the gateway's own normalizeReading (gateway/normalize.ts): the same
 * receive-time stamping, clock-plausibility flag and contract validation as the gateway's built-in
 * sources, so a flow cannot put anything into the outbox that the ingest would refuse.
 */
import { z } from 'zod';
import type { Reading } from '../../../devices/contract/reading.schema.ts';
import { describeIssues } from '../../../devices/contract/validate.ts';
import { DecodeError } from '../../../devices/models/device-model.ts';
import { findModel } from '../../../devices/models/index.ts';
import { parseChirpstackMqtt, parseChirpstackTopic, parseChirpstackUplink } from '../../../devices/sources/chirpstack-v4.ts';
import { decodeBase64, normaliseDevEui, uplinkHealthReading, type LorawanUplink, type UplinkResult } from '../../../devices/sources/lorawan-uplink.ts';
import { parseInstant } from '../../../devices/sources/source-time.ts';
import { parseTtsMqtt, parseTtsTopic, parseTtsUplink } from '../../../devices/sources/tts-v3.ts';
import { Zigbee2mqttSource } from '../../../devices/sources/zigbee2mqtt.ts';
import type { Clock } from '../../clock.ts';
import { DEFAULT_CLOCK_PLAUSIBILITY, normalizeReading, type ClockPlausibility } from '../../normalize.ts';

export const DECODE_FORMATS = ['raw', 'chirpstack-v4', 'tts-v3', 'zigbee2mqtt'] as const;
export type DecodeFormat = (typeof DECODE_FORMATS)[number];

/** The node's editor properties, as Node-RED hands them to the constructor. */
export const decodeNodeConfigSchema = z.object({
  format: z.enum(DECODE_FORMATS),
  /** Model id for every message of this node; '' = from msg.model or the LNS device tag `model`. */
  model: z.string().default(''),
  zigbeeBaseTopic: z.string().min(1).default('zigbee2mqtt'),
});
export type DecodeNodeConfig = z.infer<typeof decodeNodeConfigSchema>;

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** `format: raw`: one LoRaWAN frame, as a flow (or an HTTP/serial source) gets it from anywhere. */
export const rawFrameSchema = z
  .object({
    fPort: z.number().int().min(1).max(223),
    bytes: z.union([z.instanceof(Uint8Array), z.array(z.number().int().min(0).max(255))]).optional(),
    hex: z.string().regex(HEX, 'must be an even number of hex digits').optional(),
    base64: z.string().optional(),
    /** DevEUI, any case, with or without separators. */
    device: z.string(),
    /** RFC 3339 observation time; absent = the gateway's receive time. */
    time: z.string().optional(),
  })
  .refine((f) => [f.bytes, f.hex, f.base64].filter((v) => v !== undefined).length === 1, {
    message: 'give the payload exactly once: bytes, hex or base64',
  });

export interface Rejection {
  code: string;
  detail: string;
}

export type DecodeOutcome =
  | { ok: true; readings: Reading[]; rejected: Rejection[]; ignored?: string }
  | { ok: false; code: string; detail: string; retriable: boolean };

function failure(code: string, detail: string): DecodeOutcome {
  return { ok: false, code, detail, retriable: false };
}

/** JSON texts stay as received; Node-RED's mqtt-in and http-in may already have parsed them. */
function asWire(payload: unknown): string | Uint8Array {
  if (typeof payload === 'string' || payload instanceof Uint8Array) return payload;
  return JSON.stringify(payload);
}

function asJson(payload: unknown): { ok: true; json: unknown } | { ok: false; detail: string } {
  if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) return { ok: true, json: payload };
  try {
    return { ok: true, json: JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8')) };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

export class MessageDecoder {
  private readonly zigbee: Zigbee2mqttSource;

  constructor(
    private readonly config: DecodeNodeConfig,
    private readonly clock: Clock,
    private readonly limits: ClockPlausibility = DEFAULT_CLOCK_PLAUSIBILITY,
  ) {
    // One instance per node: it learns friendly name → IEEE address from `bridge/devices`.
    this.zigbee = new Zigbee2mqttSource({ baseTopic: config.zigbeeBaseTopic });
  }

  /** `msgModel` is msg.model, which overrides nothing the node fixes but fills in when it does not. */
  decode(payload: unknown, topic: unknown, msgModel: unknown): DecodeOutcome {
    const receivedAtMs = this.clock.now();
    const topicText = typeof topic === 'string' ? topic : '';
    const modelHint = this.config.model !== '' ? this.config.model : typeof msgModel === 'string' ? msgModel : undefined;
    switch (this.config.format) {
      case 'raw':
        return this.decodeRaw(payload, modelHint, receivedAtMs);
      case 'chirpstack-v4': {
        // Over MQTT the topic names the DevEUI and is checked against the body; an HTTP integration
        // body (http-in) has no such topic.
        const result: UplinkResult =
          parseChirpstackTopic(topicText) !== null
            ? parseChirpstackMqtt(topicText, asWire(payload), { receivedAtMs })
            : this.fromJson(payload, (json) => parseChirpstackUplink(json, { receivedAtMs }));
        return this.decodeUplink(result, modelHint, receivedAtMs);
      }
      case 'tts-v3': {
        const result: UplinkResult =
          parseTtsTopic(topicText) !== null
            ? parseTtsMqtt(topicText, asWire(payload), { receivedAtMs })
            : this.fromJson(payload, (json) => parseTtsUplink(json, { receivedAtMs }));
        return this.decodeUplink(result, modelHint, receivedAtMs);
      }
      case 'zigbee2mqtt': {
        const r = this.zigbee.handleMessage(topicText, asWire(payload), receivedAtMs);
        if (!r.ok) return failure(r.code, r.detail);
        if (r.kind === 'devices') return { ok: true, readings: [], rejected: [], ignored: `device list: ${r.devices} devices` };
        if (r.kind === 'ignored') return { ok: true, readings: [], rejected: [], ignored: r.reason };
        const out = this.normalize(r.readings, receivedAtMs);
        out.rejected.unshift(...r.issues.map((i) => ({ code: i.code, detail: `${i.field}: ${i.detail}` })));
        return out;
      }
    }
  }

  private fromJson(payload: unknown, parse: (json: unknown) => UplinkResult): UplinkResult {
    const j = asJson(payload);
    if (!j.ok) return { ok: false, code: 'E_SOURCE_NOT_JSON', retriable: false, detail: j.detail };
    return parse(j.json);
  }

  private decodeRaw(payload: unknown, modelId: string | undefined, receivedAtMs: number): DecodeOutcome {
    const parsed = rawFrameSchema.safeParse(payload);
    if (!parsed.success) return failure('E_DECODE_BAD_ENVELOPE', `msg.payload: ${describeIssues(parsed.error)}`);
    const f = parsed.data;
    const devEui = normaliseDevEui(f.device);
    if (devEui === null) return failure('E_DECODE_BAD_ENVELOPE', `msg.payload.device "${f.device}" is not a 16-hex-digit DevEUI`);
    let bytes: Uint8Array;
    if (f.hex !== undefined) bytes = new Uint8Array(Buffer.from(f.hex, 'hex'));
    else if (f.base64 !== undefined) {
      const b = decodeBase64(f.base64);
      if (!b.ok) return failure(b.code, b.detail);
      bytes = b.bytes;
    } else bytes = Uint8Array.from(f.bytes ?? []);
    let time = new Date(receivedAtMs).toISOString();
    let timeSource: LorawanUplink['timeSource'] = 'gateway';
    if (f.time !== undefined) {
      const t = parseInstant(f.time);
      if (!t.ok) return failure(t.code, t.detail);
      time = t.iso;
      // A time that came with the frame is the network's (or the integrator's) observation time.
      timeSource = 'network';
    }
    return this.decodeUplink({ ok: true, uplink: { devEui, time, timeSource, fPort: f.fPort, bytes } }, modelId, receivedAtMs);
  }

  private decodeUplink(result: UplinkResult, modelHint: string | undefined, receivedAtMs: number): DecodeOutcome {
    if (!result.ok) return failure(result.code, result.detail);
    const up = result.uplink;
    const modelId = modelHint ?? up.tags?.model;
    if (modelId === undefined) {
      return failure('E_DECODE_UNKNOWN_DEVICE', `no model for DevEUI ${up.devEui}: choose one in the node, set msg.model, or tag the device "model" in the LNS`);
    }
    const model = findModel(modelId);
    if (model === undefined) return failure('E_DECODE_UNKNOWN_MODEL', `model "${modelId}" (DevEUI ${up.devEui}) is not supported`);
    let decoded: unknown[];
    try {
      decoded = model.decode(up.fPort, up.bytes, { device: up.devEui, time: up.time }).map((r) =>
        r.timeSource === undefined ? { ...r, timeSource: up.timeSource } : r,
      );
    } catch (err) {
      if (err instanceof DecodeError) return failure(err.code, err.message);
      throw err;
    }
    const health = uplinkHealthReading(up, new Date(receivedAtMs).toISOString());
    if (health !== null) decoded.push(health);
    return this.normalize(decoded, receivedAtMs);
  }

  private normalize(raws: readonly unknown[], receivedAtMs: number): { ok: true; readings: Reading[]; rejected: Rejection[] } {
    const readings: Reading[] = [];
    const rejected: Rejection[] = [];
    for (const raw of raws) {
      const r = normalizeReading(raw, receivedAtMs, this.limits);
      if (r.ok) readings.push(r.reading);
      else rejected.push({ code: r.reason, detail: r.detail });
    }
    return { ok: true, readings, rejected };
  }
}

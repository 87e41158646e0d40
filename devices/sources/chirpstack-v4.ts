/**
 * ChirpStack v4 uplink events → LorawanUplink.
 *
 * Both integrations deliver the same `integration.UplinkEvent` protobuf rendered as JSON
 * (chirpstack api/proto/integration/integration.proto; gw/gw.proto for rxInfo):
 * - MQTT: topic `application/{applicationId}/device/{devEui}/event/up`
 *   (https://www.chirpstack.io/docs/chirpstack/integrations/mqtt.html)
 * - HTTP: POST with query `?event=up` (https://www.chirpstack.io/docs/chirpstack/integrations/http.html)
 *
 * The JSON is proto3 canonical JSON, which OMITS fields holding their default value
 * (https://protobuf.dev/programming-guides/json/: "If a field has the default value … it is omitted"):
 * `fCnt` 0, `fPort` 0 (a MAC-only frame), empty `data`, `snr` 0.0 are absent, not missing.
 */
import { z } from 'zod';
import { fail } from './source-errors.ts';
import { decodeJson } from './source-json.ts';
import { buildUplink, normaliseDevEui, type LnsParseOptions, type UplinkResult } from './lorawan-uplink.ts';
import { describeIssues } from '../contract/validate.ts';

const rxInfoSchema = z.looseObject({
  gatewayId: z.string().optional(),
  rssi: z.number().int().optional(),
  snr: z.number().optional(),
  /** Gateway receive time; only set when the gateway has a GPS or its own synchronised clock. */
  gwTime: z.string().optional(),
  /** Network server receive time. */
  nsTime: z.string().optional(),
});

export const chirpstackUplinkEventSchema = z.looseObject({
  deduplicationId: z.string().optional(),
  time: z.string().optional(),
  deviceInfo: z.looseObject({
    devEui: z.string(),
    deviceName: z.string().optional(),
    applicationId: z.string().optional(),
    tags: z.record(z.string(), z.string()).optional(),
  }),
  fCnt: z.number().int().min(0).optional(),
  fPort: z.number().int().min(0).max(255).optional(),
  data: z.string().optional(),
  rxInfo: z.array(rxInfoSchema).optional(),
});

export type ChirpstackUplinkEvent = z.infer<typeof chirpstackUplinkEventSchema>;

export type ChirpstackParseOptions = LnsParseOptions;

const TOPIC = /^application\/([^/]+)\/device\/([^/]+)\/event\/([^/]+)$/;

/** `application/{applicationId}/device/{devEui}/event/{event}`; null for other topics. */
export function parseChirpstackTopic(topic: string): { applicationId: string; devEui: string; event: string } | null {
  const m = TOPIC.exec(topic);
  if (!m) return null;
  return { applicationId: m[1]!, devEui: m[2]!, event: m[3]! };
}

/** Parses an already JSON-decoded uplink event body. */
export function parseChirpstackUplink(json: unknown, opts: ChirpstackParseOptions): UplinkResult {
  const parsed = chirpstackUplinkEventSchema.safeParse(json);
  if (!parsed.success) return fail('E_SOURCE_BAD_ENVELOPE', `ChirpStack up event: ${describeIssues(parsed.error)}`);
  const ev = parsed.data;
  const devEui = normaliseDevEui(ev.deviceInfo.devEui);
  if (devEui === null) return fail('E_SOURCE_BAD_ENVELOPE', `deviceInfo.devEui "${ev.deviceInfo.devEui}" is not 16 hex digits`);

  // fPort absent = 0 (proto3 default): the frame carried only MAC commands, nothing to decode.
  const fPort = ev.fPort ?? 0;
  if (fPort === 0) {
    // Port 0 payloads are MAC commands the network server consumes (LoRaWAN 1.0.4 §4.3.3); data
    // without a port means the port was lost, and the bytes cannot be decoded without it.
    if (ev.data !== undefined && ev.data !== '') return fail('E_SOURCE_BAD_ENVELOPE', `uplink from ${devEui} has data but no fPort`);
    return fail('E_SOURCE_NO_PAYLOAD', `uplink fCnt ${ev.fCnt ?? 0} from ${devEui} has fPort 0/absent`);
  }

  return buildUplink(
    {
      devEui,
      fPort,
      fCnt: ev.fCnt ?? 0,
      data: ev.data,
      serverTime: ev.time,
      gatewayTimes: (ev.rxInfo ?? []).map((r) => r.gwTime ?? r.nsTime),
      rx: (ev.rxInfo ?? []).map((r) => ({
        rssi: r.rssi,
        // snr absent in an entry that has rssi is the proto3 default 0.0, not an unknown value.
        snr: r.snr ?? (r.rssi !== undefined ? 0 : undefined),
      })),
      deviceName: ev.deviceInfo.deviceName,
      tags: ev.deviceInfo.tags,
    },
    opts,
  );
}

/**
 * An MQTT message from the ChirpStack MQTT integration. Only `event/up` is an uplink; the DevEUI in
 * the topic must match the body, so a mis-routed or forged message cannot speak for another device.
 */
export function parseChirpstackMqtt(topic: string, payload: Uint8Array | string, opts: ChirpstackParseOptions): UplinkResult {
  const t = parseChirpstackTopic(topic);
  if (t === null) return fail('E_SOURCE_BAD_ENVELOPE', `topic "${topic}" is not application/{id}/device/{devEui}/event/{event}`);
  if (t.event !== 'up') return fail('E_SOURCE_UNSUPPORTED_EVENT', `ChirpStack event "${t.event}" carries no uplink`);
  const j = decodeJson(payload);
  if (!j.ok) return j;
  const r = parseChirpstackUplink(j.json, opts);
  if (r.ok && normaliseDevEui(t.devEui) !== r.uplink.devEui) {
    return fail('E_SOURCE_TOPIC_MISMATCH', `topic DevEUI ${t.devEui}, body DevEUI ${r.uplink.devEui}`);
  }
  return r;
}

/** A request from the ChirpStack HTTP integration: `event` is the `?event=` query parameter. */
export function parseChirpstackHttp(event: string | undefined, body: Uint8Array | string, opts: ChirpstackParseOptions): UplinkResult {
  if (event !== 'up') return fail('E_SOURCE_UNSUPPORTED_EVENT', `ChirpStack event "${event ?? '(none)'}" carries no uplink`);
  const j = decodeJson(body);
  if (!j.ok) return j;
  return parseChirpstackUplink(j.json, opts);
}

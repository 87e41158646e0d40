/**
 * The Things Stack v3 uplink messages → LorawanUplink.
 *
 * The MQTT server (topic `v3/{application id}@{tenant id}/devices/{device id}/up`,
 * https://www.thethingsindustries.com/docs/integrations/other-integrations/mqtt/) and the webhook
 * integration (https://www.thethingsindustries.com/docs/integrations/webhooks/) deliver the same
 * `ApplicationUp` message as JSON (https://www.thethingsindustries.com/docs/reference/data-formats/).
 *
 * TRAP: TTS renders protobuf with proto3 JSON semantics, which omits fields holding their default
 * value (https://protobuf.dev/programming-guides/json/). So `f_cnt` is ABSENT on the first uplink
 * after a join (it is 0), `f_port` is absent on a MAC-only frame (port 0), `frm_payload` is absent
 * when empty, and `snr` is absent when it was exactly 0 dB. Every one is read as its zero here,
 * explicitly, rather than as "unknown".
 */
import { z } from 'zod';
import { describeIssues } from '../contract/validate.ts';
import { fail } from './source-errors.ts';
import { decodeJson } from './source-json.ts';
import { buildUplink, normaliseDevEui, type LnsParseOptions, type UplinkResult } from './lorawan-uplink.ts';

const rxMetadataSchema = z.looseObject({
  rssi: z.number().optional(),
  channel_rssi: z.number().optional(),
  snr: z.number().optional(),
  /** Gateway's own receive time; only with a GPS-synchronised gateway. */
  time: z.string().optional(),
  /** When the Gateway Server received the frame from the gateway. */
  received_at: z.string().optional(),
});

export const ttsUplinkMessageSchema = z.looseObject({
  end_device_ids: z.looseObject({
    device_id: z.string(),
    application_ids: z.looseObject({ application_id: z.string() }),
    dev_eui: z.string().optional(),
  }),
  /** When the Application Server handled the message. */
  received_at: z.string().optional(),
  uplink_message: z.looseObject({
    f_port: z.number().int().min(0).max(255).optional(),
    f_cnt: z.number().int().min(0).optional(),
    frm_payload: z.string().optional(),
    rx_metadata: z.array(rxMetadataSchema).optional(),
    /** When the Network Server received the uplink. */
    received_at: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
  }),
});

export type TtsParseOptions = LnsParseOptions;

/**
 * `v3/{application id}@{tenant id}/devices/{device id}/{type}`, or without `@{tenant id}` on The
 * Things Stack Open Source ("these endpoints do not include the tenant ID", MQTT Server docs, "Note
 * on Using the Tenant ID"); null for other topics.
 */
export function parseTtsTopic(topic: string): { applicationId: string; tenantId?: string; deviceId: string; type: string } | null {
  const m = /^v3\/([^/@]+)(?:@([^/]+))?\/devices\/([^/]+)\/(.+)$/.exec(topic);
  if (!m) return null;
  return { applicationId: m[1]!, ...(m[2] !== undefined ? { tenantId: m[2] } : {}), deviceId: m[3]!, type: m[4]! };
}

export function parseTtsUplink(json: unknown, opts: TtsParseOptions): UplinkResult {
  const parsed = ttsUplinkMessageSchema.safeParse(json);
  if (!parsed.success) return fail('E_SOURCE_BAD_ENVELOPE', `TTS uplink message: ${describeIssues(parsed.error)}`);
  const msg = parsed.data;
  const ids = msg.end_device_ids;
  // dev_eui is optional in TTS (an ABP device may be registered without one); the contract's
  // LoRaWAN device id is the DevEUI, so such a device cannot be mapped.
  if (ids.dev_eui === undefined) return fail('E_SOURCE_BAD_ENVELOPE', `device ${ids.device_id} has no dev_eui`);
  const devEui = normaliseDevEui(ids.dev_eui);
  if (devEui === null) return fail('E_SOURCE_BAD_ENVELOPE', `dev_eui "${ids.dev_eui}" is not 16 hex digits`);
  const up = msg.uplink_message;

  const fPort = up.f_port ?? 0;
  const fCnt = up.f_cnt ?? 0;
  if (fPort === 0) {
    // Port 0 frames carry MAC commands for the Network Server and never reach the Application
    // Server (LoRaWAN 1.0.4 §4.3.3), so an application payload without a port means the port was
    // lost, not that it was 0; the bytes cannot be decoded without it. (The published TTS docs
    // example is such a message.)
    if (up.frm_payload !== undefined) return fail('E_SOURCE_BAD_ENVELOPE', `uplink f_cnt ${fCnt} from ${devEui} has frm_payload but no f_port`);
    return fail('E_SOURCE_NO_PAYLOAD', `uplink f_cnt ${fCnt} from ${devEui} has f_port 0/absent`);
  }

  return buildUplink(
    {
      devEui,
      fPort,
      fCnt,
      data: up.frm_payload,
      // The Network Server's receive time is the one nearest the radio transmission; the top-level
      // received_at is later (after the Application Server's processing).
      serverTime: up.received_at ?? msg.received_at,
      gatewayTimes: (up.rx_metadata ?? []).map((r) => r.time ?? r.received_at),
      rx: (up.rx_metadata ?? []).map((r) => ({
        rssi: r.rssi ?? r.channel_rssi,
        snr: r.snr ?? (r.rssi !== undefined || r.channel_rssi !== undefined ? 0 : undefined),
      })),
      deviceName: ids.device_id,
      tags: up.attributes,
    },
    opts,
  );
}

/** An MQTT message from the TTS MQTT server. Only `/up` is an uplink; the topic's device id must match the body. */
export function parseTtsMqtt(topic: string, payload: Uint8Array | string, opts: TtsParseOptions): UplinkResult {
  const t = parseTtsTopic(topic);
  if (t === null) return fail('E_SOURCE_BAD_ENVELOPE', `topic "${topic}" is not v3/{app}[@{tenant}]/devices/{device}/{type}`);
  if (t.type !== 'up') return fail('E_SOURCE_UNSUPPORTED_EVENT', `TTS message type "${t.type}" carries no uplink`);
  const j = decodeJson(payload);
  if (!j.ok) return j;
  const parsed = ttsUplinkMessageSchema.safeParse(j.json);
  if (parsed.success) {
    const ids = parsed.data.end_device_ids;
    if (ids.device_id !== t.deviceId || ids.application_ids.application_id !== t.applicationId) {
      return fail('E_SOURCE_TOPIC_MISMATCH', `topic ${t.applicationId}/${t.deviceId}, body ${ids.application_ids.application_id}/${ids.device_id}`);
    }
  }
  return parseTtsUplink(j.json, opts);
}

/** A webhook request body (the webhook's "uplink message" path). */
export function parseTtsWebhook(body: Uint8Array | string, opts: TtsParseOptions): UplinkResult {
  const j = decodeJson(body);
  if (!j.ok) return j;
  return parseTtsUplink(j.json, opts);
}

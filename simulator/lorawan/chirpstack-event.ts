/**
 * ChirpStack v4 MQTT integration uplink events, built the way ChirpStack emits them: the
 * `integration.UplinkEvent` protobuf (chirpstack api/proto/integration/integration.proto, rxInfo
 * from gw/gw.proto) rendered as proto3 canonical JSON on
 * `application/{applicationId}/device/{devEui}/event/up`
 * (https://www.chirpstack.io/docs/chirpstack/integrations/mqtt.html).
 *
 * Two properties of the real thing matter to a consumer and are kept here:
 * - proto3 JSON omits fields at their default value (https://protobuf.dev/programming-guides/json/):
 *   `fCnt` 0, `confirmed` false, `adr` false, `dr` 0 and `snr` 0 are absent, not false/zero;
 * - `time` and `nsTime` carry nanoseconds (e.g. "2026-11-24T09:15:00.123456789Z"), which a
 *   consumer must truncate to the contract's milliseconds.
 * Field order and names follow the real sample in test/simulator/lorawan/fixtures/chirpstack-v4-up.json.
 */
import { z } from 'zod';

/** What the builder needs; validated so a bad simulator setup fails here, not in the gateway. */
export const uplinkEventInputSchema = z.object({
  deduplicationId: z.uuid(),
  /** Network server receive time, ms since epoch (the contract's resolution). */
  timeMs: z.number().int().min(0),
  /** Sub-millisecond part of the server time, 0..999 999 ns, so `time` looks like ChirpStack's. */
  subMsNanos: z.number().int().min(0).max(999_999),
  tenant: z.object({ id: z.string().min(1), name: z.string().min(1) }),
  application: z.object({ id: z.string().min(1), name: z.string().min(1) }),
  deviceProfile: z.object({ id: z.string().min(1), name: z.string().min(1) }),
  deviceName: z.string().min(1),
  devEui: z.string().regex(/^[0-9a-f]{16}$/),
  tags: z.record(z.string(), z.string()),
  devAddr: z.string().regex(/^[0-9a-f]{8}$/),
  adr: z.boolean(),
  /** EU868 data rates 0..5 are LoRa SF12..SF7 at 125 kHz (LoRaWAN Regional Parameters RP002 §2.4.3). */
  dr: z.number().int().min(0).max(5),
  fCnt: z.number().int().min(0).max(0xffff_ffff),
  fPort: z.number().int().min(1).max(223),
  confirmed: z.boolean(),
  bytes: z.custom<Uint8Array>((v) => v instanceof Uint8Array, "must be a Uint8Array"),
  /** Hz; EU868 default channels 868.1/868.3/868.5 MHz. */
  frequency: z.number().int().min(100_000_000).max(1_000_000_000),
  rx: z
    .array(
      z.object({
        gatewayId: z.string().regex(/^[0-9a-f]{16}$/),
        uplinkId: z.number().int().min(0).max(0xffff_ffff),
        rssi: z.number().int().min(-200).max(20),
        snr: z.number().min(-40).max(40),
        channel: z.number().int().min(0),
        rfChain: z.number().int().min(0).max(1),
        /** Opaque 4-byte gateway context (the concentrator counter), base64 in the JSON. */
        context: z.custom<Uint8Array>((v) => v instanceof Uint8Array, "must be a Uint8Array"),
        location: z.object({ latitude: z.number(), longitude: z.number() }).optional(),
      }),
    )
    .min(1),
});

export type UplinkEventInput = z.input<typeof uplinkEventInputSchema>;

export interface ChirpstackUpEvent {
  topic: string;
  /** The JSON object; publish `JSON.stringify(event)`. */
  event: Record<string, unknown>;
}

/** `YYYY-MM-DDTHH:mm:ss.sssnnnnnnZ`: the ms instant plus six more digits of nanoseconds. */
export function chirpstackTime(timeMs: number, subMsNanos: number): string {
  const iso = new Date(timeMs).toISOString();
  return `${iso.slice(0, -1)}${String(subMsNanos).padStart(6, '0')}Z`;
}

export function chirpstackUpTopic(applicationId: string, devEui: string): string {
  return `application/${applicationId}/device/${devEui}/event/up`;
}

/** Adds `key: value` unless value is the proto3 default (0, false), which canonical JSON omits. */
function nonDefault<T extends number | boolean>(key: string, value: T): Record<string, T> {
  return value === 0 || value === false ? {} : { [key]: value };
}

export function buildChirpstackUpEvent(input: UplinkEventInput): ChirpstackUpEvent {
  const i = uplinkEventInputSchema.parse(input);
  const time = chirpstackTime(i.timeMs, i.subMsNanos);
  const spreadingFactor = 12 - i.dr;
  const event: Record<string, unknown> = {
    deduplicationId: i.deduplicationId,
    time,
    deviceInfo: {
      tenantId: i.tenant.id,
      tenantName: i.tenant.name,
      applicationId: i.application.id,
      applicationName: i.application.name,
      deviceProfileId: i.deviceProfile.id,
      deviceProfileName: i.deviceProfile.name,
      deviceName: i.deviceName,
      devEui: i.devEui,
      deviceClassEnabled: 'CLASS_A',
      tags: i.tags,
    },
    devAddr: i.devAddr,
    ...nonDefault('adr', i.adr),
    ...nonDefault('dr', i.dr),
    ...nonDefault('fCnt', i.fCnt),
    fPort: i.fPort,
    ...nonDefault('confirmed', i.confirmed),
    data: Buffer.from(i.bytes).toString('base64'),
    rxInfo: i.rx.map((r) => ({
      gatewayId: r.gatewayId,
      uplinkId: r.uplinkId,
      nsTime: time,
      rssi: r.rssi,
      ...nonDefault('snr', r.snr),
      ...nonDefault('channel', r.channel),
      ...nonDefault('rfChain', r.rfChain),
      ...(r.location ? { location: r.location } : {}),
      context: Buffer.from(r.context).toString('base64'),
      metadata: { region_config_id: 'eu868', region_common_name: 'EU868' },
      crcStatus: 'CRC_OK',
    })),
    txInfo: {
      frequency: i.frequency,
      modulation: { lora: { bandwidth: 125_000, spreadingFactor, codeRate: 'CR_4_5' } },
    },
  };
  return { topic: chirpstackUpTopic(i.application.id, i.devEui), event };
}

/**
 * MQTT message formats a local source understands, each turned into a MqttParseFn:
 * - chirpstack-v4 / tts-v3: LNS uplink envelope → LoRaWAN uplink → device model decoder (picked and
 *   built by model-resolver.ts: gateway config `devices`, else the LNS device tags) + a health
 *   reading from the radio metadata;
 * - zigbee2mqtt: state messages, device list from `bridge/devices` (devices/sources/zigbee2mqtt.ts);
 * - readings-json: the contract's reading inputs as JSON (one object or an array): simulators,
 *   Node-RED flows and tests publish these.
 */
import type { ReadingInput } from '../../devices/contract/reading.schema.ts';
import { DecodeError } from '../../devices/models/device-model.ts';
import { parseChirpstackMqtt } from '../../devices/sources/chirpstack-v4.ts';
import { uplinkHealthReading, type UplinkResult } from '../../devices/sources/lorawan-uplink.ts';
import { decodeJson } from '../../devices/sources/source-json.ts';
import { parseTtsMqtt } from '../../devices/sources/tts-v3.ts';
import { Zigbee2mqttSource } from '../../devices/sources/zigbee2mqtt.ts';
import type { DeviceFacts } from '../devices/device-facts.ts';
import type { LorawanModelResolver } from './model-resolver.ts';
import type { MqttParseFn, ParseOutcome } from './source.ts';

export const MQTT_FORMATS = ['chirpstack-v4', 'tts-v3', 'zigbee2mqtt', 'readings-json'] as const;
export type MqttFormat = (typeof MQTT_FORMATS)[number];

export interface FormatContext {
  /** Picks the decoder of a LoRaWAN uplink (shared by every LoRaWAN source of the gateway). */
  models: LorawanModelResolver;
  zigbeeBaseTopic?: string;
}

function decodeUplink(result: UplinkResult, receivedAtMs: number, ctx: FormatContext): ParseOutcome {
  if (!result.ok) return { ok: false, code: result.code, detail: result.detail };
  const up = result.uplink;
  const resolved = ctx.models.resolve(up.devEui, up.tags);
  if (!resolved.ok) return resolved;
  const model = resolved.model;
  let decoded: ReadingInput[];
  try {
    decoded = model.decode(up.fPort, up.bytes, { device: up.devEui, time: up.time });
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, code: err.code, detail: err.message };
    throw err;
  }
  const readings: unknown[] = decoded.map((r) => (r.timeSource === undefined ? { ...r, timeSource: up.timeSource } : r));
  const health = uplinkHealthReading(up, new Date(receivedAtMs).toISOString());
  if (health !== null) readings.push(health);
  // What the birth says about the device: the model's declaration and the LNS's tags and name.
  const interval = ctx.models.intervalOf(up.devEui, up.tags);
  const facts: DeviceFacts = {
    device: up.devEui,
    model: model.id,
    kinds: model.kinds,
    deviceClass: model.power,
    labels: up.tags ?? {},
    ...(up.deviceName !== undefined ? { name: up.deviceName } : {}),
    ...(interval !== undefined ? { expectedIntervalS: interval } : {}),
  };
  return { ok: true, readings, devices: [facts] };
}

export function createMqttParser(format: MqttFormat, ctx: FormatContext): MqttParseFn {
  switch (format) {
    case 'chirpstack-v4':
      return (topic, payload, receivedAtMs) => decodeUplink(parseChirpstackMqtt(topic, payload, { receivedAtMs }), receivedAtMs, ctx);
    case 'tts-v3':
      return (topic, payload, receivedAtMs) => decodeUplink(parseTtsMqtt(topic, payload, { receivedAtMs }), receivedAtMs, ctx);
    case 'zigbee2mqtt': {
      const z2m = new Zigbee2mqttSource(ctx.zigbeeBaseTopic !== undefined ? { baseTopic: ctx.zigbeeBaseTopic } : {});
      return (topic, payload, receivedAtMs) => {
        const r = z2m.handleMessage(topic, payload, receivedAtMs);
        if (!r.ok) return { ok: false, code: r.code, detail: r.detail };
        if (r.kind !== 'readings') return { ok: true, readings: [] };
        // The friendly name is what installers name after the room; the rules engine matches on it.
        return { ok: true, readings: r.readings, devices: [{ device: r.device, name: r.friendlyName }] };
      };
    }
    case 'readings-json':
      return (_topic, payload) => {
        const j = decodeJson(payload);
        if (!j.ok) return { ok: false, code: j.code, detail: j.detail };
        return { ok: true, readings: Array.isArray(j.json) ? j.json : [j.json] };
      };
  }
}

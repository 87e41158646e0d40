/**
 * What the gateway knows about a device besides its readings, gathered where it is known (the
 * decoder that handled the uplink, the LNS tags, the zigbee2mqtt friendly name) and turned into the
 * device birth of devices/contract/device-messages.schema.ts.
 */
import type { DeviceClass, DeviceSource } from '../../devices/contract/device-messages.schema.ts';
import type { Reading, ReadingKind } from '../../devices/contract/reading.schema.ts';

export interface DeviceFacts {
  device: string;
  /** Device model id (devices/models), when a decoder picked one. */
  model?: string;
  /** Kinds the model can report (its declaration), beyond those already seen in readings. */
  kinds?: readonly ReadingKind[];
  deviceClass?: DeviceClass;
  expectedIntervalS?: number;
  name?: string;
  labels?: Readonly<Record<string, string>>;
}

/** Model id announced for a device whose source names no model (readings-json, Node-RED, webhooks). */
export const UNKNOWN_MODEL = 'unknown';

/**
 * Class announced when nothing says how the device is powered. Battery, because its liveness
 * timeout is the long one (issue 4: mains 10 min, battery 25 h): a wrong guess then delays an
 * offline alert instead of raising false ones every night.
 */
export const DEFAULT_DEVICE_CLASS: DeviceClass = 'battery';

/**
 * Units are fixed by field name in the reading contract (README "Data model"; decoders convert
 * vendor units before a value enters a reading), so the unit of a field is known from its name.
 */
export const FIELD_UNITS: Readonly<Record<string, string>> = {
  periodIn: 'people',
  periodOut: 'people',
  periodSeconds: 's',
  totalIn: 'people',
  totalOut: 'people',
  occupied: 'boolean',
  count: 'people',
  open: 'boolean',
  openings: 'count',
  temperature: '°C',
  humidity: '%RH',
  co2: 'ppm',
  tvoc: 'ppb',
  pressure: 'hPa',
  illuminance: 'lux',
  battery: '%',
  rssi: 'dBm',
  snr: 'dB',
};

/** The measured fields of a reading (those with a unit), e.g. `temperature`, `co2`. */
export function measuredFields(r: Reading): string[] {
  return Object.keys(r).filter((k) => FIELD_UNITS[k] !== undefined && (r as Record<string, unknown>)[k] !== undefined);
}

/** Which gateway source type a configured source is, for the birth's `source` (the rules engine matches on it). */
export function deviceSourceOf(source: { type: 'mqtt'; format: string } | { type: 'http' } | { type: 'nodered' }): DeviceSource {
  if (source.type === 'http') return 'disruptive-technologies';
  if (source.type === 'nodered') return 'direct';
  switch (source.format) {
    case 'chirpstack-v4':
      return 'chirpstack';
    case 'tts-v3':
      return 'tts';
    case 'zigbee2mqtt':
      return 'zigbee2mqtt';
    default:
      return 'direct';
  }
}

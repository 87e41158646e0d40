/**
 * Which decoder an uplink gets. The device model registry (devices/models/index.ts) is the one list
 * of models; this picks one per uplink and builds it with the device's settings:
 *
 * 1. the model id: the gateway config's `devices[devEui].model`, else the LNS device tag `model`
 *    (ChirpStack v4 `deviceInfo.tags`, The Things Stack v3 end-device `attributes`); the config wins
 *    so an installer can correct a wrong tag at the site without touching the LNS;
 * 2. the reporting interval of people counters whose uplink does not carry it (Milesight VS133 /
 *    VS135 / VS350: period counts cover "the reporting interval", VS_Series/VS13x/README.md): the
 *    config's `devices[devEui].reportIntervalSeconds`, else the tag `reportIntervalSeconds`, else the
 *    decoder's documented default (vs13x-format.ts).
 *
 * Failures are answers, not exceptions: an unknown device, an unknown model or an unusable interval
 * tag become a reason code that the source counts and keeps at /rejected.
 */
import { z } from 'zod';
import type { DecodeErrorCode, LorawanDeviceModel } from '../../devices/models/device-model.ts';
import { findModel } from '../../devices/models/index.ts';
import { createVs133 } from '../../devices/models/milesight/vs133.ts';
import { createVs135 } from '../../devices/models/milesight/vs135.ts';
import { createVs350 } from '../../devices/models/milesight/vs350.ts';

/** LNS device tag / TTS attribute naming our device model id (e.g. "milesight-vs133"). */
export const MODEL_TAG = 'model';
/** LNS device tag / TTS attribute with the counter's reporting interval in seconds (e.g. "60"). */
export const REPORT_INTERVAL_TAG = 'reportIntervalSeconds';

/** Sanity bound on a configured interval: a tag like "3600000" (ms typed for s) is refused, not believed. */
export const MAX_REPORT_INTERVAL_SECONDS = 86_400;

export const reportIntervalSchema = z.number().int().min(1).max(MAX_REPORT_INTERVAL_SECONDS);
const reportIntervalTagSchema = z.string().regex(/^[0-9]+$/, 'must be whole seconds').transform(Number).pipe(reportIntervalSchema);

/** Models whose decoder needs the device's reporting interval, by id → factory. */
const INTERVAL_MODELS: ReadonlyMap<string, (reportIntervalSeconds: number) => LorawanDeviceModel> = new Map([
  ['milesight-vs133', (s: number) => createVs133({ reportIntervalSeconds: s })],
  ['milesight-vs135', (s: number) => createVs135({ reportIntervalSeconds: s })],
  ['milesight-vs350', (s: number) => createVs350({ reportIntervalSeconds: s })],
]);

/** Per-device settings from the gateway config (`devices`), keyed by lower-case DevEUI. */
export interface DeviceSettings {
  model?: string | undefined;
  reportIntervalSeconds?: number | undefined;
}

export type ModelResolution = { ok: true; model: LorawanDeviceModel } | { ok: false; code: DecodeErrorCode; detail: string };

export class LorawanModelResolver {
  private readonly devices: ReadonlyMap<string, DeviceSettings>;
  /** Interval-specific decoders, built once per (model, interval). */
  private readonly built = new Map<string, LorawanDeviceModel>();

  constructor(
    devices: Readonly<Record<string, DeviceSettings>>,
    private readonly registry: (id: string) => LorawanDeviceModel | undefined = findModel,
  ) {
    this.devices = new Map(Object.entries(devices).map(([eui, s]) => [eui.toLowerCase(), s]));
  }

  /** The device's configured reporting interval (config, else LNS tag), for its birth; undefined when neither says. */
  intervalOf(devEui: string, tags: Readonly<Record<string, string>> | undefined): number | undefined {
    const configured = this.devices.get(devEui.toLowerCase())?.reportIntervalSeconds;
    if (configured !== undefined) return configured;
    const tag = tags?.[REPORT_INTERVAL_TAG];
    if (tag === undefined) return undefined;
    const parsed = reportIntervalTagSchema.safeParse(tag);
    return parsed.success ? parsed.data : undefined;
  }

  resolve(devEui: string, tags: Readonly<Record<string, string>> | undefined): ModelResolution {
    const settings = this.devices.get(devEui.toLowerCase());
    const modelId = settings?.model ?? tags?.[MODEL_TAG];
    if (modelId === undefined) {
      return { ok: false, code: 'E_DECODE_UNKNOWN_DEVICE', detail: `no model for DevEUI ${devEui} (gateway config "devices" or LNS device tag "${MODEL_TAG}")` };
    }
    const base = this.registry(modelId);
    if (base === undefined) return { ok: false, code: 'E_DECODE_UNKNOWN_MODEL', detail: `model "${modelId}" (DevEUI ${devEui}) is not supported` };
    const factory = INTERVAL_MODELS.get(modelId);
    if (factory === undefined) return { ok: true, model: base };

    let interval = settings?.reportIntervalSeconds;
    if (interval === undefined) {
      const tag = tags?.[REPORT_INTERVAL_TAG];
      if (tag === undefined) return { ok: true, model: base };
      const parsed = reportIntervalTagSchema.safeParse(tag);
      if (!parsed.success) {
        // A wrong interval would scale every period count wrongly; refusing is the visible option.
        return {
          ok: false,
          code: 'E_DECODE_BAD_VALUE',
          detail: `LNS tag ${REPORT_INTERVAL_TAG}="${tag}" of DevEUI ${devEui} is not 1..${MAX_REPORT_INTERVAL_SECONDS} whole seconds`,
        };
      }
      interval = parsed.data;
    }
    const key = `${modelId}@${interval}`;
    let model = this.built.get(key);
    if (model === undefined) {
      model = factory(interval);
      this.built.set(key, model);
    }
    return { ok: true, model };
  }
}

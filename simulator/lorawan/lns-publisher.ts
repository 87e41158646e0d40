/**
 * Publishes the simulator's readings as a site LoRaWAN network server would: one ChirpStack v4
 * uplink event per device per instant, with the vendor's payload bytes (encoders.ts) and radio
 * metadata, on the site's local MQTT broker. The gateway (format chirpstack-v4) then does what it
 * does with real sensors: parse the event, pick the decoder, decode the bytes.
 *
 * How the gateway picks the decoder: each event's `deviceInfo.tags.model` is our device model id
 * (devices/models/index.ts), as an installer would set a ChirpStack device tag. `deviceModelMap`
 * gives the same DevEUI → model id mapping for the gateway config's `devices`, which takes
 * precedence over the tag (gateway/sources/formats.ts).
 *
 * What a real device cannot send is counted, not hidden (stats.droppedFields / unencodable):
 * a WS301 has no openings counter, an AM319's TVOC and light level are not in the contract's
 * units, and rssi/snr are not payload but the radio metadata of the uplink that carries them.
 *
 * Delivery: QoS 1, an event counts as published only on its PUBACK [MQTT-4.3.2]; at most
 * `maxInFlight` await it, and `publishStep` waits when that many are outstanding.
 */
import type { MqttClient } from 'mqtt';
import { PlatformError } from '../../devices/contract/errors.ts';
import type { ReadingInput } from '../../devices/contract/reading.schema.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { hash32, mulberry32 } from '../model.ts';
import type { SimDevice, SimStep } from '../model.ts';
import { buildChirpstackUpEvent } from './chirpstack-event.ts';
import { EncodeError, carriesBattery, encoderFor } from './encoders.ts';

/** EU868 default channels (LoRaWAN Regional Parameters RP002-1.0.4 §2.4.2). */
const EU868_DEFAULT_CHANNELS = [868_100_000, 868_300_000, 868_500_000] as const;

export interface LnsPublisherOptions {
  client: Pick<MqttClient, 'publishAsync'>;
  /** Uplink events awaiting PUBACK at once. */
  maxInFlight: number;
  /** Seeds the radio model and the event ids, so a run is reproducible. */
  seed: number;
  /** The simulation step, which is the counters' reporting interval (their period counts' length). */
  stepSeconds: number;
  tenant?: { id: string; name: string };
}

export interface LnsPublishStats {
  uplinks: number;
  failedUplinks: number;
  /** Readings that went into an uplink (possibly without some fields, see droppedFields). */
  readings: number;
  /** Readings no uplink could carry, by EncodeError code. */
  unencodable: Record<string, number>;
  /** Reading fields the device's format has no place for, by `kind.field`. */
  droppedFields: Record<string, number>;
}

interface DeviceState {
  device: SimDevice;
  torg: Torg;
  fCnt: number;
  devAddr: string;
  rssi: number;
  snr: number;
  gatewayId: string;
  /** Simulator line name → VS133 line (line-1..line-4). */
  lines: ReadonlyMap<string, string>;
}

/** The gateway config's `devices`: DevEUI → model id. */
export function deviceModelMap(devices: readonly SimDevice[]): Record<string, string> {
  return Object.fromEntries(devices.map((d) => [d.id, d.model]));
}

/**
 * A VS133 names its lines line-1..line-4 (vs13x-format.ts), and the torg config names an entrance's
 * lines as its counter reports them (README, torg model), since that name is the InfluxDB line tag:
 * a configured `line-n` is the device's line n wherever it stands in the list. Any other name
 * ("main") takes the lowest line number no configured name claims; more than four lines are left
 * unmapped, and the encoder refuses them (E_ENCODE_UNREPRESENTABLE), counted by the publisher.
 */
export function vs133Lines(device: SimDevice): Map<string, string> {
  const names = device.lines ?? [];
  const claimed = new Set(names.filter((n) => /^line-[1-4]$/.test(n)));
  const out = new Map<string, string>();
  let next = 1;
  for (const name of names) {
    if (claimed.has(name)) {
      out.set(name, name);
      continue;
    }
    while (next <= 4 && claimed.has(`line-${next}`)) next++;
    if (next > 4) continue;
    const line = `line-${next}`;
    claimed.add(line);
    out.set(name, line);
  }
  return out;
}

/**
 * Where the installer put the device, as ChirpStack device tags (the gateway passes LNS tags on as the
 * birth's `labels`, gateway/sources/formats.ts), so that assignment rules place it without an admin
 * (config/assignment-rules.stack.json). Zone sensors carry `zone`; counters and door contacts stand at
 * an entrance and carry `entrance` and `line`, since a place on an entrance names one counting line
 * (devices/contract/device-messages.schema.ts). A counter's readings still name their own line; the
 * live state and the metrics take only the entrance from its place (dashboards/live/live-state.ts).
 */
export function installerTags(device: SimDevice, torg: Torg): Record<string, string> {
  if (device.zone !== undefined) return { zone: device.zone };
  if (device.entrance === undefined) return {};
  const line = device.lines?.[0] ?? torg.entrances.find((e) => e.id === device.entrance)?.lines[0];
  return line === undefined ? { entrance: device.entrance } : { entrance: device.entrance, line };
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export class LnsPublisher {
  private readonly devices = new Map<string, DeviceState>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly rng: () => number;
  private firstError: unknown;
  readonly stats: LnsPublishStats = { uplinks: 0, failedUplinks: 0, readings: 0, unencodable: {}, droppedFields: {} };

  constructor(private readonly opts: LnsPublisherOptions) {
    if (!(opts.maxInFlight >= 1)) throw new PlatformError('E_CONFIG_INVALID', `max in-flight must be ≥ 1, got ${opts.maxInFlight}`);
    this.rng = mulberry32(hash32(`${opts.seed}:lns`));
  }

  /** Registers a torg's devices (the LNS "application" of that torg). */
  addTorg(torg: Torg, devices: readonly SimDevice[]): void {
    const gatewayId = `${hex32(hash32(`${torg.id}/lns-gateway`))}${hex32(hash32(`${torg.id}/lns-gateway#2`))}`;
    for (const d of devices) {
      const r = mulberry32(hash32(`${this.opts.seed}:radio:${d.id}`));
      this.devices.set(d.id, {
        device: d,
        torg,
        fCnt: 0,
        devAddr: hex32(hash32(`devaddr:${d.id}`)),
        // Indoor devices 5–40 m from the site gateway: RSSI −70..−110 dBm, SNR −5..+10 dB.
        rssi: -70 - 40 * r(),
        snr: 10 - 15 * r(),
        gatewayId,
        lines: vs133Lines(d),
      });
    }
  }

  /** Publishes one simulator step: one uplink per device per distinct reading time. */
  async publishStep(step: SimStep): Promise<void> {
    const groups = new Map<string, { state: DeviceState; time: string; readings: ReadingInput[] }>();
    for (const r of step.readings) {
      const state = this.devices.get(r.device);
      if (!state) {
        bump(this.stats.unencodable, 'E_ENCODE_UNKNOWN_DEVICE');
        continue;
      }
      const key = `${r.device}|${r.time}`;
      let g = groups.get(key);
      if (!g) {
        g = { state, time: r.time, readings: [] };
        groups.set(key, g);
      }
      g.readings.push(r);
    }
    for (const g of groups.values()) await this.publishUplink(g.state, g.time, g.readings);
  }

  private async publishUplink(state: DeviceState, time: string, readings: ReadingInput[]): Promise<void> {
    const { device } = state;
    // rssi/snr of a health reading are this uplink's radio metadata; battery travels in the
    // payload if the model has a battery channel.
    let radio: { rssi?: number; snr?: number } = {};
    const payloadReadings: ReadingInput[] = [];
    for (const r of readings) {
      if (r.kind === 'health') {
        radio = { ...(r.rssi !== undefined ? { rssi: r.rssi } : {}), ...(r.snr !== undefined ? { snr: r.snr } : {}) };
        if (r.battery !== undefined) {
          if (carriesBattery(device.model)) payloadReadings.push({ kind: 'health', device: r.device, time: r.time, battery: r.battery });
          else bump(this.stats.droppedFields, 'health.battery');
        }
      } else if (r.kind === 'counter') {
        const line = state.lines.get(r.line ?? 'main');
        payloadReadings.push(line === undefined ? r : { ...r, line });
      } else {
        payloadReadings.push(r);
      }
    }
    let fPort: number;
    let bytes: Uint8Array;
    try {
      const encoded = encoderFor(device.model)(payloadReadings, { reportIntervalSeconds: this.opts.stepSeconds });
      fPort = encoded.fPort;
      bytes = encoded.bytes;
      for (const f of encoded.dropped) bump(this.stats.droppedFields, f);
    } catch (err) {
      if (err instanceof EncodeError) {
        bump(this.stats.unencodable, err.code, readings.length);
        return;
      }
      throw err;
    }

    const rssi = radio.rssi ?? Math.round(state.rssi + (this.rng() - 0.5) * 6);
    const snr = radio.snr ?? Math.round((state.snr + (this.rng() - 0.5) * 3) * 10) / 10;
    // ADR settles a well-heard device at DR5 (SF7) and a weak one lower (RP002 §2.4.3).
    const dr = rssi > -100 ? 5 : rssi > -110 ? 4 : 3;
    const fCnt = state.fCnt;
    state.fCnt = (state.fCnt + 1) >>> 0;
    const channelIndex = Math.floor(this.rng() * EU868_DEFAULT_CHANNELS.length);
    const { topic, event } = buildChirpstackUpEvent({
      deduplicationId: this.uuid(),
      timeMs: Date.parse(time),
      subMsNanos: Math.floor(this.rng() * 1_000_000),
      tenant: this.opts.tenant ?? { id: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242', name: 'Asker kommune' },
      application: { id: state.torg.id, name: state.torg.name },
      deviceProfile: { id: this.uuidFor(`profile:${device.model}`), name: device.model },
      deviceName: `${device.role}-${device.entrance ?? device.zone ?? device.id}`,
      devEui: device.id,
      tags: {
        model: device.model,
        torg: state.torg.id,
        // Period counts cover the device's reporting interval, which the VS133 uplink does not carry.
        ...(device.role === 'counter' ? { reportIntervalSeconds: String(this.opts.stepSeconds) } : {}),
        ...installerTags(device, state.torg),
      },
      devAddr: state.devAddr,
      adr: true,
      dr,
      fCnt,
      fPort,
      confirmed: false,
      bytes,
      frequency: EU868_DEFAULT_CHANNELS[channelIndex] ?? EU868_DEFAULT_CHANNELS[0],
      rx: [
        {
          gatewayId: state.gatewayId,
          uplinkId: Math.floor(this.rng() * 0x1_0000_0000),
          rssi,
          snr,
          channel: channelIndex,
          rfChain: channelIndex === 2 ? 1 : 0,
          context: Uint8Array.from([0, 1, 2, 3].map(() => Math.floor(this.rng() * 256))),
        },
      ],
    });
    this.stats.readings += readings.length;

    while (this.inFlight.size >= this.opts.maxInFlight) await Promise.race(this.inFlight);
    const p: Promise<void> = this.opts.client
      .publishAsync(topic, JSON.stringify(event), { qos: 1 })
      .then(
        () => {
          this.stats.uplinks++;
        },
        (err: unknown) => {
          this.firstError ??= err;
          this.stats.failedUplinks++;
        },
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Waits for every PUBACK; throws E_MQTT_UNAVAILABLE if any uplink was not acknowledged. */
  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.firstError !== undefined) {
      throw new PlatformError('E_MQTT_UNAVAILABLE', `${this.stats.failedUplinks} uplink event(s) not acknowledged`, { cause: this.firstError });
    }
  }

  /** RFC 9562 version-4 layout from the seeded PRNG (reproducible, unlike crypto.randomUUID). */
  private uuid(): string {
    const b = Array.from({ length: 16 }, () => Math.floor(this.rng() * 256));
    return formatUuid(b);
  }

  private uuidFor(key: string): string {
    const r = mulberry32(hash32(key));
    return formatUuid(Array.from({ length: 16 }, () => Math.floor(r() * 256)));
  }
}

function formatUuid(b: number[]): string {
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Uplink encoders: the inverse of the device model decoders in devices/models/milesight/. A
 * simulated device's readings of one instant become the (FPort, bytes) its real counterpart would
 * send, in the vendor's own channel format, so the whole gateway decode path is exercised.
 *
 * Milesight framing (Milesight-IoT/SensorDecoders, every model README, "Payload" section): a
 * sequence of channel id (1 byte) + channel type (1 byte) + fixed-length little-endian data, on
 * FPort 85. The channel order follows the vendor's own examples (battery first, then the
 * measurements in channel-id order), so a golden payload is reproduced byte for byte.
 *
 * What the formats cannot carry is reported back in `dropped`, never silently lost: the caller
 * counts it. Values a format cannot represent (a head count above 255 on a VS121) throw an
 * EncodeError instead of being clamped into a different, plausible-looking number.
 */
import type { ReadingInput } from '../../devices/contract/reading.schema.ts';
import { MILESIGHT_UPLINK_PORT } from '../../devices/models/milesight/milesight-frame.ts';
import { DEFAULT_COUNTER_REPORT_INTERVAL_SECONDS } from '../../devices/models/milesight/vs13x-format.ts';

export type EncodeErrorCode = 'E_ENCODE_UNSUPPORTED_MODEL' | 'E_ENCODE_UNREPRESENTABLE' | 'E_ENCODE_NOTHING_TO_SEND';

export class EncodeError extends Error {
  readonly code: EncodeErrorCode;
  /** Encoding the same readings again fails again. */
  readonly retriable = false;
  constructor(code: EncodeErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'EncodeError';
    this.code = code;
  }
}

export interface EncodedUplink {
  fPort: number;
  bytes: Uint8Array;
  /** `kind.field` of every reading value the format has no place for (e.g. `climate.tvoc`). */
  dropped: string[];
}

export interface EncodeOptions {
  /**
   * VS13x: the reporting interval configured on the device. The uplink does not carry it, so a
   * period count whose periodSeconds differs would be decoded with the wrong interval: refused.
   */
  reportIntervalSeconds?: number;
}

/** Encodes the readings of one device at one instant; throws EncodeError. */
export type UplinkEncoder = (readings: readonly ReadingInput[], options?: EncodeOptions) => EncodedUplink;

/** Little-endian channel writer, the mirror of milesight-frame.ts FieldReader. */
class ChannelWriter {
  private readonly out: number[] = [];

  constructor(private readonly modelId: string) {}

  channel(id: number, type: number): this {
    this.out.push(id, type);
    return this;
  }

  private check(value: number, min: number, max: number, what: string): number {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new EncodeError('E_ENCODE_UNREPRESENTABLE', `${this.modelId}: ${what} = ${value} does not fit ${min}..${max}`);
    }
    return value;
  }

  u8(value: number, what: string): this {
    this.out.push(this.check(value, 0, 0xff, what));
    return this;
  }

  u16(value: number, what: string): this {
    const v = this.check(value, 0, 0xffff, what);
    this.out.push(v & 0xff, v >>> 8);
    return this;
  }

  i16(value: number, what: string): this {
    const v = this.check(value, -0x8000, 0x7fff, what) & 0xffff;
    this.out.push(v & 0xff, v >>> 8);
    return this;
  }

  u32(value: number, what: string): this {
    const v = this.check(value, 0, 0xffff_ffff, what);
    this.out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, Math.floor(v / 0x1000000) & 0xff);
    return this;
  }

  get length(): number {
    return this.out.length;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** Scales to the format's integer resolution; rounding to nearest is what a sensor's ADC does. */
function scaled(value: number, factor: number): number {
  return Math.round(value * factor);
}

function finish(modelId: string, w: ChannelWriter, dropped: string[]): EncodedUplink {
  if (w.length === 0) {
    throw new EncodeError('E_ENCODE_NOTHING_TO_SEND', `${modelId}: none of the readings has a channel in this format`);
  }
  return { fPort: MILESIGHT_UPLINK_PORT, bytes: w.bytes(), dropped };
}

function dropFields(reading: ReadingInput, carried: readonly string[], dropped: string[]): void {
  const envelope = new Set(['kind', 'device', 'time', 'receivedAt', 'timeSource', 'clockSuspect', 'line']);
  for (const [key, value] of Object.entries(reading)) {
    if (value !== undefined && !envelope.has(key) && !carried.includes(key)) dropped.push(`${reading.kind}.${key}`);
  }
}

/**
 * VS133/VS135 (Milesight-IoT/SensorDecoders VS_Series/VS13x/README.md): line n (1..4) has totals
 * on channels (0x03+3(n−1), 0xD2) in / (0x04+3(n−1), 0xD2) out as uint32, and the period count on
 * (0x05+3(n−1), 0xCC) as uint16 in + uint16 out. As in the vendor's TTN example, all totals come
 * first (line by line), then all period counts.
 */
function encodeVs13x(modelId: string): UplinkEncoder {
  return (readings, options = {}) => {
    const interval = options.reportIntervalSeconds ?? DEFAULT_COUNTER_REPORT_INTERVAL_SECONDS;
    const totals = new ChannelWriter(modelId);
    const periods = new ChannelWriter(modelId);
    const dropped: string[] = [];
    const seen = new Set<number>();
    for (const r of readings) {
      if (r.kind !== 'counter') {
        // rssi/snr are radio metadata the network server adds, not payload.
        dropFields(r, r.kind === 'health' ? ['rssi', 'snr'] : [], dropped);
        continue;
      }
      const m = /^line-([1-4])$/.exec(r.line ?? 'main');
      if (!m) throw new EncodeError('E_ENCODE_UNREPRESENTABLE', `${modelId}: line "${r.line ?? 'main'}" is not line-1..line-4`);
      const i = Number(m[1]) - 1;
      if (seen.has(i)) throw new EncodeError('E_ENCODE_UNREPRESENTABLE', `${modelId}: two readings for line-${i + 1} in one uplink`);
      seen.add(i);
      const line = `line-${i + 1}`;
      // The format has both totals or neither, and both period counts or neither (fixed layouts).
      if ((r.totalIn === undefined) !== (r.totalOut === undefined)) {
        throw new EncodeError('E_ENCODE_UNREPRESENTABLE', `${modelId}: ${line} needs both totalIn and totalOut`);
      }
      if ((r.periodIn === undefined) !== (r.periodOut === undefined)) {
        throw new EncodeError('E_ENCODE_UNREPRESENTABLE', `${modelId}: ${line} needs both periodIn and periodOut`);
      }
      if (r.totalIn !== undefined && r.totalOut !== undefined) {
        totals.channel(0x03 + 3 * i, 0xd2).u32(r.totalIn, `${line} total in`);
        totals.channel(0x04 + 3 * i, 0xd2).u32(r.totalOut, `${line} total out`);
      }
      if (r.periodIn !== undefined && r.periodOut !== undefined) {
        if (r.periodSeconds !== interval) {
          throw new EncodeError(
            'E_ENCODE_UNREPRESENTABLE',
            `${modelId}: ${line} period of ${r.periodSeconds ?? '?'} s, but the device reports every ${interval} s (the uplink cannot say otherwise)`,
          );
        }
        periods.channel(0x05 + 3 * i, 0xcc).u16(r.periodIn, `${line} period in`).u16(r.periodOut, `${line} period out`);
      }
    }
    if (totals.length + periods.length === 0) return finish(modelId, totals, dropped);
    return { fPort: MILESIGHT_UPLINK_PORT, bytes: Uint8Array.from([...totals.bytes(), ...periods.bytes()]), dropped };
  };
}

/** Battery 0x01 0x75, uint8 %, on every battery-powered Milesight model. */
function writeBattery(w: ChannelWriter, readings: readonly ReadingInput[]): void {
  for (const r of readings) {
    if (r.kind === 'health' && r.battery !== undefined) {
      w.channel(0x01, 0x75).u8(scaled(r.battery, 1), 'battery');
      return;
    }
  }
}

/** WS301 (ws-series/ws301/README.md): battery, then magnet status 0x03 0x00, 0 = close, 1 = open. */
const encodeWs301: UplinkEncoder = (readings) => {
  const w = new ChannelWriter('milesight-ws301');
  const dropped: string[] = [];
  writeBattery(w, readings);
  for (const r of readings) {
    if (r.kind === 'door') {
      // A WS301 reports its state; it keeps no count of openings.
      dropFields(r, ['open'], dropped);
      if (r.open !== undefined) w.channel(0x03, 0x00).u8(r.open ? 1 : 0, 'magnet status');
    } else if (r.kind === 'health') {
      // rssi/snr are radio metadata, set by the network server, not payload.
      dropFields(r, ['battery', 'rssi', 'snr'], dropped);
    } else {
      dropFields(r, [], dropped);
    }
  }
  return finish('milesight-ws301', w, dropped);
};

/**
 * VS121 (VS_Series/VS121/README.md "Payload Definition"): 0x04 0xC9 people_count_all(1) +
 * region_count(1) + region mask(2). The simulated device has no regions configured, so region
 * count and mask are 0 (as in the vendor's empty-room example 04C900000000).
 */
const encodeVs121: UplinkEncoder = (readings) => {
  const w = new ChannelWriter('milesight-vs121');
  const dropped: string[] = [];
  for (const r of readings) {
    if (r.kind !== 'presence') {
      dropFields(r, r.kind === 'health' ? ['rssi', 'snr'] : [], dropped);
      continue;
    }
    if (r.count === undefined) {
      throw new EncodeError('E_ENCODE_UNREPRESENTABLE', 'milesight-vs121: the VS121 reports a head count, the reading has none');
    }
    // The decoder derives occupied from the count; a reading that disagrees cannot survive a round trip.
    if (r.occupied !== r.count > 0) {
      throw new EncodeError('E_ENCODE_UNREPRESENTABLE', `milesight-vs121: occupied=${r.occupied} with count ${r.count}`);
    }
    w.channel(0x04, 0xc9).u8(r.count, 'people count').u8(0, 'region count').u16(0, 'region mask');
  }
  return finish('milesight-vs121', w, dropped);
};

/**
 * AM307 / AM319 (am-series/am307/README.md, am-series/am319-hcho/README.md): battery 0x01 0x75,
 * temperature 0x03 0x67 int16/10 °C, humidity 0x04 0x68 uint8/2 %RH, PIR 0x05 0x00 (0 idle,
 * 1 trigger), CO2 0x07 0x7D uint16 ppm, pressure 0x09 0x73 uint16/10 hPa. TVOC (the device
 * reports an IAQ index or µg/m³, not ppb) and illuminance (a level 0..5, not lux) have no
 * lossless mapping from the contract's units, so they are dropped and reported.
 */
function encodeAm30x(modelId: string): UplinkEncoder {
  return (readings) => {
    const w = new ChannelWriter(modelId);
    const dropped: string[] = [];
    writeBattery(w, readings);
    const climate = readings.find((r) => r.kind === 'climate');
    const presence = readings.find((r) => r.kind === 'presence');
    if (climate?.kind === 'climate' && climate.temperature !== undefined) {
      w.channel(0x03, 0x67).i16(scaled(climate.temperature, 10), 'temperature');
    }
    if (climate?.kind === 'climate' && climate.humidity !== undefined) {
      w.channel(0x04, 0x68).u8(scaled(climate.humidity, 2), 'humidity');
    }
    if (presence?.kind === 'presence') w.channel(0x05, 0x00).u8(presence.occupied ? 1 : 0, 'pir');
    if (climate?.kind === 'climate' && climate.co2 !== undefined) w.channel(0x07, 0x7d).u16(scaled(climate.co2, 1), 'co2');
    if (climate?.kind === 'climate' && climate.pressure !== undefined) {
      w.channel(0x09, 0x73).u16(scaled(climate.pressure, 10), 'pressure');
    }
    for (const r of readings) {
      if (r.kind === 'climate') dropFields(r, ['temperature', 'humidity', 'co2', 'pressure'], dropped);
      else if (r.kind === 'presence') dropFields(r, ['occupied'], dropped);
      else if (r.kind === 'health') dropFields(r, ['battery', 'rssi', 'snr'], dropped);
      else dropFields(r, [], dropped);
    }
    return finish(modelId, w, dropped);
  };
}

const ENCODERS: ReadonlyMap<string, UplinkEncoder> = new Map([
  ['milesight-vs133', encodeVs13x('milesight-vs133')],
  ['milesight-vs135', encodeVs13x('milesight-vs135')],
  ['milesight-ws301', encodeWs301],
  ['milesight-vs121', encodeVs121],
  ['milesight-am307', encodeAm30x('milesight-am307')],
  ['milesight-am319', encodeAm30x('milesight-am319')],
]);

/** Model ids an encoder exists for. */
export function encodableModels(): string[] {
  return [...ENCODERS.keys()];
}

/** Whether the model's payload has a battery channel (health.battery travels in the uplink). */
export function carriesBattery(modelId: string): boolean {
  return modelId === 'milesight-ws301' || modelId === 'milesight-am307' || modelId === 'milesight-am319';
}

export function encoderFor(modelId: string): UplinkEncoder {
  const e = ENCODERS.get(modelId);
  if (!e) throw new EncodeError('E_ENCODE_UNSUPPORTED_MODEL', `no encoder for model "${modelId}" (have: ${encodableModels().join(', ')})`);
  return e;
}

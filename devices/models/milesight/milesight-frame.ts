/**
 * Milesight uplink framing, shared by every Milesight model.
 *
 * Milesight payloads are a sequence of channels: channel id (1 byte) + channel type (1 byte) + data,
 * whose length is fixed by the (id, type) pair, little-endian throughout (Milesight-IoT/SensorDecoders,
 * every model README, "Payload" section). There is no length byte, so an unknown (id, type) pair
 * cannot be stepped over: the decoder stops with E_DECODE_UNKNOWN_CHANNEL instead of guessing.
 *
 * Each model supplies a table from (id, type) to a channel decoder; the decoder reads exactly its
 * documented bytes and writes converted values into a ReadingSink, which turns them into contract
 * readings and refuses values outside the contract's physical limits.
 */
import {
  climateReadingSchema,
  counterReadingSchema,
  healthReadingSchema,
  presenceReadingSchema,
} from '../../contract/reading.schema.ts';
import type { ReadingInput } from '../../contract/reading.schema.ts';
import { DecodeError } from '../device-model.ts';
import type { DecodeContext } from '../device-model.ts';

/**
 * Milesight sensors send application data on LoRaWAN FPort 85 (every example in
 * TheThingsNetwork/lorawan-devices vendor/milesight-iot/*-codec.yaml uses it). Other ports carry
 * nothing this decoder understands.
 */
export const MILESIGHT_UPLINK_PORT = 85;

/** Reads little-endian fields from a payload; every read checks the length first. */
export class FieldReader {
  private offset = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly modelId: string,
  ) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  get position(): number {
    return this.offset;
  }

  private need(n: number, what: string): number {
    const at = this.offset;
    if (at + n > this.bytes.length) {
      throw new DecodeError(
        'E_DECODE_TRUNCATED',
        `${this.modelId}: ${what} needs ${n} byte(s) at offset ${at}, payload has ${this.bytes.length}`,
      );
    }
    this.offset += n;
    return at;
  }

  private byteAt(i: number): number {
    // need() has checked the bounds; the fallback only satisfies noUncheckedIndexedAccess.
    return this.bytes[i] ?? 0;
  }

  u8(what: string): number {
    return this.byteAt(this.need(1, what));
  }

  u16(what: string): number {
    const at = this.need(2, what);
    return this.byteAt(at) | (this.byteAt(at + 1) << 8);
  }

  i16(what: string): number {
    const v = this.u16(what);
    return v >= 0x8000 ? v - 0x10000 : v;
  }

  u32(what: string): number {
    const at = this.need(4, what);
    // Multiply the top byte instead of shifting it: `<< 24` would make the result negative.
    return (
      this.byteAt(at) + (this.byteAt(at + 1) << 8) + (this.byteAt(at + 2) << 16) + this.byteAt(at + 3) * 0x1000000
    );
  }

  skip(n: number, what: string): void {
    this.need(n, what);
  }
}

type ClimateField = 'temperature' | 'humidity' | 'co2' | 'tvoc' | 'pressure' | 'illuminance';
type ClimateValues = Partial<Record<ClimateField, number>>;

interface CounterValues {
  periodIn?: number;
  periodOut?: number;
  periodSeconds?: number;
  totalIn?: number;
  totalOut?: number;
}

/** A historical record the device replays with its own timestamp (Unix seconds, device clock). */
export interface HistoryRecord {
  timestamp: number;
  climate?: ClimateValues;
  door?: boolean;
  counter?: { line: string } & CounterValues;
}

/** Within the contract's physical limits? Taken from the contract itself so the two cannot drift. */
function climateValueAllowed(field: ClimateField, value: number): boolean {
  return climateReadingSchema.shape[field].safeParse(value).success;
}

/**
 * Collects the values of one uplink. None of the Milesight formats used here documents an error
 * sentinel for these channels, so a value outside the contract's physical limits (e.g. CO2 0xFFFF =
 * 65 535 ppm, humidity byte 0xFF = 127.5 %RH, battery > 100 %) is treated as a sensor or
 * transmission fault and the field is dropped rather than emitted.
 */
export class ReadingSink {
  private readonly climate: ClimateValues = {};
  private battery: number | undefined;
  private doorOpen: boolean | undefined;
  private presence: { occupied: boolean; count?: number } | undefined;
  private readonly counters = new Map<string, CounterValues>();
  private readonly history: HistoryRecord[] = [];

  setClimate(field: ClimateField, value: number): void {
    if (climateValueAllowed(field, value)) this.climate[field] = value;
  }

  setBattery(percent: number): void {
    if (healthReadingSchema.shape.battery.safeParse(percent).success) this.battery = percent;
  }

  setDoorOpen(open: boolean): void {
    this.doorOpen = open;
  }

  setPresence(occupied: boolean, count?: number): void {
    if (count !== undefined && !presenceReadingSchema.shape.count.safeParse(count).success) {
      this.presence = { occupied };
      return;
    }
    this.presence = count === undefined ? { occupied } : { occupied, count };
  }

  setCounter(line: string, values: CounterValues): void {
    const current = this.counters.get(line) ?? {};
    this.counters.set(line, { ...current, ...values });
  }

  addHistory(record: HistoryRecord): void {
    this.history.push(record);
  }

  /** Readings in a fixed order: counters (by line, first seen first), presence, door, climate, health, history. */
  toReadings(ctx: DecodeContext): ReadingInput[] {
    const base = { device: ctx.device, time: ctx.time };
    const out: ReadingInput[] = [];
    for (const [line, values] of this.counters) {
      out.push({ ...base, kind: 'counter', line, ...values });
    }
    if (this.presence) out.push({ ...base, kind: 'presence', ...this.presence });
    if (this.doorOpen !== undefined) out.push({ ...base, kind: 'door', open: this.doorOpen });
    if (Object.keys(this.climate).length > 0) out.push({ ...base, kind: 'climate', ...this.climate });
    if (this.battery !== undefined) out.push({ ...base, kind: 'health', battery: this.battery });
    for (const h of this.history) out.push(...historyReadings(ctx.device, h));
    return out;
  }
}

function historyReadings(device: string, h: HistoryRecord): ReadingInput[] {
  // The record carries the device's own clock, so it is stamped with that time and marked as such
  // (contract: timeSource 'sensor'); the ingest's age/future checks judge whether the clock is sane.
  const base = { device, time: new Date(h.timestamp * 1000).toISOString(), timeSource: 'sensor' as const };
  const out: ReadingInput[] = [];
  if (h.counter) {
    const { line, ...values } = h.counter;
    if (counterReadingSchema.safeParse({ ...base, kind: 'counter', line, ...values }).success) {
      out.push({ ...base, kind: 'counter', line, ...values });
    }
  }
  if (h.door !== undefined) out.push({ ...base, kind: 'door', open: h.door });
  if (h.climate) {
    const climate: ClimateValues = {};
    for (const [field, value] of Object.entries(h.climate) as [ClimateField, number][]) {
      if (climateValueAllowed(field, value)) climate[field] = value;
    }
    if (Object.keys(climate).length > 0) out.push({ ...base, kind: 'climate', ...climate });
  }
  return out;
}

export type ChannelDecoder = (r: FieldReader, sink: ReadingSink) => void;
export type ChannelTable = ReadonlyMap<number, ChannelDecoder>;

/** Key of a channel in a table: id in the high byte, type in the low byte. */
export function channel(id: number, type: number): number {
  return (id << 8) | type;
}

/** A documented channel whose content has no place in the contract: step over its known length. */
export function ignore(length: number): ChannelDecoder {
  return (r) => r.skip(length, 'ignored channel');
}

/** An enumerated byte with documented values; anything else is malformed input. */
export function readEnum(r: FieldReader, what: string, allowed: readonly number[], modelId: string): number {
  const v = r.u8(what);
  if (!allowed.includes(v)) {
    throw new DecodeError('E_DECODE_BAD_VALUE', `${modelId}: ${what} = ${v}, documented values are ${allowed.join(', ')}`);
  }
  return v;
}

/**
 * Device attribute channels (0xFF xx) common to current Milesight firmware: versions, serial number,
 * class, reset and status. Lengths from the "Attribute" tables in Milesight-IoT/SensorDecoders
 * (e.g. em-series/em300-mcs/README.md; the serial number is 8 bytes although one table says 2).
 */
export const ATTRIBUTE_CHANNELS: ReadonlyArray<readonly [number, ChannelDecoder]> = [
  [channel(0xff, 0x01), ignore(1)], // IPSO version
  [channel(0xff, 0x09), ignore(2)], // hardware version
  [channel(0xff, 0x0a), ignore(2)], // firmware version
  [channel(0xff, 0xff), ignore(2)], // TSL version
  [channel(0xff, 0x16), ignore(8)], // serial number
  [channel(0xff, 0x0f), ignore(1)], // LoRaWAN class
  [channel(0xff, 0xfe), ignore(1)], // reset event
  [channel(0xff, 0x0b), ignore(1)], // device status
];

/** Battery level, channel 0x01 0x75: uint8, % (Milesight-IoT/SensorDecoders, all battery models). */
export const BATTERY_CHANNEL: readonly [number, ChannelDecoder] = [
  channel(0x01, 0x75),
  (r, sink) => sink.setBattery(r.u8('battery')),
];

/** Temperature, int16 / 10 °C. */
export function readTemperature(r: FieldReader): number {
  return r.i16('temperature') / 10;
}

/** Relative humidity, uint8 / 2 %RH. */
export function readHumidity(r: FieldReader): number {
  return r.u8('humidity') / 2;
}

/** Decodes one uplink with a model's channel table. */
export function decodeChannels(
  modelId: string,
  fPort: number,
  bytes: Uint8Array,
  ctx: DecodeContext,
  table: ChannelTable,
): ReadingInput[] {
  if (fPort !== MILESIGHT_UPLINK_PORT) {
    throw new DecodeError('E_DECODE_BAD_PORT', `${modelId}: uplinks arrive on FPort ${MILESIGHT_UPLINK_PORT}, got ${fPort}`);
  }
  if (bytes.length === 0) throw new DecodeError('E_DECODE_TRUNCATED', `${modelId}: empty payload`);
  const r = new FieldReader(bytes, modelId);
  const sink = new ReadingSink();
  while (!r.done) {
    const at = r.position;
    const id = r.u8('channel id');
    const type = r.u8('channel type');
    const decoder = table.get(channel(id, type));
    if (!decoder) {
      throw new DecodeError(
        'E_DECODE_UNKNOWN_CHANNEL',
        `${modelId}: channel 0x${hex(id)} type 0x${hex(type)} at offset ${at} is not in the documented format`,
      );
    }
    decoder(r, sink);
  }
  return sink.toReadings(ctx);
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

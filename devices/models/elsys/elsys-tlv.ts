/**
 * Elsys uplink payload: a sequence of [type byte][value bytes] records, the same on every Elsys
 * LoRaWAN sensor (ERS, ERS CO2, ERS Eye, EMS, EMS Door, EMS Desk, ...). The value length is fixed
 * by the type, so one table serves every model; the models decide which values become readings.
 *
 * Format: Elsys "Payload" documentation, https://www.elsys.se/en/elsys-payload/ (type list, sizes
 * and scaling), as also listed in TheThingsNetwork/lorawan-devices vendor/elsys/elsys.js. All
 * multi-byte values are big-endian.
 */
import { DecodeError } from '../device-model.ts';

/** Values this parser understands, in the units the Elsys doc gives them. */
export interface ElsysValues {
  /** °C (0x01, int16 / 10). */
  temperature?: number;
  /** %RH (0x02, uint8). */
  humidity?: number;
  /** lux (0x04, uint16). */
  light?: number;
  /** PIR motion count since the previous uplink (0x05, uint8). */
  motion?: number;
  /** ppm (0x06, uint16). */
  co2?: number;
  /** Battery voltage in mV (0x07, uint16). */
  vdd?: number;
  /** Pulse input 1 count since the previous uplink (0x0A, uint16). */
  pulse1?: number;
  /** Pulse input 1 accumulated count (0x0B, uint32). */
  pulse1Abs?: number;
  /** Digital input 1 level (0x0D, uint8: 0 or 1). */
  digital?: number;
  /** Accelerometer motion count (0x0F, uint8). */
  accMotion?: number;
  /** Occupancy state (0x11, uint8); its meaning differs per model. */
  occupancy?: number;
  /** hPa (0x14, uint32 / 1000). */
  pressure?: number;
  /** Pulse input 2 count since the previous uplink (0x16, uint16). */
  pulse2?: number;
  /** Pulse input 2 accumulated count (0x17, uint32). */
  pulse2Abs?: number;
  /** Digital input 2 level (0x1A, uint8). */
  digital2?: number;
  /** ppb (0x1C, uint16). */
  tvoc?: number;
}

type Reader = (bytes: Uint8Array, at: number) => Partial<ElsysValues>;

const u8 = (b: Uint8Array, at: number): number => b[at] ?? 0;
const u16 = (b: Uint8Array, at: number): number => (u8(b, at) << 8) | u8(b, at + 1);
const i16 = (b: Uint8Array, at: number): number => {
  const v = u16(b, at);
  return v >= 0x8000 ? v - 0x10000 : v;
};
// Multiplication instead of `<< 24` keeps values >= 2^31 positive.
const u32 = (b: Uint8Array, at: number): number => u8(b, at) * 0x1000000 + ((u8(b, at + 1) << 16) | (u8(b, at + 2) << 8) | u8(b, at + 3));

export interface ElsysTypeSpec {
  name: string;
  /** Value length in bytes, from the Elsys type table. */
  length: number;
  /** Absent for types we only skip (their length is documented, their value unused here). */
  read?: Reader;
}

/** Type byte → spec. Lengths from the Elsys payload doc; types not listed are refused. */
export const ELSYS_TYPES: ReadonlyMap<number, ElsysTypeSpec> = new Map<number, ElsysTypeSpec>([
  [0x01, { name: 'temperature', length: 2, read: (b, at) => ({ temperature: i16(b, at) / 10 }) }],
  [0x02, { name: 'humidity', length: 1, read: (b, at) => ({ humidity: u8(b, at) }) }],
  [0x03, { name: 'acceleration', length: 3 }],
  [0x04, { name: 'light', length: 2, read: (b, at) => ({ light: u16(b, at) }) }],
  [0x05, { name: 'motion', length: 1, read: (b, at) => ({ motion: u8(b, at) }) }],
  [0x06, { name: 'co2', length: 2, read: (b, at) => ({ co2: u16(b, at) }) }],
  [0x07, { name: 'vdd', length: 2, read: (b, at) => ({ vdd: u16(b, at) }) }],
  [0x08, { name: 'analog1', length: 2 }],
  [0x09, { name: 'gps', length: 6 }],
  [0x0a, { name: 'pulse1', length: 2, read: (b, at) => ({ pulse1: u16(b, at) }) }],
  [0x0b, { name: 'pulse1Abs', length: 4, read: (b, at) => ({ pulse1Abs: u32(b, at) }) }],
  [0x0c, { name: 'externalTemperature1', length: 2 }],
  [0x0d, { name: 'digital', length: 1, read: (b, at) => ({ digital: u8(b, at) }) }],
  [0x0e, { name: 'distance', length: 2 }],
  [0x0f, { name: 'accMotion', length: 1, read: (b, at) => ({ accMotion: u8(b, at) }) }],
  [0x10, { name: 'irTemperature', length: 4 }],
  [0x11, { name: 'occupancy', length: 1, read: (b, at) => ({ occupancy: u8(b, at) }) }],
  [0x12, { name: 'waterleak', length: 1 }],
  // 1 reference byte + 64 pixel bytes.
  [0x13, { name: 'grideye', length: 65 }],
  [0x14, { name: 'pressure', length: 4, read: (b, at) => ({ pressure: u32(b, at) / 1000 }) }],
  [0x15, { name: 'sound', length: 2 }],
  [0x16, { name: 'pulse2', length: 2, read: (b, at) => ({ pulse2: u16(b, at) }) }],
  [0x17, { name: 'pulse2Abs', length: 4, read: (b, at) => ({ pulse2Abs: u32(b, at) }) }],
  [0x18, { name: 'analog2', length: 2 }],
  [0x19, { name: 'externalTemperature2', length: 2 }],
  [0x1a, { name: 'digital2', length: 1, read: (b, at) => ({ digital2: u8(b, at) }) }],
  [0x1b, { name: 'analogUv', length: 4 }],
  [0x1c, { name: 'tvoc', length: 2, read: (b, at) => ({ tvoc: u16(b, at) }) }],
  [0x3d, { name: 'debug', length: 4 }],
]);

/**
 * Parse one Elsys TLV payload. Throws E_DECODE_TRUNCATED when a value runs past the end and
 * E_DECODE_UNKNOWN_CHANNEL for a type byte whose length the doc does not give (nothing after it
 * can be located, so skipping is impossible). `types` limits the accepted types (PCR2 uses the
 * Elsys layout with only three of them).
 */
export function parseElsysTlv(bytes: Uint8Array, types: ReadonlyMap<number, ElsysTypeSpec> = ELSYS_TYPES): ElsysValues {
  if (bytes.length === 0) throw new DecodeError('E_DECODE_TRUNCATED', 'empty Elsys payload');
  const values: ElsysValues = {};
  let at = 0;
  while (at < bytes.length) {
    const type = u8(bytes, at);
    const spec = types.get(type);
    if (spec === undefined) {
      throw new DecodeError('E_DECODE_UNKNOWN_CHANNEL', `Elsys type 0x${type.toString(16).padStart(2, '0')} at byte ${at}`);
    }
    const start = at + 1;
    if (start + spec.length > bytes.length) {
      throw new DecodeError('E_DECODE_TRUNCATED', `Elsys ${spec.name} needs ${spec.length} bytes at byte ${start}, ${bytes.length - start} left`);
    }
    if (spec.read) Object.assign(values, spec.read(bytes, start));
    at = start + spec.length;
  }
  return values;
}

/** LoRaWAN application ports are 1..223; 0 carries MAC commands and 224 is the test port (LoRaWAN 1.0.4 §4.3.2). */
export function isApplicationPort(fPort: number): boolean {
  return Number.isInteger(fPort) && fPort >= 1 && fPort <= 223;
}

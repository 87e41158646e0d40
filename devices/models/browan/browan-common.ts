/**
 * Layout shared by the Browan Tabs sensors (TBDW100, TBMS100, TBHV110): byte 0 is a status
 * bit field, byte 1 the battery, byte 2 the board temperature; the rest is model-specific and
 * little-endian. Source: Browan "Tabs" object-locator/sensor payload docs as implemented in
 * TheThingsNetwork/lorawan-devices vendor/browan/tbdw100.js, tbms100.js, tbhv110.js.
 *
 * Battery is (25 + bits 3..0) / 10 V: a voltage, and Browan gives no percentage curve, so no
 * health reading is derived. The board temperature (byte 2, bits 6..0 minus 32 °C) measures the
 * electronics inside the case, not the room, so it is not reported as climate either.
 */
import { climateReadingSchema } from '../../contract/reading.schema.ts';
import { DecodeError } from '../device-model.ts';

export function requirePortAndLength(model: string, fPort: number, expectedPort: number, bytes: Uint8Array, length: number): void {
  if (fPort !== expectedPort) throw new DecodeError('E_DECODE_BAD_PORT', `${model} sends readings on fPort ${expectedPort}, got ${fPort}`);
  if (bytes.length < length) throw new DecodeError('E_DECODE_TRUNCATED', `${model} uplink has ${bytes.length} of ${length} bytes`);
}

export const byteAt = (bytes: Uint8Array, at: number): number => bytes[at] ?? 0;
export const u16le = (bytes: Uint8Array, at: number): number => byteAt(bytes, at) | (byteAt(bytes, at + 1) << 8);
export const u24le = (bytes: Uint8Array, at: number): number => u16le(bytes, at) | (byteAt(bytes, at + 2) << 16);

type ClimateField = 'temperature' | 'humidity' | 'co2' | 'tvoc';
/** Keep a value only inside the contract's physical limits (a sensor fault is not a measurement). */
export function plausible(field: ClimateField, value: number): number | undefined {
  return climateReadingSchema.shape[field].safeParse(value).success ? value : undefined;
}

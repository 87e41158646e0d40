/**
 * A device model is data: who makes it, what it reports, and a pure decoder from its uplink bytes
 * to readings (style: zigbee-herdsman-converters' device definitions). Golden payloads live beside
 * each model (`<model>.golden.json`: bytes in, physical values out, with their source).
 */
import type { ReadingInput, ReadingKind } from '../contract/reading.schema.ts';

export interface DecodeContext {
  /** Hardware id of the device (DevEUI, lower-case hex), already taken from the envelope. */
  device: string;
  /** Observation time to stamp on readings, ISO UTC (from the network server or the gateway). */
  time: string;
}

/** Stable decode failure codes (counted per reason by the gateway). */
export type DecodeErrorCode =
  | 'E_DECODE_UNKNOWN_DEVICE'
  | 'E_DECODE_UNKNOWN_MODEL'
  | 'E_DECODE_BAD_PORT'
  | 'E_DECODE_TRUNCATED'
  | 'E_DECODE_UNKNOWN_CHANNEL'
  | 'E_DECODE_BAD_VALUE'
  | 'E_DECODE_BAD_ENVELOPE'
  | 'E_DECODE_BAD_SIGNATURE';

export class DecodeError extends Error {
  readonly code: DecodeErrorCode;
  /** Decoding the same bytes again will fail again: never retriable. */
  readonly retriable = false;
  constructor(code: DecodeErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'DecodeError';
    this.code = code;
  }
}

export interface LorawanDeviceModel {
  /** Stable id used in gateway config and the `decode` CLI, e.g. "milesight-vs133". */
  id: string;
  vendor: string;
  model: string;
  transport: 'lorawan';
  kinds: readonly ReadingKind[];
  /** Battery or mains powered: drives the liveness timeout (issue 4). */
  power: 'battery' | 'mains';
  /** Vendor documentation the decoder follows. */
  docs: readonly string[];
  /** Pure: bytes in, readings out; throws DecodeError. Readings are contract inputs (not yet validated). */
  decode(fPort: number, bytes: Uint8Array, ctx: DecodeContext): ReadingInput[];
}

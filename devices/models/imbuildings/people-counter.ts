/**
 * IMBuildings LoRaWAN People Counter (infrared beam across a doorway, battery powered).
 *
 * Payload per IMBuildings' decoder in TheThingsNetwork/lorawan-devices
 * vendor/imbuildings/imbuildings.js (big-endian). On fPort 1 every payload starts with
 * [type = 2 (people counter)][variant][device id, 8][device status][battery, uint16 / 100 V]:
 * - variant 5 (19 bytes): counter A, counter B (uint16, since the previous uplink), sensor
 *   status, payload counter
 * - variant 6 (23 bytes): counter A, counter B, sensor status, total A, total B (uint16 running
 *   totals), payload counter
 * - variant 7 (18 bytes): sensor status, total A, total B
 * Ports 26 and 27 carry variants 6 and 7 without the type/variant/id header (13 and 5 bytes).
 *
 * Direction: A and B are the two beam directions; which one is "in" depends on which side of the
 * door the unit is mounted, so `counterA` says it per installation (default A = in).
 *
 * Period length: the uplink does not carry its interval and the interval is configurable, so
 * period counts are emitted only when `periodSeconds` is configured; totals are always emitted.
 * A variant-5 uplink (period counts only) on a device without a configured interval is refused
 * (E_DECODE_BAD_VALUE) rather than stamped with a guessed interval.
 *
 * Not emitted: battery (a voltage; the contract wants %), sensor/device status bits.
 */
import type { ReadingInput } from '../../contract/reading.schema.ts';
import { DecodeError } from '../device-model.ts';
import type { DecodeContext, LorawanDeviceModel } from '../device-model.ts';

export interface ImbuildingsCounterOptions {
  counterA: 'in' | 'out';
  /** The device's configured uplink interval in seconds; without it only totals are emitted. */
  periodSeconds?: number;
}

const PEOPLE_COUNTER_TYPE = 2;
/** fPort 1 carries the full header; 26/27 a headerless variant 6/7 (imbuildings.js port scheme). */
const HEADER_PORT = 1;
const HEADERLESS: ReadonlyMap<number, number> = new Map([
  [26, 6],
  [27, 7],
]);
/** Bytes after the header (type, variant, id 8, status, battery 2 = 13 bytes) per variant. */
const HEADER_LENGTH = 13;
const BODY_LENGTH: ReadonlyMap<number, number> = new Map([
  [5, 6],
  [6, 10],
  [7, 5],
]);

const u16 = (b: Uint8Array, at: number): number => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);

interface Counts {
  a?: number;
  b?: number;
  totalA?: number;
  totalB?: number;
}

function parse(fPort: number, bytes: Uint8Array): Counts {
  let variant: number;
  let body: number;
  const headerless = HEADERLESS.get(fPort);
  if (headerless !== undefined) {
    variant = headerless;
    // Headerless variant 6 still carries device status and battery (3 bytes) before the counters.
    body = variant === 6 ? 3 : 0;
    const need = body + (BODY_LENGTH.get(variant) ?? 0);
    if (bytes.length !== need) throw lengthError(variant, bytes.length, need);
  } else if (fPort === HEADER_PORT) {
    if (bytes.length < 2) throw new DecodeError('E_DECODE_TRUNCATED', `IMBuildings payload of ${bytes.length} bytes has no type/variant`);
    if (bytes[0] !== PEOPLE_COUNTER_TYPE) throw new DecodeError('E_DECODE_UNKNOWN_CHANNEL', `IMBuildings payload type ${bytes[0]} is not a people counter (2)`);
    variant = bytes[1] ?? 0;
    const bodyLength = BODY_LENGTH.get(variant);
    if (bodyLength === undefined) throw new DecodeError('E_DECODE_UNKNOWN_CHANNEL', `IMBuildings people counter variant ${variant} is not a LoRaWAN counter payload (5, 6, 7)`);
    body = HEADER_LENGTH;
    if (bytes.length !== HEADER_LENGTH + bodyLength) throw lengthError(variant, bytes.length, HEADER_LENGTH + bodyLength);
  } else {
    throw new DecodeError('E_DECODE_BAD_PORT', `IMBuildings people counter uses fPort 1, 26 or 27, got ${fPort}`);
  }
  switch (variant) {
    case 5:
      return { a: u16(bytes, body), b: u16(bytes, body + 2) };
    case 6:
      return { a: u16(bytes, body), b: u16(bytes, body + 2), totalA: u16(bytes, body + 5), totalB: u16(bytes, body + 7) };
    default:
      return { totalA: u16(bytes, body + 1), totalB: u16(bytes, body + 3) };
  }
}

function lengthError(variant: number, got: number, need: number): DecodeError {
  return new DecodeError(got < need ? 'E_DECODE_TRUNCATED' : 'E_DECODE_BAD_VALUE', `IMBuildings variant ${variant} needs ${need} bytes, got ${got}`);
}

export function createImbuildingsPeopleCounter(options: Partial<ImbuildingsCounterOptions> = {}): LorawanDeviceModel {
  const counterA = options.counterA ?? 'in';
  const periodSeconds = options.periodSeconds;
  return {
    id: 'imbuildings-people-counter',
    vendor: 'IMBuildings',
    model: 'LoRaWAN People Counter',
    transport: 'lorawan',
    kinds: ['counter'],
    power: 'battery',
    docs: ['https://www.imbuildings.com/lorawan-people-counter/', 'TheThingsNetwork/lorawan-devices vendor/imbuildings/imbuildings.js and imbuildings-codec.yaml'],
    decode(fPort: number, bytes: Uint8Array, ctx: DecodeContext): ReadingInput[] {
      const c = parse(fPort, bytes);
      const [pIn, pOut] = counterA === 'in' ? [c.a, c.b] : [c.b, c.a];
      const [tIn, tOut] = counterA === 'in' ? [c.totalA, c.totalB] : [c.totalB, c.totalA];
      const hasTotals = tIn !== undefined || tOut !== undefined;
      const usePeriod = periodSeconds !== undefined && (pIn !== undefined || pOut !== undefined);
      if (!hasTotals && !usePeriod) {
        throw new DecodeError('E_DECODE_BAD_VALUE', 'period-only counter uplink but no uplink interval is configured for this device');
      }
      return [
        {
          kind: 'counter',
          device: ctx.device,
          time: ctx.time,
          line: 'main',
          ...(usePeriod ? { periodIn: pIn, periodOut: pOut, periodSeconds } : {}),
          ...(tIn !== undefined ? { totalIn: tIn } : {}),
          ...(tOut !== undefined ? { totalOut: tOut } : {}),
        },
      ];
    },
  };
}

export const imbuildingsPeopleCounter = createImbuildingsPeopleCounter();

/**
 * Parametric PCR2 radar people counter (mains or solar powered, mounted beside a passage).
 *
 * Application uplinks on fPort 14 (Parametric PCR2 LoRaWAN payload doc, as implemented in
 * TheThingsNetwork/lorawan-devices vendor/parametric/pcr2.js), big-endian:
 * - "Elsys" payload (starts 0x0A): Elsys TLV with 0x0A = LTR (uint16), 0x16 = RTL (uint16),
 *   0x01 = CPU temperature (int16 / 10 °C).
 * - Extended V3 (be 01 03, 16 bytes) and V4 (be 01 04, 17 bytes): LTR, RTL, LTR_SUM, RTL_SUM
 *   (uint16 each), then SBX solar-charger battery and panel power, then CPU temperature.
 * LTR/RTL are the crossings since the previous uplink; *_SUM are running totals since power-up.
 * fPort 190 carries the device configuration (no readings).
 *
 * Direction: left and right are as seen by the radar, so which one is "in" depends on how the
 * unit is mounted at the door; `leftToRight` says it per installation (default: LTR = in).
 *
 * Period length: the counting uplinks do not say how long their interval was. PCR2's uplink
 * interval (UplinkInterval, minutes) is 10 in Parametric's own configuration examples
 * (pcr2-codec.yaml, config payloads V2–V5), so 600 s is the default; set `periodSeconds` when a
 * device is configured otherwise.
 *
 * Not emitted: CPU temperature (inside the housing, not the room), SBX battery/panel values
 * (only meaningful with the optional solar charger; V3 gives a gauge, V4 a voltage).
 */
import type { ReadingInput } from '../../contract/reading.schema.ts';
import { DecodeError } from '../device-model.ts';
import type { DecodeContext, LorawanDeviceModel } from '../device-model.ts';
import { ELSYS_TYPES, parseElsysTlv } from '../elsys/elsys-tlv.ts';
import type { ElsysTypeSpec } from '../elsys/elsys-tlv.ts';

export interface Pcr2Options {
  /** Which contract direction a left-to-right crossing is, for this mounting. */
  leftToRight: 'in' | 'out';
  /** The device's uplink interval in seconds. */
  periodSeconds: number;
}

export const PCR2_DEFAULTS: Pcr2Options = { leftToRight: 'in', periodSeconds: 600 };
const APP_PORT = 14;
const CONFIG_PORT = 190;
/** Config payload lengths V2, V3, V4, V5 (pcr2.js). */
const CONFIG_LENGTHS = new Set([14, 20, 31, 34]);

const PCR2_TLV_TYPES: ReadonlyMap<number, ElsysTypeSpec> = new Map(
  [0x01, 0x0a, 0x16].map((t) => [t, ELSYS_TYPES.get(t) as ElsysTypeSpec]),
);

const u16 = (b: Uint8Array, at: number): number => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);

interface Crossings {
  ltr?: number;
  rtl?: number;
  ltrSum?: number;
  rtlSum?: number;
}

function extended(bytes: Uint8Array, version: number, length: number): Crossings {
  if (bytes.length < length) throw new DecodeError('E_DECODE_TRUNCATED', `PCR2 extended V${version} has ${bytes.length} of ${length} bytes`);
  if (bytes.length > length) throw new DecodeError('E_DECODE_BAD_VALUE', `PCR2 extended V${version} has ${bytes.length} bytes, expected ${length}`);
  return { ltr: u16(bytes, 3), rtl: u16(bytes, 5), ltrSum: u16(bytes, 7), rtlSum: u16(bytes, 9) };
}

function crossings(bytes: Uint8Array): Crossings {
  if (bytes[0] === 0x0a) {
    const v = parseElsysTlv(bytes, PCR2_TLV_TYPES);
    return { ltr: v.pulse1, rtl: v.pulse2 };
  }
  if (bytes[0] === 0xbe && bytes[1] === 0x01 && bytes[2] === 0x03) return extended(bytes, 3, 16);
  if (bytes[0] === 0xbe && bytes[1] === 0x01 && bytes[2] === 0x04) return extended(bytes, 4, 17);
  if (bytes.length < 3) throw new DecodeError('E_DECODE_TRUNCATED', `PCR2 payload of ${bytes.length} bytes has no recognisable header`);
  // Includes the Cayenne LPP payload type, which this decoder does not support.
  throw new DecodeError('E_DECODE_UNKNOWN_CHANNEL', `PCR2 payload type starting 0x${(bytes[0] ?? 0).toString(16)} is not supported`);
}

export function createPcr2Model(options: Partial<Pcr2Options> = {}): LorawanDeviceModel {
  const opts: Pcr2Options = { ...PCR2_DEFAULTS, ...options };
  return {
    id: 'parametric-pcr2',
    vendor: 'Parametric',
    model: 'PCR2',
    transport: 'lorawan',
    kinds: ['counter'],
    power: 'mains',
    docs: [
      'https://www.parametric.ch/docs/pcr2/pcr2_app_payloads',
      'TheThingsNetwork/lorawan-devices vendor/parametric/pcr2.js and pcr2-codec.yaml',
    ],
    decode(fPort: number, bytes: Uint8Array, ctx: DecodeContext): ReadingInput[] {
      if (fPort === CONFIG_PORT) {
        if (!CONFIG_LENGTHS.has(bytes.length)) throw new DecodeError('E_DECODE_BAD_VALUE', `PCR2 config payload of ${bytes.length} bytes`);
        return [];
      }
      if (fPort !== APP_PORT) throw new DecodeError('E_DECODE_BAD_PORT', `PCR2 uses fPort ${APP_PORT} (readings) and ${CONFIG_PORT} (config), got ${fPort}`);
      const c = crossings(bytes);
      const [inPeriod, outPeriod] = opts.leftToRight === 'in' ? [c.ltr, c.rtl] : [c.rtl, c.ltr];
      const [inTotal, outTotal] = opts.leftToRight === 'in' ? [c.ltrSum, c.rtlSum] : [c.rtlSum, c.ltrSum];
      if (inPeriod === undefined && outPeriod === undefined) return [];
      return [
        {
          kind: 'counter',
          device: ctx.device,
          time: ctx.time,
          line: 'main',
          ...(inPeriod !== undefined ? { periodIn: inPeriod } : {}),
          ...(outPeriod !== undefined ? { periodOut: outPeriod } : {}),
          periodSeconds: opts.periodSeconds,
          ...(inTotal !== undefined ? { totalIn: inTotal } : {}),
          ...(outTotal !== undefined ? { totalOut: outTotal } : {}),
        },
      ];
    },
  };
}

export const parametricPcr2 = createPcr2Model();

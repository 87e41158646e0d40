import { describe, expect, it } from 'vitest';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { DecodeError } from '../../../devices/models/device-model.ts';
import type { LorawanDeviceModel } from '../../../devices/models/device-model.ts';
import { parseElsysTlv } from '../../../devices/models/elsys/elsys-tlv.ts';
import { elsysEmsDesk } from '../../../devices/models/elsys/ems-desk.ts';
import { elsysEmsDoor } from '../../../devices/models/elsys/ems-door.ts';
import { elsysErsCo2 } from '../../../devices/models/elsys/ers-co2.ts';
import { elsysErsEye } from '../../../devices/models/elsys/ers-eye.ts';
import { elsysErs } from '../../../devices/models/elsys/ers.ts';
import { models } from '../../../devices/models/elsys/index.ts';
import { codeOf, ctx, hex, mulberry32, runGoldens, strip } from './golden-harness.ts';

const goldens: [LorawanDeviceModel, string][] = [
  [elsysErs, 'ers'],
  [elsysErsCo2, 'ers-co2'],
  [elsysErsEye, 'ers-eye'],
  [elsysEmsDoor, 'ems-door'],
  [elsysEmsDesk, 'ems-desk'],
];

describe('Elsys golden payloads', () => {
  runGoldens('elsys', goldens);
});

describe('Elsys TLV parser', () => {
  it('reads signed temperature, 32-bit pressure and TVOC by the type table', () => {
    // 0x01 FF38 = -200 → -20.0 °C; 0x14 000F7F78 = 1015672 → 1015.672 hPa; 0x1C 01F4 = 500 ppb.
    expect(parseElsysTlv(hex('01ff3814000f7f781c01f4'))).toEqual({ temperature: -20, pressure: 1015.672, tvoc: 500 });
  });
  it('reads a 32-bit accumulated count above 2^31 as positive', () => {
    expect(parseElsysTlv(hex('0bfffffffe'))).toEqual({ pulse1Abs: 4_294_967_294 });
  });
  it('skips documented types it does not use, including the 65-byte Grid-EYE block', () => {
    const grid = '13' + '14'.repeat(65);
    expect(parseElsysTlv(hex(`${grid}0229`))).toEqual({ humidity: 41 });
  });
  it('refuses a type whose length is unknown (nothing after it can be located)', () => {
    expect(codeOf(() => parseElsysTlv(hex('0229ee0102')))).toBe('E_DECODE_UNKNOWN_CHANNEL');
  });
  it('refuses a value that runs past the end', () => {
    expect(codeOf(() => parseElsysTlv(hex('0100')))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => parseElsysTlv(hex('0b000a00')))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => parseElsysTlv(new Uint8Array()))).toBe('E_DECODE_TRUNCATED');
  });
});

describe('Elsys traps', () => {
  it('EMS Door polarity: digital 1 = closed, 0 = open', () => {
    expect(elsysEmsDoor.decode(5, hex('0d01'), ctx)).toMatchObject([{ kind: 'door', open: false }]);
    expect(elsysEmsDoor.decode(5, hex('0d00'), ctx)).toMatchObject([{ kind: 'door', open: true }]);
    expect(codeOf(() => elsysEmsDoor.decode(5, hex('0d02'), ctx))).toBe('E_DECODE_BAD_VALUE');
  });
  it('EMS Door does not turn an accelerometer-only uplink into a door reading', () => {
    expect(elsysEmsDoor.decode(5, hex('03012705'), ctx)).toEqual([]);
  });
  it('EMS Desk: pending (1) is a transition and yields no presence; 0 is free', () => {
    expect(elsysEmsDesk.decode(5, hex('1101'), ctx)).toEqual([]);
    expect(strip(elsysEmsDesk.decode(5, hex('1100'), ctx))).toEqual([{ kind: 'presence', occupied: false }]);
    expect(codeOf(() => elsysEmsDesk.decode(5, hex('1103'), ctx))).toBe('E_DECODE_BAD_VALUE');
  });
  it('ERS Eye: heat-triggered (2) is occupied, 0 is free even with motion counted', () => {
    expect(strip(elsysErsEye.decode(5, hex('1102'), ctx))).toEqual([{ kind: 'presence', occupied: true }]);
    expect(strip(elsysErsEye.decode(5, hex('05031100'), ctx))).toEqual([{ kind: 'presence', occupied: false }]);
  });
  it('ERS: zero motion is unoccupied', () => {
    expect(strip(elsysErs.decode(5, hex('0500'), ctx))).toEqual([{ kind: 'presence', occupied: false }]);
  });
  it('drops values outside the contract limits instead of emitting them', () => {
    // 0x01 7FFF = 3276.7 °C (the int16 maximum, no real reading); humidity 0xFF = 255 %RH.
    const readings = elsysErsCo2.decode(5, hex('017fff02ff060320'), ctx);
    expect(strip(readings)).toEqual([{ kind: 'climate', co2: 800 }]);
    expect(elsysErs.decode(5, hex('017fff'), ctx)).toEqual([]);
  });
  it('refuses non-application ports', () => {
    expect(codeOf(() => elsysErs.decode(0, hex('0229'), ctx))).toBe('E_DECODE_BAD_PORT');
    expect(codeOf(() => elsysErs.decode(224, hex('0229'), ctx))).toBe('E_DECODE_BAD_PORT');
  });
  it('fuzz: random bytes give contract-valid readings or a DecodeError, nothing else', () => {
    // Deterministic PRNG (mulberry32) so a failure reproduces.
    const rnd = mulberry32(0x5eed);
    let decoded = 0;
    for (const model of models) {
      for (let i = 0; i < 3000; i++) {
        const bytes = Uint8Array.from({ length: Math.floor(rnd() * 24) }, () =>
          // Bias towards known type bytes so the fuzz reaches the value readers, not only the first refusal.
          rnd() < 0.5 ? Math.floor(rnd() * 0x1d) : Math.floor(rnd() * 256),
        );
        try {
          for (const r of model.decode(1 + Math.floor(rnd() * 223), bytes, ctx)) readingSchema.parse(r);
          decoded++;
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});

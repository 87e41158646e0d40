import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ReadingInput } from '../../../devices/contract/reading.schema.ts';
import type { DecodeContext, LorawanDeviceModel } from '../../../devices/models/device-model.ts';
import { findModel } from '../../../devices/models/index.ts';
import { createVs133 } from '../../../devices/models/milesight/vs133.ts';
import { EncodeError, encoderFor } from '../../../simulator/lorawan/encoders.ts';

const device = '24e124136b000042';
const time = '2026-11-24T09:15:00.000Z';
const ctx: DecodeContext = { device, time };

function model(id: string): LorawanDeviceModel {
  const m = findModel(id);
  if (!m) throw new Error(`no model ${id}`);
  return m;
}

/** Decoded readings without the device/time every one of them carries (checked here). */
function strip(readings: ReadingInput[]): Record<string, unknown>[] {
  return readings.map(({ device: d, time: t, ...rest }) => {
    expect(d).toBe(device);
    expect(t).toBe(time);
    return rest;
  });
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function encodeErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EncodeError);
    return (err as EncodeError).code;
  }
  throw new Error('expected an EncodeError');
}

describe('round trip through our decoders', () => {
  it('VS133: totals and period counts of two lines come back exactly (default 3600 s interval)', () => {
    const readings: ReadingInput[] = [
      { kind: 'counter', device, time, line: 'line-1', periodIn: 12, periodOut: 9, periodSeconds: 3600, totalIn: 65_535, totalOut: 70_000 },
      { kind: 'counter', device, time, line: 'line-2', periodIn: 0, periodOut: 3, periodSeconds: 3600, totalIn: 4_294_967_295, totalOut: 0 },
    ];
    const up = encoderFor('milesight-vs133')(readings);
    expect(up.fPort).toBe(85);
    // 2 lines × (totals 2×(2+4) + period 2+4) bytes.
    expect(up.bytes.length).toBe(2 * (12 + 6));
    expect(strip(model('milesight-vs133').decode(up.fPort, up.bytes, ctx))).toEqual([
      { kind: 'counter', line: 'line-1', totalIn: 65_535, totalOut: 70_000, periodIn: 12, periodOut: 9, periodSeconds: 3600 },
      { kind: 'counter', line: 'line-2', totalIn: 4_294_967_295, totalOut: 0, periodIn: 0, periodOut: 3, periodSeconds: 3600 },
    ]);
  });

  it('VS133 at a 60 s interval: decodes with a model configured for it; a mismatched interval is refused', () => {
    const r: ReadingInput = { kind: 'counter', device, time, line: 'line-3', periodIn: 2, periodOut: 1, periodSeconds: 60, totalIn: 5, totalOut: 4 };
    const up = encoderFor('milesight-vs133')([r], { reportIntervalSeconds: 60 });
    expect(strip(createVs133({ reportIntervalSeconds: 60 }).decode(up.fPort, up.bytes, ctx))).toEqual([
      { kind: 'counter', line: 'line-3', totalIn: 5, totalOut: 4, periodIn: 2, periodOut: 1, periodSeconds: 60 },
    ]);
    expect(encodeErrorCode(() => encoderFor('milesight-vs133')([r]))).toBe('E_ENCODE_UNREPRESENTABLE');
    expect(encodeErrorCode(() => encoderFor('milesight-vs133')([{ ...r, line: 'main' }], { reportIntervalSeconds: 60 }))).toBe('E_ENCODE_UNREPRESENTABLE');
  });

  it('WS301: door state and battery come back; the openings counter is reported as dropped', () => {
    const up = encoderFor('milesight-ws301')([
      { kind: 'door', device, time, open: true, openings: 4711 },
      { kind: 'health', device, time, battery: 87, rssi: -97, snr: 4.5 },
    ]);
    expect(up.dropped).toEqual(['door.openings']);
    expect(strip(model('milesight-ws301').decode(up.fPort, up.bytes, ctx))).toEqual([
      { kind: 'door', open: true },
      { kind: 'health', battery: 87 },
    ]);
    const closed = encoderFor('milesight-ws301')([{ kind: 'door', device, time, open: false }]);
    expect(strip(model('milesight-ws301').decode(closed.fPort, closed.bytes, ctx))).toEqual([{ kind: 'door', open: false }]);
  });

  it('VS121: head count comes back; more than a uint8 is refused, not clamped', () => {
    const up = encoderFor('milesight-vs121')([{ kind: 'presence', device, time, occupied: true, count: 37 }]);
    expect(strip(model('milesight-vs121').decode(up.fPort, up.bytes, ctx))).toEqual([{ kind: 'presence', occupied: true, count: 37 }]);
    expect(encodeErrorCode(() => encoderFor('milesight-vs121')([{ kind: 'presence', device, time, occupied: true, count: 256 }]))).toBe(
      'E_ENCODE_UNREPRESENTABLE',
    );
    expect(encodeErrorCode(() => encoderFor('milesight-vs121')([{ kind: 'presence', device, time, occupied: true }]))).toBe('E_ENCODE_UNREPRESENTABLE');
  });

  for (const id of ['milesight-am307', 'milesight-am319']) {
    it(`${id}: climate within the format's resolution, battery exact, TVOC and lux dropped`, () => {
      const up = encoderFor(id)([
        { kind: 'climate', device, time, temperature: 21.44, humidity: 35.5, co2: 812, pressure: 1013.26, tvoc: 90, illuminance: 400 },
        { kind: 'health', device, time, battery: 77 },
      ]);
      expect(up.dropped).toEqual(['climate.tvoc', 'climate.illuminance']);
      // 21.44 °C → 214 × 0.1; 1013.26 hPa → 10133 × 0.1.
      expect(strip(model(id).decode(up.fPort, up.bytes, ctx))).toEqual([
        { kind: 'climate', temperature: 21.4, humidity: 35.5, co2: 812, pressure: 1013.3 },
        { kind: 'health', battery: 77 },
      ]);
      const cold = encoderFor(id)([{ kind: 'climate', device, time, temperature: -5.3, humidity: 20 }]);
      expect(hex(cold.bytes)).toBe('0367cbff046828'); // −53 = 0xFFCB little-endian; 20 %RH × 2 = 0x28
      expect(strip(model(id).decode(cold.fPort, cold.bytes, ctx))).toEqual([{ kind: 'climate', temperature: -5.3, humidity: 20 }]);
    });
  }

  it('refuses an unknown model and an uplink with nothing to send', () => {
    expect(encodeErrorCode(() => encoderFor('acme-x1'))).toBe('E_ENCODE_UNSUPPORTED_MODEL');
    expect(encodeErrorCode(() => encoderFor('milesight-vs121')([{ kind: 'health', device, time, rssi: -90 }]))).toBe('E_ENCODE_NOTHING_TO_SEND');
  });
});

const goldenSchema = z.object({
  cases: z.array(z.object({ description: z.string(), fPort: z.number(), bytesHex: z.string(), expected: z.array(z.record(z.string(), z.unknown())).optional() })),
});

function golden(file: string, bytesHex: string): { fPort: number; readings: ReadingInput[] } {
  const g = goldenSchema.parse(JSON.parse(readFileSync(new URL(`../../../devices/models/milesight/${file}`, import.meta.url), 'utf8')));
  const c = g.cases.find((x) => x.bytesHex === bytesHex);
  if (!c?.expected) throw new Error(`${file}: no case ${bytesHex}`);
  return { fPort: c.fPort, readings: c.expected.map((e) => ({ device, time, ...e }) as ReadingInput) };
}

describe('golden payloads reproduced byte for byte from their expected values', () => {
  const cases: [string, string, string][] = [
    ['milesight-vs133', 'vs133.golden.json', '03d24800000004d2c800000006d20000000007d20000000005cc0000000008cc00000000'],
    ['milesight-vs133', 'vs133.golden.json', '05cc0000000008cc000000000bcc000000000ecc05000700'],
    ['milesight-ws301', 'ws301.golden.json', '030001'],
    ['milesight-ws301', 'ws301.golden.json', '030000'],
    ['milesight-vs121', 'vs121.golden.json', '04c900000000'],
    ['milesight-am319', 'am319.golden.json', '050000'],
  ];
  for (const [id, file, bytesHex] of cases) {
    it(`${id} ${bytesHex}`, () => {
      const g = golden(file, bytesHex);
      const up = encoderFor(id)(g.readings);
      expect(up.fPort).toBe(g.fPort);
      expect(hex(up.bytes)).toBe(bytesHex);
    });
  }
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import type { ReadingInput } from '../../../devices/contract/reading.schema.ts';
import { DecodeError } from '../../../devices/models/device-model.ts';
import type { DecodeContext, LorawanDeviceModel } from '../../../devices/models/device-model.ts';
import { models } from '../../../devices/models/milesight/index.ts';
import { createVs133 } from '../../../devices/models/milesight/vs133.ts';
import { createVs350 } from '../../../devices/models/milesight/vs350.ts';
import { codeOf, hex, mulberry32 } from './golden-harness.ts';

const ctx: DecodeContext = { device: '24e124710c000001', time: '2026-11-24T09:15:00.000Z' };

const goldenSchema = z.object({
  source: z.string().min(10),
  cases: z
    .array(
      z.object({
        description: z.string().min(1),
        fPort: z.number().int(),
        bytesHex: z.string().regex(/^([0-9a-f]{2})+$/),
        vendorDecoded: z.unknown(),
        expected: z.array(z.record(z.string(), z.unknown())).optional(),
        expectedError: z.string().optional(),
      }),
    )
    .min(1),
});

function loadGolden(model: LorawanDeviceModel) {
  const file = new URL(`../../../devices/models/milesight/${model.id.replace(/^milesight-/, '')}.golden.json`, import.meta.url);
  return goldenSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** Golden `expected` leaves out device, and time when it is the uplink's own time. */
function normalise(reading: ReadingInput): Record<string, unknown> {
  const { device, time, ...rest } = reading;
  expect(device).toBe(ctx.device);
  return time === ctx.time ? rest : { ...rest, time };
}

function byId(id: string): LorawanDeviceModel {
  const m = models.find((x) => x.id === id);
  if (!m) throw new Error(`no model ${id}`);
  return m;
}

describe('milesight model list', () => {
  it('has the ten models with unique ids, docs and a golden file each', () => {
    expect(models.map((m) => m.id).sort()).toEqual(
      [
        'milesight-am103',
        'milesight-am307',
        'milesight-am319',
        'milesight-em300-mcs',
        'milesight-em500-co2',
        'milesight-vs121',
        'milesight-vs133',
        'milesight-vs135',
        'milesight-vs350',
        'milesight-ws301',
      ].sort(),
    );
    for (const m of models) {
      expect(m.vendor).toBe('Milesight');
      expect(m.transport).toBe('lorawan');
      expect(m.docs.length).toBeGreaterThan(0);
      expect(loadGolden(m).cases.length).toBeGreaterThan(0);
    }
  });
});

describe.each(models.map((m) => [m.id, m] as const))('%s golden payloads', (_id, model) => {
  const golden = loadGolden(model);
  it.each(golden.cases.map((c) => [c.description, c] as const))('%s', (_d, c) => {
    const bytes = hex(c.bytesHex);
    if (c.expectedError !== undefined) {
      expect(codeOf(() => model.decode(c.fPort, bytes, ctx))).toBe(c.expectedError);
      return;
    }
    const readings = model.decode(c.fPort, bytes, ctx);
    for (const r of readings) readingSchema.parse(r);
    for (const r of readings) expect(model.kinds).toContain(r.kind);
    expect(readings.map(normalise)).toEqual(c.expected);
  });

  it('refuses every golden payload cut short by one byte as truncated', () => {
    // A payload refused for an unknown channel is refused before its end is reached.
    for (const c of golden.cases.filter((x) => x.expectedError === undefined)) {
      const bytes = hex(c.bytesHex);
      expect(codeOf(() => model.decode(c.fPort, bytes.subarray(0, bytes.length - 1), ctx))).toBe('E_DECODE_TRUNCATED');
    }
  });

  it('refuses an FPort other than 85', () => {
    const first = golden.cases[0];
    if (!first) throw new Error('no golden case');
    expect(codeOf(() => model.decode(1, hex(first.bytesHex), ctx))).toBe('E_DECODE_BAD_PORT');
  });

  it('refuses an undocumented channel instead of guessing its length', () => {
    expect(codeOf(() => model.decode(85, hex('7e7e0102'), ctx))).toBe('E_DECODE_UNKNOWN_CHANNEL');
  });
});

describe('milesight traps', () => {
  it('door polarity: WS301 and EM300-MCS magnet 1 = open, 0 = closed', () => {
    expect(byId('milesight-ws301').decode(85, hex('030001'), ctx)).toMatchObject([{ kind: 'door', open: true }]);
    expect(byId('milesight-ws301').decode(85, hex('030000'), ctx)).toMatchObject([{ kind: 'door', open: false }]);
    expect(byId('milesight-em300-mcs').decode(85, hex('060001'), ctx)).toMatchObject([{ kind: 'door', open: true }]);
    expect(byId('milesight-em300-mcs').decode(85, hex('060000'), ctx)).toMatchObject([{ kind: 'door', open: false }]);
  });

  it('an undocumented magnet status value is a bad value', () => {
    expect(codeOf(() => byId('milesight-ws301').decode(85, hex('030002'), ctx))).toBe('E_DECODE_BAD_VALUE');
  });

  it('AM307/AM319 TVOC (IAQ index or ug/m3) never lands in the ppb field', () => {
    for (const id of ['milesight-am307', 'milesight-am319']) {
      // 0x08 0x7D = 0x0025 (IAQ 0.37), 0x08 0xE6 = 0x01F4 (500 ug/m3); CO2 0x0190 = 400 ppm.
      const readings = byId(id).decode(85, hex('087d2500' + '08e6f401' + '077d9001'), ctx);
      expect(readings.map(normalise)).toEqual([{ kind: 'climate', co2: 400 }]);
    }
  });

  it('values outside the contract limits are dropped, the rest kept', () => {
    // humidity byte 0xFF = 127.5 %RH, battery 0x65 = 101 %, temperature 0x7FFF = 3276.7 degC,
    // CO2 0x03E8 = 1000 ppm (valid).
    const readings = byId('milesight-am103').decode(85, hex('0468ff' + '017565' + '0367ff7f' + '077de803'), ctx);
    expect(readings.map(normalise)).toEqual([{ kind: 'climate', co2: 1000 }]);
  });

  it('negative temperatures decode as signed: 0xFF9C = -10.0 degC', () => {
    expect(byId('milesight-am103').decode(85, hex('03679cff'), ctx).map(normalise)).toEqual([
      { kind: 'climate', temperature: -10 },
    ]);
  });

  it('a configured reporting interval replaces the default period length', () => {
    const vs133 = createVs133({ reportIntervalSeconds: 900 });
    expect(vs133.decode(85, hex('0ecc05000700'), ctx).map(normalise)).toEqual([
      { kind: 'counter', line: 'line-4', periodIn: 5, periodOut: 7, periodSeconds: 900 },
    ]);
    const vs350 = createVs350({ reportIntervalSeconds: 600 });
    expect(vs350.decode(85, hex('05cc13001400'), ctx).map(normalise)).toEqual([
      { kind: 'counter', line: 'main', periodIn: 19, periodOut: 20, periodSeconds: 600 },
    ]);
  });

  it('VS350 history with an undocumented data type is a bad value', () => {
    expect(codeOf(() => byId('milesight-vs350').decode(85, hex('20ce7b3af164020b000400'), ctx))).toBe(
      'E_DECODE_BAD_VALUE',
    );
  });

  it('an empty payload is truncated', () => {
    expect(codeOf(() => byId('milesight-vs133').decode(85, new Uint8Array(0), ctx))).toBe('E_DECODE_TRUNCATED');
  });
});

describe.each(models.map((m) => [m.id, m] as const))('%s fuzz', (_id, model) => {
  it('returns contract-valid readings or throws DecodeError, nothing else', () => {
    // Seeded so a fuzz failure can be replayed.
    const rand = mulberry32(0x5eed ^ model.id.length);
    const golden = loadGolden(model).cases.map((c) => hex(c.bytesHex));
    let decoded = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array;
      const seed = golden[i % golden.length];
      if (i % 2 === 0 && seed) {
        // Mutate a real payload: flip 1-3 bytes, sometimes append garbage.
        bytes = Uint8Array.from(seed);
        const flips = 1 + Math.floor(rand() * 3);
        for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
        if (rand() < 0.3) bytes = Uint8Array.from([...bytes, ...Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * 256))]);
      } else {
        bytes = Uint8Array.from({ length: Math.floor(rand() * 48) }, () => Math.floor(rand() * 256));
      }
      try {
        const readings = model.decode(85, bytes, ctx);
        for (const r of readings) readingSchema.parse(r);
        decoded++;
      } catch (err) {
        if (!(err instanceof DecodeError)) throw new Error(`non-DecodeError for ${Buffer.from(bytes).toString('hex')}: ${String(err)}`);
        refused++;
      }
    }
    // Both paths were exercised, so the property was actually tested on successful decodes too.
    expect(decoded).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { DecodeError } from '../../../devices/models/device-model.ts';
import type { LorawanDeviceModel } from '../../../devices/models/device-model.ts';
import { createImbuildingsPeopleCounter, imbuildingsPeopleCounter } from '../../../devices/models/imbuildings/people-counter.ts';

const ctx = { device: 'a81758fffe0312ab', time: '2026-11-24T09:15:00.000Z' };
const goldenSchema = z.object({
  source: z.string().min(10),
  cases: z
    .array(
      z.object({
        description: z.string(),
        source: z.string().optional(),
        fPort: z.number().int(),
        bytesHex: z.string().regex(/^([0-9a-f]{2})+$/),
        vendorDecoded: z.unknown().optional(),
        /** Set where the vendor's own example is malformed and must be refused. */
        expectedError: z.string().optional(),
        expected: z.array(z.record(z.string(), z.unknown())),
      }),
    )
    .min(1),
});
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const strip = (readings: unknown[]): unknown[] =>
  readings.map((r) => {
    const { device: _d, time: _t, ...rest } = r as Record<string, unknown>;
    return rest;
  });
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof DecodeError) return err.code;
    throw err;
  }
  return undefined;
}

function runGoldens(dir: string, pairs: [LorawanDeviceModel, string][]): void {
  for (const [model, file] of pairs) {
    const golden = goldenSchema.parse(JSON.parse(readFileSync(new URL(`../../../devices/models/${dir}/${file}.golden.json`, import.meta.url), 'utf8')));
    for (const c of golden.cases) {
      it(`${model.id}: ${c.description}`, () => {
        if (c.expectedError !== undefined) {
          expect(codeOf(() => model.decode(c.fPort, hex(c.bytesHex), ctx))).toBe(c.expectedError);
          return;
        }
        const readings = model.decode(c.fPort, hex(c.bytesHex), ctx);
        expect(strip(readings)).toEqual(c.expected);
        for (const r of readings) {
          expect(r.device).toBe(ctx.device);
          expect(r.time).toBe(ctx.time);
          readingSchema.parse(r);
        }
      });
    }
  }
}

/** Random payloads (deterministic mulberry32) on the given ports: contract-valid readings or DecodeError only. */
function fuzz(model: LorawanDeviceModel, ports: number[], maxLength: number, prefixes: number[][] = []): number {
  let seed = 0xc0ffee;
  const rnd = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let decoded = 0;
  for (let i = 0; i < 5000; i++) {
    const prefix = prefixes.length > 0 && rnd() < 0.6 ? (prefixes[Math.floor(rnd() * prefixes.length)] ?? []) : [];
    const bytes = Uint8Array.from([...prefix, ...Array.from({ length: Math.floor(rnd() * maxLength) }, () => Math.floor(rnd() * 256))]);
    const port = ports[Math.floor(rnd() * ports.length)] ?? 1;
    try {
      for (const r of model.decode(port, bytes, ctx)) readingSchema.parse(r);
      decoded++;
    } catch (err) {
      expect(err).toBeInstanceOf(DecodeError);
    }
  }
  return decoded;
}

const V6 = '02060004a30b00f0d40e0001000000000020000d000a6a';

describe('IMBuildings golden payloads', () => {
  runGoldens('imbuildings', [[imbuildingsPeopleCounter, 'people-counter']]);
});

describe('IMBuildings people counter', () => {
  it('with a configured interval, period counts are emitted beside the totals', () => {
    // Same vendor example with counter A = 0x0005, counter B = 0x0102 (= 258).
    const bytes = hex('02060004a30b00f0d40e000100' + '0005' + '0102' + '20000d000a6a');
    const model = createImbuildingsPeopleCounter({ periodSeconds: 900 });
    expect(strip(model.decode(1, bytes, ctx))).toEqual([
      { kind: 'counter', line: 'main', periodIn: 5, periodOut: 258, periodSeconds: 900, totalIn: 13, totalOut: 10 },
    ]);
  });
  it('mounting: counterA = out swaps the directions', () => {
    const model = createImbuildingsPeopleCounter({ counterA: 'out' });
    expect(strip(model.decode(1, hex(V6), ctx))).toEqual([{ kind: 'counter', line: 'main', totalIn: 10, totalOut: 13 }]);
  });
  it('headerless variants on ports 26 and 27 read the same fields', () => {
    // Port 26: the V6 example without type, variant and id (its last 13 bytes).
    expect(strip(imbuildingsPeopleCounter.decode(26, hex(V6.slice(20)), ctx))).toEqual([{ kind: 'counter', line: 'main', totalIn: 13, totalOut: 10 }]);
    // Port 27: sensor status 0x20, totals 0x0102 = 258 and 0x0003 = 3.
    expect(strip(imbuildingsPeopleCounter.decode(27, hex('2001020003'), ctx))).toEqual([{ kind: 'counter', line: 'main', totalIn: 258, totalOut: 3 }]);
  });
  it('variant 7 with header: totals only', () => {
    expect(strip(imbuildingsPeopleCounter.decode(1, hex('02070004a30b00f0d40e000100' + '20' + '0007' + '0009'), ctx))).toEqual([
      { kind: 'counter', line: 'main', totalIn: 7, totalOut: 9 },
    ]);
  });
  it('variant 5 (period only) is refused without a configured interval, decoded with one', () => {
    const v5 = hex('02050004a30b00f0d40e000100' + '0004' + '0002' + '206a');
    expect(codeOf(() => imbuildingsPeopleCounter.decode(1, v5, ctx))).toBe('E_DECODE_BAD_VALUE');
    expect(strip(createImbuildingsPeopleCounter({ periodSeconds: 600 }).decode(1, v5, ctx))).toEqual([
      { kind: 'counter', line: 'main', periodIn: 4, periodOut: 2, periodSeconds: 600 },
    ]);
  });
  it('wrong type, variant, length and port are refused', () => {
    expect(codeOf(() => imbuildingsPeopleCounter.decode(1, hex('01' + V6.slice(2)), ctx))).toBe('E_DECODE_UNKNOWN_CHANNEL');
    expect(codeOf(() => imbuildingsPeopleCounter.decode(1, hex('0209' + V6.slice(4)), ctx))).toBe('E_DECODE_UNKNOWN_CHANNEL');
    expect(codeOf(() => imbuildingsPeopleCounter.decode(1, hex(V6.slice(0, -2)), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => imbuildingsPeopleCounter.decode(1, hex('02'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => imbuildingsPeopleCounter.decode(2, hex(V6), ctx))).toBe('E_DECODE_BAD_PORT');
  });
  it('fuzz', () => {
    const model = createImbuildingsPeopleCounter({ periodSeconds: 900 });
    expect(fuzz(model, [1, 1, 26, 27], 24, [[2, 5], [2, 6], [2, 7]])).toBeGreaterThan(0);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { DecodeError } from '../../../devices/models/device-model.ts';
import type { LorawanDeviceModel } from '../../../devices/models/device-model.ts';
import { draginoLds02 } from '../../../devices/models/dragino/lds02.ts';

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

describe('Dragino golden payloads', () => {
  runGoldens('dragino', [[draginoLds02, 'lds02']]);
});

describe('Dragino LDS02 traps', () => {
  it('polarity: bit 15 set is OPEN, clear is closed (Dragino: 1 = open)', () => {
    expect(strip(draginoLds02.decode(10, hex('8c100100000300000000'), ctx))).toEqual([{ kind: 'door', open: true, openings: 3 }]);
    expect(strip(draginoLds02.decode(10, hex('0c100100000300000000'), ctx))).toEqual([{ kind: 'door', open: false, openings: 3 }]);
  });
  it('battery bits do not leak into the door state (0x7FFF battery field, bit 15 clear)', () => {
    expect(strip(draginoLds02.decode(10, hex('3fff01ffffff00000000'), ctx))).toEqual([{ kind: 'door', open: false, openings: 16_777_215 }]);
  });
  it('mode 3 reports the state without counters; water-leak mode 2 is refused', () => {
    expect(strip(draginoLds02.decode(10, hex('8b880300000000000001'), ctx))).toEqual([{ kind: 'door', open: true }]);
    expect(codeOf(() => draginoLds02.decode(10, hex('8b880200000100000000'), ctx))).toBe('E_DECODE_BAD_VALUE');
  });
  it('truncated payloads and foreign ports are refused', () => {
    expect(codeOf(() => draginoLds02.decode(10, hex('0b88010025000100'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => draginoLds02.decode(10, new Uint8Array(), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => draginoLds02.decode(42, hex('0b880100250001000000'), ctx))).toBe('E_DECODE_BAD_PORT');
  });
  it('fuzz', () => {
    expect(fuzz(draginoLds02, [10, 10, 10, 5], 14, [[0x0b, 0x88, 0x01], [0x8b, 0x88, 0x03]])).toBeGreaterThan(0);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { DecodeError } from '../../../devices/models/device-model.ts';
import type { LorawanDeviceModel } from '../../../devices/models/device-model.ts';
import { browanTbdw100 } from '../../../devices/models/browan/tbdw100.ts';
import { browanTbhv110 } from '../../../devices/models/browan/tbhv110.ts';
import { browanTbms100 } from '../../../devices/models/browan/tbms100.ts';

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

describe('Browan golden payloads', () => {
  runGoldens('browan', [
    [browanTbdw100, 'tbdw100'],
    [browanTbms100, 'tbms100'],
    [browanTbhv110, 'tbhv110'],
  ]);
});

describe('Browan traps', () => {
  it('TBDW100: only bit 0 is the door; other status bits do not open it', () => {
    expect(strip(browanTbdw100.decode(100, hex('fecb350000010000'), ctx))).toEqual([{ kind: 'door', open: false, openings: 1 }]);
  });
  it('TBDW100: the 24-bit count is little-endian', () => {
    // 0x030201 = 197121
    expect(strip(browanTbdw100.decode(100, hex('01cb350000010203'), ctx))).toEqual([{ kind: 'door', open: true, openings: 197_121 }]);
  });
  it('TBHV110: out-of-range temperature (7-bit 0x7F - 32 = 95 °C) is dropped, the rest kept', () => {
    expect(strip(browanTbhv110.decode(103, hex('610b351ebf03010051007f'), ctx))).toEqual([{ kind: 'climate', humidity: 30, co2: 959, tvoc: 1 }]);
  });
  it('TBHV110: humidity above 100 % (0x7F = 127) is dropped', () => {
    expect(strip(browanTbhv110.decode(103, hex('610b357fbf030100510036'), ctx))).toEqual([{ kind: 'climate', temperature: 22, co2: 959, tvoc: 1 }]);
  });
  it('truncated payloads and wrong ports are refused', () => {
    expect(codeOf(() => browanTbdw100.decode(100, hex('00cb3500008a3a'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => browanTbms100.decode(102, hex('01'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => browanTbhv110.decode(103, hex('610b351ebf0301005100'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => browanTbdw100.decode(42, hex('01'), ctx))).toBe('E_DECODE_BAD_PORT');
    expect(codeOf(() => browanTbms100.decode(100, hex('01bb340400dc7801'), ctx))).toBe('E_DECODE_BAD_PORT');
  });
  it('fuzz', () => {
    expect(fuzz(browanTbdw100, [100, 101], 10)).toBeGreaterThan(0);
    expect(fuzz(browanTbms100, [102, 1], 10)).toBeGreaterThan(0);
    expect(fuzz(browanTbhv110, [103], 14)).toBeGreaterThan(0);
  });
});

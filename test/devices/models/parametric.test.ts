import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { DecodeError } from '../../../devices/models/device-model.ts';
import type { LorawanDeviceModel } from '../../../devices/models/device-model.ts';
import { createPcr2Model, parametricPcr2 } from '../../../devices/models/parametric/pcr2.ts';

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

describe('Parametric golden payloads', () => {
  runGoldens('parametric', [[parametricPcr2, 'pcr2']]);
});

describe('Parametric PCR2 traps', () => {
  it('mounting: leftToRight = out swaps in and out, for period counts and totals', () => {
    const mirrored = createPcr2Model({ leftToRight: 'out', periodSeconds: 300 });
    expect(strip(mirrored.decode(14, hex('be01030001000200030004640ce40139'), ctx))).toEqual([
      { kind: 'counter', line: 'main', periodIn: 2, periodOut: 1, periodSeconds: 300, totalIn: 4, totalOut: 3 },
    ]);
  });
  it('an Elsys payload with only the LTR record gives an in count only; PCR2 refuses Elsys types it does not send', () => {
    expect(strip(parametricPcr2.decode(14, hex('0a0005'), ctx))).toEqual([{ kind: 'counter', line: 'main', periodIn: 5, periodSeconds: 600 }]);
    expect(codeOf(() => parametricPcr2.decode(14, hex('0a00051400'), ctx))).toBe('E_DECODE_UNKNOWN_CHANNEL');
  });
  it('wrong lengths, unknown payload types and ports are refused', () => {
    expect(codeOf(() => parametricPcr2.decode(14, hex('be01030001000200030004640ce401'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => parametricPcr2.decode(14, hex('be01030001000200030004640ce4013900'), ctx))).toBe('E_DECODE_BAD_VALUE');
    expect(codeOf(() => parametricPcr2.decode(14, hex('0a00'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => parametricPcr2.decode(14, hex('0066010203'), ctx))).toBe('E_DECODE_UNKNOWN_CHANNEL');
    expect(codeOf(() => parametricPcr2.decode(190, hex('0003'), ctx))).toBe('E_DECODE_BAD_VALUE');
    expect(codeOf(() => parametricPcr2.decode(1, hex('0a0001'), ctx))).toBe('E_DECODE_BAD_PORT');
  });
  it('fuzz', () => {
    expect(fuzz(parametricPcr2, [14, 14, 190], 20, [[0x0a], [0xbe, 0x01, 0x03], [0xbe, 0x01, 0x04]])).toBeGreaterThan(0);
  });
});

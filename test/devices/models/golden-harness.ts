/**
 * Shared pieces of the device-model tests: the golden-file schema and runner (bytes in, the golden
 * file's hand-derived `expected` out), DecodeError code capture, and a seeded fuzz loop. Each vendor's
 * test file keeps its own traps; this file only holds what every one of them did the same way.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { DecodeError } from '../../../devices/models/device-model.ts';
import type { DecodeContext, LorawanDeviceModel } from '../../../devices/models/device-model.ts';
import { mulberry32 } from '../../../simulator/model.ts';

export { mulberry32 };

export const ctx: DecodeContext = { device: 'a81758fffe0312ab', time: '2026-11-24T09:15:00.000Z' };

export const goldenSchema = z.object({
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

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/** Golden `expected` values leave out device and time; those are checked against `ctx` separately. */
export const strip = (readings: unknown[]): unknown[] =>
  readings.map((r) => {
    const { device: _d, time: _t, ...rest } = r as Record<string, unknown>;
    return rest;
  });

/** The DecodeError code `fn` throws, or undefined if it returns; any other error fails the test. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof DecodeError) return err.code;
    throw err;
  }
  return undefined;
}

/** One `it` per case of `devices/models/<dir>/<file>.golden.json`, named `<model id>: <description>`. */
export function runGoldens(dir: string, pairs: [LorawanDeviceModel, string][]): void {
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

/**
 * 5000 random payloads (seeded, so a failure reproduces) on the given ports, 60 % of them starting
 * with one of `prefixes` so the fuzz gets past the first header check: each must decode to
 * contract-valid readings or throw DecodeError. Returns how many decoded.
 */
export function fuzz(model: LorawanDeviceModel, ports: number[], maxLength: number, prefixes: number[][] = []): number {
  const rnd = mulberry32(0xc0ffee);
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

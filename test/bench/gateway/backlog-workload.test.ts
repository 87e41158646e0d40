import { describe, expect, it } from 'vitest';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { backlogBatches, KIND_SLOTS, kindCount, splitEvenly } from './backlog-workload.ts';

const START = Date.parse('2026-11-23T10:00:00.000Z');
const END = Date.parse('2026-11-24T09:59:00.000Z');

describe('gateway bench backlog', () => {
  // 20 × 52 + 13: 52 full cycles, then positions 0..12 (5 counter, 7 presence, 1 climate).
  const n = 1_053;
  const readings = [...backlogBatches({ torgIndex: 3, readings: n, startMs: START, endMs: END }, 100)].flat();

  it('yields exactly the requested readings, in batches of at most the batch size', () => {
    const sizes = [...backlogBatches({ torgIndex: 3, readings: n, startMs: START, endMs: END }, 100)].map((b) => b.length);
    expect(sizes).toEqual([...Array.from({ length: 10 }, () => 100), 53]);
    expect(readings).toHaveLength(n);
  });

  it('per-kind counts match the 5/7/4/2/2 mix computed by hand', () => {
    const byKind = (k: string) => readings.filter((r) => r.kind === k).length;
    // counter 52×5+5, presence 52×7+7, climate 52×4+1, door 52×2, health 52×2.
    expect([byKind('counter'), byKind('presence'), byKind('climate'), byKind('door'), byKind('health')]).toEqual([265, 371, 209, 104, 104]);
    expect(KIND_SLOTS.map((s) => kindCount(s, n))).toEqual([265, 371, 209, 104, 104]);
  });

  it('every reading is valid, inside the window, and its own InfluxDB point', () => {
    const ids = new Set<string>();
    for (const r of readings) {
      expect(readingSchema.safeParse(r).success).toBe(true);
      const t = Date.parse(r.time);
      expect(t).toBeGreaterThanOrEqual(START);
      expect(t).toBeLessThan(END);
      ids.add(`${r.kind}|${r.device}|${r.time}`);
    }
    expect(ids.size).toBe(n);
  });

  it('splits a total over seven torg without losing a reading', () => {
    expect(splitEvenly(1_000_000, 7)).toEqual([142_858, 142_857, 142_857, 142_857, 142_857, 142_857, 142_857]);
  });
});

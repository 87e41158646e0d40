import { describe, expect, it } from 'vitest';
import { readingSchema, type ReadingInput } from '../../devices/contract/reading.schema.ts';
import { loadTorgConfig, type Torg } from '../../devices/torg/torg-config.schema.ts';
import { mulberry32, simulateRange, TorgSimulator, type SimStep } from '../../simulator/model.ts';

const config = loadTorgConfig(new URL('../../config/torg.asker.sample.json', import.meta.url).pathname);
const torg = (id: string) => config.torg.find((t) => t.id === id) as Torg;
/** Local midnight starting Tuesday 24 November 2026 (CET, UTC+1). */
const TUESDAY = Date.parse('2026-11-23T23:00:00Z');
const DAY = 86_400_000;

function run(t: Torg, seed: number, startMs: number, days: number, faultRate = 0): { sim: TorgSimulator; steps: SimStep[] } {
  const sim = new TorgSimulator(t, { seed, startMs, faultRate });
  const steps: SimStep[] = [];
  while (sim.timeMs < startMs + days * DAY) steps.push(sim.step());
  return { sim, steps };
}

const counterSum = (readings: ReadingInput[]) =>
  readings.reduce((s, r) => (r.kind === 'counter' ? s + (r.periodIn ?? 0) - (r.periodOut ?? 0) : s), 0);

describe('mulberry32', () => {
  it('is deterministic and in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(1000);
  });
});

describe('TorgSimulator', () => {
  it('same seed gives identical output; another seed differs', () => {
    const a = run(torg('heggedal'), 7, TUESDAY, 1, 0.5).steps;
    const b = run(torg('heggedal'), 7, TUESDAY, 1, 0.5).steps;
    const c = run(torg('heggedal'), 8, TUESDAY, 1, 0.5).steps;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it('device ids are DevEUI-style, unique, and independent of the seed', () => {
    const all = config.torg.flatMap((t) => new TorgSimulator(t, { seed: 1, startMs: TUESDAY }).devices.map((d) => d.id));
    expect(all.every((id) => /^[0-9a-f]{16}$/.test(id))).toBe(true);
    expect(new Set(all).size).toBe(all.length);
    const again = config.torg.flatMap((t) => new TorgSimulator(t, { seed: 99, startMs: TUESDAY }).devices.map((d) => d.id));
    expect(again).toEqual(all);
  });

  it.each(config.torg.map((t) => t.id))('conservation over a day at %s: in − out never negative, 0 after closing', (id) => {
    const { steps } = run(torg(id), 3, TUESDAY, 1);
    let inside = 0;
    let visits = 0;
    let min = 0;
    for (const s of steps) {
      inside += counterSum(s.readings);
      visits += s.readings.reduce((n, r) => (r.kind === 'counter' ? n + (r.periodIn ?? 0) : n), 0);
      min = Math.min(min, inside);
    }
    expect(min).toBe(0);
    expect(inside).toBe(0); // the last step is 24:00 local; every torg closes by 22:00
    expect(visits).toBeGreaterThan(20);
  });

  it('running totals advance by the period counts, wrapping at 65536', () => {
    const { steps } = run(torg('asker-sentrum'), 5, TUESDAY, 1);
    const last = new Map<string, { totalIn: number; totalOut: number }>();
    let checked = 0;
    for (const s of steps) {
      for (const r of s.readings) {
        if (r.kind !== 'counter') continue;
        const key = `${r.device}/${r.line}`;
        const prev = last.get(key);
        if (prev) {
          expect((prev.totalIn + r.periodIn!) % 65536).toBe(r.totalIn);
          expect((prev.totalOut + r.periodOut!) % 65536).toBe(r.totalOut);
          checked++;
        }
        last.set(key, { totalIn: r.totalIn!, totalOut: r.totalOut! });
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('a public holiday (1. juledag) has no visits', () => {
    const { steps } = run(torg('asker-sentrum'), 5, Date.parse('2026-12-24T23:00:00Z'), 1);
    expect(steps.flatMap((s) => s.readings).filter((r) => r.kind === 'counter' && (r.periodIn ?? 0) > 0)).toEqual([]);
  });

  it('faults: a drifting counter leaves people "inside", a dead sensor stops reporting', () => {
    // Dead sensors die within 3 days of the start, so 4 days always include the death.
    const { sim, steps } = run(torg('asker-sentrum'), 11, TUESDAY, 4, 1);
    const drift = sim.devices.find((d) => d.fault?.type === 'drift');
    const dead = sim.devices.find((d) => d.fault?.type === 'dead');
    expect(drift).toBeDefined();
    expect(dead).toBeDefined();
    const all = steps.flatMap((s) => s.readings);
    expect(counterSum(steps.slice(0, 1440).flatMap((s) => s.readings))).toBeGreaterThan(0);
    const fromMs = dead!.fault!.type === 'dead' ? dead!.fault!.fromMs : 0;
    const times = all.filter((r) => r.device === dead!.id).map((r) => Date.parse(r.time));
    expect(fromMs).toBeLessThan(TUESDAY + 4 * DAY);
    expect(times.every((t) => t < fromMs)).toBe(true);
    // It did report until it died (one presence/climate reading a minute).
    expect(Math.max(...times)).toBeGreaterThan(fromMs - 60_000 - 1);
  });

  it('CO2 stays within physical limits, rises with people and falls back overnight', () => {
    const { steps } = run(torg('asker-sentrum'), 2, TUESDAY, 3);
    const climate = steps.flatMap((s) => s.readings).filter((r) => r.kind === 'climate');
    const co2 = climate.map((r) => r.co2!);
    expect(Math.min(...co2)).toBeGreaterThanOrEqual(390);
    expect(Math.max(...co2)).toBeLessThan(5000);
    expect(Math.max(...co2)).toBeGreaterThan(700);
    // 06:00 local on the third day (05:00Z): 8 h of night ventilation since closing at 22:00.
    const dawn = new Date(TUESDAY + 2 * DAY + 6 * 3_600_000).toISOString();
    const atDawn = climate.filter((r) => r.time === dawn).map((r) => r.co2!);
    expect(atDawn.length).toBe(torg('asker-sentrum').zones.length);
    expect(Math.max(...atDawn)).toBeLessThan(420);
  });

  it('every reading of two days of all seven torg passes the contract', () => {
    let n = 0;
    const bad: unknown[] = [];
    for (const s of simulateRange(config.torg, { seed: 4, startMs: TUESDAY, endMs: TUESDAY + 2 * DAY, faultRate: 0.5 })) {
      for (const r of s.readings) {
        n++;
        if (!readingSchema.safeParse(r).success && bad.length < 3) bad.push(r);
      }
    }
    expect(bad).toEqual([]);
    expect(n).toBeGreaterThan(100_000);
  });
});

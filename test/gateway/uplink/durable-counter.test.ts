import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurableCounter } from '../../../gateway/uplink/durable-counter.ts';

describe('DurableCounter', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'counter-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('counts from 0 and continues after reopen with block 1 (bdSeq)', () => {
    const p = join(dir, 'bd.json');
    const a = new DurableCounter(p, 1);
    expect([a.next(), a.next(), a.next()]).toEqual([0, 1, 2]);
    expect(new DurableCounter(p, 1).next()).toBe(3);
  });

  it('never repeats after a restart with a reserved block (seq): resumes past the reservation', () => {
    const p = join(dir, 'seq.json');
    const a = new DurableCounter(p, 1000);
    expect([a.next(), a.next()]).toEqual([0, 1]);
    // "Crash" after using 0 and 1: the reservation covered 0..999, so the next run starts at 1000.
    const b = new DurableCounter(p, 1000);
    expect(b.next()).toBe(1000);
  });
});

import { describe, expect, it } from 'vitest';
import { Batcher, Completion } from '../../ingest/batcher.ts';
import type { PointWriter, WriteOutcome } from '../../ingest/point-writer.ts';

/** Records writes; each resolves when the test says so. */
class ManualWriter implements PointWriter {
  calls: { lines: readonly string[]; resolve: (o: WriteOutcome) => void }[] = [];
  write(lines: readonly string[]): Promise<WriteOutcome> {
    return new Promise((resolve) => this.calls.push({ lines, resolve }));
  }
  async close(): Promise<void> {}
}

function manualTimer() {
  const timers: { fn: () => void; cancelled: boolean }[] = [];
  return {
    timers,
    setTimer: (fn: () => void) => {
      const t = { fn, cancelled: false };
      timers.push(t);
      return { cancel: () => (t.cancelled = true) };
    },
    fire: () => timers.filter((t) => !t.cancelled).forEach((t) => t.fn()),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Batcher', () => {
  it('seals a batch at maxLines and never sends more than maxLines per write', () => {
    const writer = new ManualWriter();
    const b = new Batcher({ writer, maxLines: 3, maxBytes: 1e6, flushMs: 1000, concurrency: 10, now: () => 0, onRejected: async () => {}, setTimer: manualTimer().setTimer });
    const owner = new Completion(() => {});
    for (let i = 0; i < 7; i++) b.add(`m v=${i} ${i}`, owner);
    expect(writer.calls.map((c) => c.lines.length)).toEqual([3, 3]);
  });

  it('seals before a line would push the batch past maxBytes', () => {
    const writer = new ManualWriter();
    // Each line "aaaaaaaaa" is 9 chars + newline = 10 bytes; 25 bytes fit two lines.
    const b = new Batcher({ writer, maxLines: 100, maxBytes: 25, flushMs: 1000, concurrency: 10, now: () => 0, onRejected: async () => {}, setTimer: manualTimer().setTimer });
    const owner = new Completion(() => {});
    for (let i = 0; i < 5; i++) b.add('aaaaaaaaa', owner);
    expect(writer.calls.map((c) => c.lines.length)).toEqual([2, 2]);
  });

  it('writes a partial batch at once (next event-loop turn) while a write slot is free', async () => {
    const writer = new ManualWriter();
    const t = manualTimer();
    const b = new Batcher({ writer, maxLines: 100, maxBytes: 1e6, flushMs: 50, concurrency: 1, now: () => 0, onRejected: async () => {}, setTimer: t.setTimer });
    b.add('x v=1 1', new Completion(() => {}));
    b.add('x v=2 2', new Completion(() => {}));
    expect(writer.calls.length).toBe(0);
    await new Promise((r) => setImmediate(r));
    // Both lines arrived in the same turn: one batch.
    expect(writer.calls.map((c) => c.lines)).toEqual([['x v=1 1', 'x v=2 2']]);
  });

  it('while every slot is busy, accumulates and flushes a partial batch when the timer fires', async () => {
    const writer = new ManualWriter();
    const t = manualTimer();
    const b = new Batcher({ writer, maxLines: 100, maxBytes: 1e6, flushMs: 50, concurrency: 1, now: () => 0, onRejected: async () => {}, setTimer: t.setTimer });
    b.add('x v=1 1', new Completion(() => {}));
    await new Promise((r) => setImmediate(r));
    expect(writer.calls.length).toBe(1); // the only slot is now busy
    b.add('x v=2 2', new Completion(() => {}));
    b.add('x v=3 3', new Completion(() => {}));
    await new Promise((r) => setImmediate(r));
    expect(writer.calls.length).toBe(1);
    t.fire();
    // Sealed by the timer; queued until the slot frees.
    writer.calls[0]!.resolve({ rejected: [] });
    await tick();
    expect(writer.calls.map((c) => c.lines)).toEqual([['x v=1 1'], ['x v=2 2', 'x v=3 3']]);
  });

  it('runs at most `concurrency` writes and releases an owner only after all its batches', async () => {
    const writer = new ManualWriter();
    const b = new Batcher({ writer, maxLines: 2, maxBytes: 1e6, flushMs: 1000, concurrency: 2, now: () => 0, onRejected: async () => {}, setTimer: manualTimer().setTimer });
    let aDone = false;
    let bDone = false;
    const a = new Completion(() => (aDone = true));
    const o = new Completion(() => (bDone = true));
    // a: 3 lines (batches 1 and 2); b: 3 lines (batches 2 and 3)
    for (let i = 0; i < 3; i++) b.add(`a v=${i} ${i}`, a);
    a.release();
    for (let i = 0; i < 3; i++) b.add(`b v=${i} ${i}`, o);
    o.release();
    const flushed = b.flush();
    expect(writer.calls.length).toBe(2); // third batch waits for a slot
    writer.calls[0]!.resolve({ rejected: [] });
    await tick();
    expect(aDone).toBe(false); // batch 2 still holds a's third line
    expect(writer.calls.length).toBe(3);
    writer.calls[1]!.resolve({ rejected: [] });
    await tick();
    expect(aDone).toBe(true);
    expect(bDone).toBe(false);
    writer.calls[2]!.resolve({ rejected: [] });
    await flushed;
    expect(bDone).toBe(true);
  });

  it('hands refused lines to onRejected before releasing the owner', async () => {
    const writer = new ManualWriter();
    const order: string[] = [];
    const b = new Batcher({
      writer, maxLines: 10, maxBytes: 1e6, flushMs: 1000, concurrency: 1, now: () => 0, setTimer: manualTimer().setTimer,
      onRejected: async (r) => {
        order.push(`rejected ${r.map((x) => x.index).join(',')}`);
      },
    });
    const owner = new Completion(() => order.push('released'));
    b.add('a v=1 1', owner);
    b.add('a v="x" 2', owner);
    owner.release();
    const f = b.flush();
    writer.calls[0]!.resolve({ rejected: [{ index: 1, line: 'a v="x" 2', reason: 'field type conflict' }] });
    await f;
    expect(order).toEqual(['rejected 1', 'released']);
  });

  it('does not release owners when the write fails (writer closed)', async () => {
    let released = false;
    const writer: PointWriter = { write: () => Promise.reject(new Error('closed')), close: async () => {} };
    const b = new Batcher({ writer, maxLines: 10, maxBytes: 1e6, flushMs: 1000, concurrency: 1, now: () => 0, onRejected: async () => {}, setTimer: manualTimer().setTimer });
    const owner = new Completion(() => (released = true));
    b.add('a v=1 1', owner);
    owner.release();
    await b.flush();
    expect(released).toBe(false);
  });
});

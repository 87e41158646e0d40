import { describe, expect, it } from 'vitest';
import { DeliveryQueue, type DropReason } from '../../../dashboards/alerts/delivery-queue.ts';

function queue(maxItems: number, maxBatch: number, handle: (batch: number[]) => Promise<void>) {
  const drops: [number, DropReason][] = [];
  const errors: number[][] = [];
  const q = new DeliveryQueue<number>({ maxItems, maxBatch, handle, onDrop: (n, r) => drops.push([n, r]), onError: (_e, b) => errors.push(b) });
  return { q, drops, errors };
}

describe('DeliveryQueue', () => {
  it('delivers in order, in batches of at most maxBatch', async () => {
    const batches: number[][] = [];
    const { q } = queue(100, 2, async (b) => {
      batches.push(b);
    });
    for (const n of [1, 2, 3, 4, 5]) q.push(n);
    await q.drain();
    // 1 is taken alone as soon as it is pushed; the rest queue behind it.
    expect(batches).toEqual([[1], [2, 3], [4, 5]]);
  });

  it('drops the oldest past maxItems and counts them', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const got: number[] = [];
    const { q, drops } = queue(3, 1, async ([n]) => {
      if (n === 0) await gate;
      got.push(n!);
    });
    for (let n = 0; n <= 6; n++) q.push(n);
    // 0 is in hand; 1..6 queued with room for 3: 1, 2, 3 dropped.
    expect(q.size).toBe(3);
    release();
    await q.drain();
    expect(got).toEqual([0, 4, 5, 6]);
    expect(drops).toEqual([
      [1, 'queue_full'],
      [1, 'queue_full'],
      [1, 'queue_full'],
    ]);
  });

  it('reports a failed batch and goes on; close drops what is left', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const { q, drops, errors } = queue(10, 1, async ([n]) => {
      if (n === 1) throw new Error('boom');
      if (n === 2) await gate;
    });
    q.push(1);
    q.push(2);
    q.push(3);
    q.push(4);
    await Promise.resolve();
    const closing = q.close();
    release();
    await closing;
    expect(errors).toEqual([[1]]);
    expect(drops).toEqual([[2, 'closed']]);
    expect(q.push(5)).toBe(false);
    expect(drops.at(-1)).toEqual([1, 'closed']);
  });
});

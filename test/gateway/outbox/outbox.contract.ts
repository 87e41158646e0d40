/**
 * The contract every Outbox implementation passes (style: MQTT.js test/node/abstract_store.ts).
 * Call `outboxContract(name, factory)` from an implementation's test file. The factory opens the
 * outbox stored under `dir`; calling it twice with the same dir must reopen the same storage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reading } from '../../../devices/contract/reading.schema.ts';
import type { Clock } from '../../../gateway/clock.ts';
import { GatewayError } from '../../../gateway/gateway-errors.ts';
import type { Outbox, OutboxBounds } from '../../../gateway/outbox/outbox.ts';

export type OutboxFactory = (args: { dir: string; bounds: OutboxBounds; clock: Clock }) => Outbox;

export class ManualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

const T0 = Date.parse('2026-11-24T09:00:00.000Z');

/** Climate reading number i of device d: temperature i/10 so every reading is distinguishable. */
export function climate(i: number, device = 'a84041000181c0de'): Reading {
  return { kind: 'climate', device, time: new Date(T0 + i * 1000).toISOString(), temperature: (i % 1000) / 10 };
}

const WIDE: OutboxBounds = { maxReadings: 1_000_000, maxBytes: 1_000_000_000, maxAgeMs: 30 * 86_400_000 };

export function outboxContract(name: string, factory: OutboxFactory): void {
  describe(`Outbox contract: ${name}`, () => {
    let dir: string;
    let clock: ManualClock;
    const open: Outbox[] = [];
    const make = (bounds: OutboxBounds = WIDE): Outbox => {
      const o = factory({ dir, bounds, clock });
      open.push(o);
      return o;
    };

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'outbox-contract-'));
      clock = new ManualClock(T0);
    });
    afterEach(async () => {
      for (const o of open.splice(0)) await o.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('gives readings back unchanged and in append order, across separate append calls', async () => {
      const o = make();
      const input = Array.from({ length: 10 }, (_, i) => climate(i));
      // Not awaited one by one: appends made in the same tick must keep call order too.
      await Promise.all([o.append(input.slice(0, 3)), o.append(input.slice(3, 4)), o.append(input.slice(4))]);
      expect(o.depth()).toBe(10);
      const got = await o.claim(100);
      expect(got.map((e) => e.reading)).toEqual(input);
      const ids = got.map((e) => e.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(new Set(ids).size).toBe(10);
    });

    it('gives each entry its reading as JSON that parses back to exactly the appended reading', async () => {
      const o = make();
      const input = Array.from({ length: 5 }, (_, i) => climate(i));
      await o.append(input);
      const got = await o.claim(100);
      expect(got.map((e) => JSON.parse(e.json) as unknown)).toEqual(input);
    });

    it('acks exactly the ids given, also a non-contiguous subset, and ignores unknown ids', async () => {
      const o = make();
      await o.append(Array.from({ length: 6 }, (_, i) => climate(i)));
      const got = await o.claim(100);
      const ids = got.map((e) => e.id);
      await o.ack([ids[0]!, ids[2]!, ids[5]!, 987_654_321]);
      expect(o.depth()).toBe(3);
      o.release();
      const left = await o.claim(100);
      expect(left.map((e) => e.reading)).toEqual([climate(1), climate(3), climate(4)]);
    });

    it('hands out each entry once until release(), then again from the oldest un-acked', async () => {
      const o = make();
      await o.append([0, 1, 2, 3, 4, 5].map((i) => climate(i)));
      const a = await o.claim(2);
      const b = await o.claim(2);
      expect(a.map((e) => e.reading.time)).toEqual([climate(0).time, climate(1).time]);
      expect(b.map((e) => e.reading.time)).toEqual([climate(2).time, climate(3).time]);
      await o.ack(a.map((e) => e.id));
      expect(o.depth()).toBe(4);
      o.release();
      const c = await o.claim(10);
      expect(c.map((e) => e.reading.time)).toEqual([2, 3, 4, 5].map((i) => climate(i).time));
      expect(await o.claim(10)).toEqual([]);
      // Acking twice (a duplicate PUBACK path) is harmless.
      await o.ack(a.map((e) => e.id));
      expect(o.depth()).toBe(4);
    });

    it('keeps appended, un-acked readings across close and reopen; acked ones stay gone', async () => {
      const first = make();
      await first.append(Array.from({ length: 5 }, (_, i) => climate(i)));
      const claimed = await first.claim(2);
      await first.ack(claimed.map((e) => e.id));
      await first.claim(2); // claimed, never acked: must survive
      await first.close();
      const second = make();
      expect(second.depth()).toBe(3);
      const got = await second.claim(10);
      expect(got.map((e) => e.reading)).toEqual([climate(2), climate(3), climate(4)]);
      // New appends after reopen come after the old ones.
      await second.append([climate(99)]);
      const next = await second.claim(10);
      expect(next.map((e) => e.reading)).toEqual([climate(99)]);
      expect(next[0]!.id).toBeGreaterThan(got[2]!.id);
    });

    it('refuses an append over maxReadings with retriable E_OUTBOX_FULL, stores none of it, counts it', async () => {
      const o = make({ ...WIDE, maxReadings: 5 });
      await o.append([0, 1, 2, 3].map((i) => climate(i)));
      const err = await o.append([climate(4), climate(5)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe('E_OUTBOX_FULL');
      expect((err as GatewayError).retriable).toBe(true);
      expect(o.depth()).toBe(4);
      expect(o.dropped()).toEqual({ expired: 0, refused_full: 2 });
      // One more fits exactly (4 + 1 = 5).
      await o.append([climate(4)]);
      // After delivery frees space, appends are accepted again; the oldest were never dropped.
      const got = await o.claim(10);
      expect(got.map((e) => e.reading)).toEqual([0, 1, 2, 3, 4].map((i) => climate(i)));
      await o.ack(got.slice(0, 2).map((e) => e.id));
      await o.append([climate(5), climate(6)]);
      expect(o.depth()).toBe(5);
    });

    it('bounds bytes by the UTF-8 JSON size of the readings', async () => {
      const one = Buffer.byteLength(JSON.stringify(climate(1)));
      expect(Buffer.byteLength(JSON.stringify(climate(2)))).toBe(one); // same-size readings
      const o = make({ ...WIDE, maxBytes: one * 3 });
      await o.append([climate(1), climate(2), climate(3)]);
      expect(o.bytes()).toBe(one * 3);
      await expect(o.append([climate(4)])).rejects.toMatchObject({ code: 'E_OUTBOX_FULL' });
      expect(o.dropped().refused_full).toBe(1);
      expect(o.depth()).toBe(3);
    });

    // 3 readings against room for 2 (count), and 2 readings against room for 1.5 (bytes): waiting for
    // the uplink to drain can never make either fit, so a retry would hold its source forever.
    it('refuses an append with more readings than maxReadings as non-retriable E_OUTBOX_ENTRY_TOO_LARGE', async () => {
      const byCount = make({ ...WIDE, maxReadings: 2 });
      const a = await byCount.append([climate(1), climate(2), climate(3)]).catch((e: unknown) => e);
      expect(a).toMatchObject({ code: 'E_OUTBOX_ENTRY_TOO_LARGE', retriable: false });
      expect(byCount.depth()).toBe(0);
      expect(byCount.dropped().refused_full).toBe(3);
      await byCount.append([climate(4), climate(5)]);
      expect(byCount.depth()).toBe(2);
    });

    it('refuses an append with more bytes than maxBytes as non-retriable E_OUTBOX_ENTRY_TOO_LARGE', async () => {
      const one = Buffer.byteLength(JSON.stringify(climate(1)));
      const byBytes = make({ ...WIDE, maxBytes: Math.floor(one * 1.5) });
      const b = await byBytes.append([climate(1), climate(2)]).catch((e: unknown) => e);
      expect(b).toMatchObject({ code: 'E_OUTBOX_ENTRY_TOO_LARGE', retriable: false });
      expect(byBytes.depth()).toBe(0);
      await byBytes.append([climate(3)]);
      expect(byBytes.depth()).toBe(1);
    });

    it('drops readings older than maxAgeMs, counts them as expired, and reports the oldest age', async () => {
      const o = make({ ...WIDE, maxAgeMs: 60_000 });
      expect(o.oldestAgeMs()).toBeNull();
      await o.append([climate(0), climate(1)]);
      clock.t += 30_000;
      await o.append([climate(2)]);
      expect(o.oldestAgeMs()).toBe(30_000);
      clock.t += 45_000; // first two are 75 s old, the third 45 s
      const got = await o.claim(10);
      expect(got.map((e) => e.reading)).toEqual([climate(2)]);
      expect(o.dropped()).toEqual({ expired: 2, refused_full: 0 });
      expect(o.depth()).toBe(1);
      expect(o.oldestAgeMs()).toBe(45_000);
    });

    it('notifies listeners after a durable append', async () => {
      const o = make();
      let calls = 0;
      const off = o.onAppend(() => calls++);
      await o.append([climate(0)]);
      expect(calls).toBe(1);
      off();
      await o.append([climate(1)]);
      expect(calls).toBe(1);
    });

    it('loses nothing and keeps order when appends continue while a consumer drains', async () => {
      const o = make();
      const total = 2_000;
      const producer = (async () => {
        for (let i = 0; i < total; i += 40) {
          await o.append(Array.from({ length: 40 }, (_, k) => climate(i + k)));
        }
      })();
      const seen: string[] = [];
      let producerDone = false;
      producer.then(() => (producerDone = true), () => undefined);
      while (!producerDone || o.depth() > 0) {
        const batch = await o.claim(70);
        if (batch.length === 0) {
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        for (const e of batch) seen.push(e.reading.time);
        await o.ack(batch.map((e) => e.id));
      }
      await producer;
      expect(seen).toEqual(Array.from({ length: total }, (_, i) => climate(i).time));
      expect(o.depth()).toBe(0);
      expect(o.dropped()).toEqual({ expired: 0, refused_full: 0 });
    });

    it('rejects use after close', async () => {
      const o = make();
      await o.close();
      await expect(o.append([climate(0)])).rejects.toMatchObject({ code: 'E_OUTBOX_CLOSED' });
    });
  });
}

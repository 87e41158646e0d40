import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatformError } from '../../devices/contract/errors.ts';
import { InfluxWriter, backoffDelay, parseRetryAfter } from '../../ingest/influx-writer.ts';
import { startInfluxDB, type InfluxHandle } from '../support/services.ts';

describe('backoff', () => {
  it('is full jitter under an exponential ceiling capped at max', () => {
    expect(backoffDelay(0, 100, 5000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 5000, () => 0.5)).toBe(400); // ceiling 800
    expect(backoffDelay(20, 100, 5000, () => 0.999)).toBe(4995); // capped at 5000
    expect(backoffDelay(20, 100, 5000, () => 0)).toBe(0);
  });
  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});

describe('InfluxWriter against InfluxDB 1.x', () => {
  let influx: InfluxHandle;
  beforeAll(async () => {
    influx = await startInfluxDB();
  });
  afterAll(async () => {
    await influx.dispose();
  });

  it('bisects a partial write and reports exactly the refused lines with InfluxDB’s reason', async () => {
    const writer = new InfluxWriter({ url: influx.url, db: influx.db, rp: 'raw', retryBaseMs: 10 });
    const t0 = Date.now() - 60_000;
    // First fix the field type of `temperature` as float.
    expect((await writer.write([`climate,device=d0,torg=t temperature=1.5 ${t0}`])).rejected).toEqual([]);
    const lines: string[] = [];
    for (let i = 0; i < 37; i++) {
      const conflicting = i === 3 || i === 20 || i === 36;
      lines.push(`climate,device=d${i % 5},torg=t temperature=${conflicting ? '"hot"' : `${i}.25`} ${t0 + 1 + i}`);
    }
    lines[11] = 'climate,device=dx,torg=t this is not line protocol';
    const outcome = await writer.write(lines);
    await writer.close();
    expect(outcome.rejected.map((r) => r.index)).toEqual([3, 11, 20, 36]);
    expect(outcome.rejected[0]!.reason).toMatch(/field type conflict/);
    expect(outcome.rejected[1]!.reason).toMatch(/unable to parse/);
    // 1 + 37 - 4 points stored, each good one with its value.
    const rows = await influx.select(`SELECT temperature FROM raw.climate WHERE torg='t'`);
    expect(rows.length).toBe(34);
    expect(rows.find((r) => r.time === t0 + 1 + 35)?.temperature).toBe(35.25);
  });

  it('retries while InfluxDB is down and completes once it is back', async () => {
    await influx.stop();
    let retries = 0;
    const w = new InfluxWriter({ url: influx.url, db: influx.db, rp: 'raw', retryBaseMs: 50, retryMaxMs: 300, onRetry: () => retries++ });
    const ts = Date.now() - 30_000;
    const pending = w.write([`health,device=r1,torg=retry battery=55 ${ts}`]);
    await new Promise((r) => setTimeout(r, 1000));
    await influx.start();
    expect((await pending).rejected).toEqual([]);
    await w.close();
    expect(retries).toBeGreaterThan(0);
    const rows = await influx.select(`SELECT battery FROM raw.health WHERE torg='retry'`);
    expect(rows).toEqual([{ time: ts, battery: 55 }]);
  });

  it('close() ends a retrying write with retriable E_INFLUX_UNAVAILABLE', async () => {
    const w = new InfluxWriter({ url: 'http://127.0.0.1:1', db: 'x', retryBaseMs: 10, retryMaxMs: 20 });
    const pending = w.write(['m v=1 1']);
    await new Promise((r) => setTimeout(r, 100));
    await w.close();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe('E_INFLUX_UNAVAILABLE');
    expect((err as PlatformError).retriable).toBe(true);
  });
});

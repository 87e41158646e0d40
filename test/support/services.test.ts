/**
 * The test-support library itself: real daemons through scripts/*.sh, restart on the same port and data,
 * several InfluxDB instances side by side, cleanup of temp dirs.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { RP_AGGREGATES, RP_RAW } from '../../devices/contract/influx-layout.ts';
import { freePort, startInfluxDB, startMosquitto, startStack } from './services.ts';
import type { InfluxHandle, Stack } from './services.ts';

/** Inside RP raw's 90 days: InfluxDB refuses points older than the default RP's duration (400). */
const RECENT = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;

async function write(influx: InfluxHandle, lines: string): Promise<void> {
  const response = await fetch(`${influx.url}/write?db=${influx.db}&precision=ms`, { method: 'POST', body: lines });
  expect(response.status).toBe(204);
}

describe('freePort', () => {
  it('returns a loopback port in the TCP range', async () => {
    const port = await freePort();
    expect(Number.isInteger(port)).toBe(true);
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
  });
});

describe('startStack', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.dispose();
  });

  it('creates the database with RP raw (90d, default) and forever (INF)', async () => {
    const rows = await stack.influx.select(`SHOW RETENTION POLICIES ON "${stack.influx.db}"`);
    const byName = new Map(rows.map((r) => [r['name'], r]));
    expect(stack.influx.db).toBe('innbyggertorg');
    expect(byName.get(RP_RAW)?.['duration']).toBe('2160h0m0s'); // 90 d × 24 h
    expect(byName.get(RP_RAW)?.['default']).toBe(true);
    expect(byName.get(RP_AGGREGATES)?.['duration']).toBe('0s'); // InfluxQL shows INF as 0s
    expect(byName.get(RP_AGGREGATES)?.['default']).toBe(false);
    expect(rows).toHaveLength(2);
  });

  it('counts points exactly, with and without a field, and select returns rows with tags', async () => {
    const t = RECENT;
    // Three points in two series; the third lacks `count`.
    await write(
      stack.influx,
      [
        `presence,torg=asker-sentrum,device=d1 occupied=true,count=3i ${t}`,
        `presence,torg=asker-sentrum,device=d1 occupied=false,count=0i ${t + 60_000}`,
        `presence,torg=heggedal,device=d2 occupied=true ${t}`,
      ].join('\n'),
    );
    expect(await stack.influx.count('presence')).toBe(3);
    expect(await stack.influx.count('presence', 'count')).toBe(2);
    expect(await stack.influx.count('door')).toBe(0);
    expect(await stack.influx.count('door', 'open')).toBe(0);
    const rows = await stack.influx.select(`SELECT "count" FROM "presence" WHERE "device" = 'd1' GROUP BY "torg"`);
    expect(rows).toEqual([
      { torg: 'asker-sentrum', time: t, count: 3 },
      { torg: 'asker-sentrum', time: t + 60_000, count: 0 },
    ]);
    await expect(stack.influx.query('SELECT FROM')).rejects.toThrow(/InfluxDB/);
  });

  it('publishes and receives through the broker', async () => {
    const client = await mqtt.connectAsync(stack.mqtt.url, { reconnectPeriod: 0 });
    try {
      await client.subscribeAsync('t/x', { qos: 1 });
      const got = new Promise<string>((resolve) => client.once('message', (_t, p) => resolve(p.toString())));
      await client.publishAsync('t/x', 'hei', { qos: 1 });
      expect(await got).toBe('hei');
    } finally {
      await client.endAsync();
    }
  });
});

describe('restart and cleanup', () => {
  it('InfluxDB keeps data across stop/start and kill -9/start on the same port; dispose removes the temp dir', async () => {
    const influx = await startInfluxDB({ db: 'restart_test' });
    try {
      const port = influx.port;
      await write(influx, `climate,torg=a,device=c1 temperature=21.5 ${RECENT}`);
      await influx.stop();
      await expect(fetch(`${influx.url}/ping`)).rejects.toThrow();
      await influx.start();
      expect(influx.port).toBe(port);
      expect(await influx.count('climate', 'temperature')).toBe(1);
      await influx.kill9();
      await influx.start();
      // The WAL is replayed on start: an acknowledged write survives a crash.
      expect(await influx.select('SELECT temperature FROM climate')).toEqual([{ time: RECENT, temperature: 21.5 }]);
    } finally {
      await influx.dispose();
    }
    expect(existsSync(influx.dataDir)).toBe(false);
  });

  it('runs two InfluxDB instances at once, isolated from each other', async () => {
    const [a, b] = await Promise.all([startInfluxDB(), startInfluxDB()]);
    try {
      expect(a.port).not.toBe(b.port);
      await write(a, `door,torg=a,device=x open=true ${RECENT}`);
      expect(await a.count('door', 'open')).toBe(1);
      expect(await b.count('door', 'open')).toBe(0);
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });

  it('Mosquitto comes back on the same port after kill -9', async () => {
    const broker = await startMosquitto();
    try {
      await broker.kill9();
      await expect(mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 2_000 })).rejects.toThrow();
      await broker.start();
      const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      await client.endAsync();
    } finally {
      await broker.dispose();
    }
    expect(existsSync(broker.dataDir)).toBe(false);
  });
});

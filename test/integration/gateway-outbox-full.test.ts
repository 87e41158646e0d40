/**
 * A full outbox behaves as documented (gateway/outbox/outbox.ts): over its size limit it refuses
 * new appends with a retriable error and counts them (refused_full); the MQTT source then holds the
 * message un-acked, so the local broker keeps it, and nothing is lost once the uplink drains.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { startGateway, type GatewayHandle } from '../../gateway/main.ts';
import type { IngestHandle } from '../../ingest/main.ts';
import { startMosquitto, startStack, type MosquittoHandle, type Stack } from '../support/services.ts';
import { silent, startTestIngest, waitFor } from './gateway-helpers.ts';

describe('gateway with a full outbox', () => {
  let stack: Stack;
  let local: MosquittoHandle;
  let ingest: IngestHandle;
  let gateway: GatewayHandle;
  let dir: string;

  beforeAll(async () => {
    [stack, local] = await Promise.all([startStack(), startMosquitto()]);
    ingest = await startTestIngest(stack, 'ingest-full-test');
    dir = mkdtempSync(join(tmpdir(), 'gw-full-'));
  });

  afterAll(async () => {
    await gateway?.stop();
    await ingest?.stop();
    await Promise.all([stack?.dispose(), local?.dispose()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses and counts over the limit, holds the source data, and loses nothing once drained', async () => {
    await stack.mqtt.stop(); // central broker down from the start
    gateway = await startGateway(
      parseGatewayConfig({
        gateway: 'gw-full',
        torg: 'asker-sentrum',
        devMode: true,
        central: { url: stack.mqtt.url, reconnect: { initialMs: 100, maxMs: 500 } },
        outbox: { path: join(dir, 'outbox.db'), maxReadings: 50 },
        http: { host: '127.0.0.1', port: 0 },
        sources: [{ type: 'mqtt', name: 'sim', url: local.url, topics: ['sim/readings'], format: 'readings-json' }],
      }),
      { logger: silent, defaultMetrics: false },
    );
    const producer = await mqtt.connectAsync(local.url, { clientId: 'full-test-producer' });
    const t0 = Date.now() - 3_600_000;
    // 80 messages of one reading each, against room for 50.
    for (let i = 0; i < 80; i++) {
      await producer.publishAsync('sim/readings', JSON.stringify({ kind: 'door', device: '0x00158d0001a2b3c4', time: new Date(t0 + i * 1000).toISOString(), open: i % 2 === 0 }), { qos: 1 });
    }
    await producer.endAsync();

    await waitFor('outbox full and refusing', () => gateway.outbox.depth() === 50 && gateway.outbox.dropped().refused_full > 0, 30_000);
    const metricsText = await (await fetch(`http://127.0.0.1:${gateway.httpPort}/metrics`)).text();
    const refused = /gateway_outbox_dropped_total\{reason="refused_full"\} (\d+)/.exec(metricsText);
    expect(Number(refused?.[1])).toBeGreaterThan(0);
    expect(gateway.outbox.dropped().expired).toBe(0);
    // The oldest 50 are the ones kept (refusing new data never pushes out old data).
    const health = (await (await fetch(`http://127.0.0.1:${gateway.httpPort}/healthz`)).json()) as { outbox: { depth: number } };
    expect(health.outbox.depth).toBe(50);

    await stack.mqtt.start();
    await waitFor('all 80 in InfluxDB', async () => (await stack.influx.count('"raw"."door"', 'open')) >= 80, 60_000);
    const rows = await stack.influx.select(`SELECT open FROM "raw"."door"`);
    expect(rows.length).toBe(80);
    // open alternates true/false from reading 0: 40 of each.
    expect(rows.filter((r) => r.open === true).length).toBe(40);
    expect(rows.map((r) => r.time)).toEqual(Array.from({ length: 80 }, (_, i) => t0 + i * 1000));
  });
});

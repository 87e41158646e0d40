/**
 * Re-birth of many devices on a real broker: 500 known devices, one ingest comes online, and every
 * device's birth arrives again exactly once, sent through the bounded window and the births-per-
 * second limit (the elapsed time is logged for the record, not asserted).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceBirthSchema } from '../../devices/contract/device-messages.schema.ts';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { startGateway, type GatewayHandle } from '../../gateway/main.ts';
import { startMosquitto, type MosquittoHandle } from '../support/services.ts';
import { silent, waitFor } from './gateway-helpers.ts';

const N = 500;
const device = (i: number) => `sim-room-${String(i).padStart(3, '0')}`;

describe('gateway re-birth of 500 devices', () => {
  let central: MosquittoHandle;
  let local: MosquittoHandle;
  let gateway: GatewayHandle;
  let observer: MqttClient;
  let dir: string;
  const births = new Map<string, number>();
  const total = () => [...births.values()].reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    [central, local] = await Promise.all([startMosquitto(), startMosquitto()]);
    observer = await mqtt.connectAsync(central.url, { clientId: 'rebirth-test-observer' });
    observer.on('message', (_t, payload) => {
      const b = deviceBirthSchema.parse(JSON.parse(payload.toString('utf8')));
      births.set(b.device, (births.get(b.device) ?? 0) + 1);
    });
    await observer.subscribeAsync(topics.deviceBirth('tofte', 'gw-burst', '+'), { qos: 1 });
    dir = mkdtempSync(join(tmpdir(), 'gw-rebirth-'));
    gateway = await startGateway(
      parseGatewayConfig({
        gateway: 'gw-burst',
        torg: 'tofte',
        devMode: true,
        central: { url: central.url },
        outbox: { path: join(dir, 'outbox.db') },
        http: { host: '127.0.0.1', port: 0 },
        announce: { rebirthDelayMs: 100, birthsPerSecond: 250 },
        sources: [{ type: 'mqtt', name: 'sim', url: local.url, topics: ['sim/readings'], format: 'readings-json' }],
      }),
      { logger: silent, defaultMetrics: false },
    );
  });

  afterAll(async () => {
    await gateway?.stop();
    await observer?.endAsync();
    await Promise.all([central?.dispose(), local?.dispose()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('re-sends every birth exactly once', async () => {
    const producer = await mqtt.connectAsync(local.url, { clientId: 'rebirth-test-producer' });
    const time = new Date().toISOString();
    await producer.publishAsync('sim/readings', JSON.stringify(Array.from({ length: N }, (_, i) => ({ device: device(i), time, kind: 'presence', occupied: i % 2 === 0 }))), { qos: 1 });
    await producer.endAsync();
    await waitFor('first births', () => births.size === N, 30_000);
    expect(total()).toBe(N);

    const t0 = Date.now();
    await observer.publishAsync(topics.ingestState('ingest-1'), '{"online":true}', { qos: 1 });
    await waitFor('re-births', () => total() === 2 * N, 60_000);
    console.log(`re-birth of ${N} devices at 250/s: ${Date.now() - t0} ms`);
    expect([...births.values()].every((n) => n === 2)).toBe(true);
    expect(births.size).toBe(N);
  }, 120_000);
});

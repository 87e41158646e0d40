/**
 * A gateway must start even when its local source broker is down at boot (review finding: sources
 * were awaited one by one, and an MQTT source resolves only once connected, so one dead local broker
 * kept every later source, and the gateway itself, from starting). It starts, announces itself on the
 * central broker, and the source connects in the background once the local broker appears.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { envelopeSchema, type Reading } from '../../devices/contract/reading.schema.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { startGateway, type GatewayHandle } from '../../gateway/main.ts';
import { freePort, startMosquitto, type MosquittoHandle } from '../support/services.ts';
import { silent, waitFor } from './gateway-helpers.ts';

describe('gateway start-up with its local broker down', () => {
  let central: MosquittoHandle;
  let local: MosquittoHandle | undefined;
  let gateway: GatewayHandle | undefined;
  let consumer: MqttClient;
  let dir: string;
  const received: Reading[] = [];
  const states: unknown[] = [];

  beforeAll(async () => {
    central = await startMosquitto();
    consumer = await mqtt.connectAsync(central.url, { clientId: 'startup-test-consumer' });
    consumer.on('message', (topic, payload) => {
      if (topic.endsWith('/state')) states.push(JSON.parse(payload.toString('utf8')));
      else received.push(...envelopeSchema.parse(JSON.parse(payload.toString('utf8'))).readings);
    });
    await consumer.subscribeAsync([topics.readings('tofte', 'gw-boot'), topics.gatewayState('tofte', 'gw-boot')], { qos: 1 });
    dir = mkdtempSync(join(tmpdir(), 'gw-startup-'));
  });

  afterAll(async () => {
    await gateway?.stop();
    await consumer?.endAsync();
    await Promise.all([central?.dispose(), local?.dispose()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts and announces itself, then takes readings once the local broker comes up', async () => {
    const localPort = await freePort(); // nothing listens here yet
    gateway = await startGateway(
      parseGatewayConfig({
        gateway: 'gw-boot',
        torg: 'tofte',
        devMode: true,
        central: { url: central.url },
        outbox: { path: join(dir, 'outbox.db') },
        http: { host: '127.0.0.1', port: 0 },
        sources: [{ type: 'mqtt', name: 'late', url: `mqtt://127.0.0.1:${localPort}`, topics: ['sim/readings'], format: 'readings-json' }],
      }),
      { logger: silent, defaultMetrics: false },
    );
    expect((await fetch(`http://127.0.0.1:${gateway.httpPort}/healthz`)).status).toBeLessThan(600);
    await waitFor('birth on the central broker', () => states.some((s) => (s as { online?: boolean }).online === true), 15_000);

    local = await startMosquitto({ port: localPort });
    const reading = { kind: 'door', device: '24e124000000b001', time: new Date(Date.now() - 1000).toISOString(), open: true };
    const producer = await mqtt.connectAsync(local.url, { clientId: 'startup-test-producer' });
    try {
      // The source subscribes when it connects; publish until the reading comes through.
      await waitFor(
        'the reading through the late source',
        async () => {
          if (received.some((r) => r.device === reading.device)) return true;
          await producer.publishAsync('sim/readings', JSON.stringify(reading), { qos: 1 });
          return false;
        },
        30_000,
      );
    } finally {
      await producer.endAsync();
    }
    expect(received.find((r) => r.device === reading.device)).toMatchObject({ kind: 'door', open: true, time: reading.time });
  });
});

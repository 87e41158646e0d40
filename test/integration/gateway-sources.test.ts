/**
 * Source wiring end to end on real brokers: a ChirpStack v4 uplink on the local LNS broker is
 * parsed, decoded by the configured device model, normalised, stored and published to the central
 * broker; bad input is counted, kept at /rejected, and never stops the gateway.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { envelopeSchema, type Reading } from '../../devices/contract/reading.schema.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { startGateway, type GatewayHandle } from '../../gateway/main.ts';
import { startMosquitto, type MosquittoHandle } from '../support/services.ts';
import { silent, waitFor } from './gateway-helpers.ts';

const fixture = JSON.parse(readFileSync(new URL('../gateway/fixtures/chirpstack-v4-up-ws301.json', import.meta.url), 'utf8')) as {
  envelope: Record<string, unknown>;
};

describe('gateway sources', () => {
  let central: MosquittoHandle;
  let local: MosquittoHandle;
  let gateway: GatewayHandle;
  let consumer: MqttClient;
  let producer: MqttClient;
  let dir: string;
  const received: Reading[] = [];

  beforeAll(async () => {
    [central, local] = await Promise.all([startMosquitto(), startMosquitto()]);
    consumer = await mqtt.connectAsync(central.url, { clientId: 'sources-test-consumer' });
    consumer.on('message', (_t, payload) => received.push(...envelopeSchema.parse(JSON.parse(payload.toString('utf8'))).readings));
    await consumer.subscribeAsync(topics.readings('asker-sentrum', 'gw-src'), { qos: 1 });
    dir = mkdtempSync(join(tmpdir(), 'gw-sources-'));
    gateway = await startGateway(
      parseGatewayConfig({
        gateway: 'gw-src',
        torg: 'asker-sentrum',
        devMode: true,
        central: { url: central.url },
        outbox: { path: join(dir, 'outbox.db') },
        http: { host: '127.0.0.1', port: 0 },
        devices: { '24E124000000A301': { model: 'milesight-ws301' } },
        sources: [
          { type: 'mqtt', name: 'chirpstack', url: local.url, topics: ['application/+/device/+/event/up'], format: 'chirpstack-v4' },
          { type: 'mqtt', name: 'sim', url: local.url, topics: ['sim/readings'], format: 'readings-json' },
        ],
      }),
      { logger: silent, defaultMetrics: false },
    );
    producer = await mqtt.connectAsync(local.url, { clientId: 'sources-test-producer' });
  });

  afterAll(async () => {
    await producer?.endAsync();
    await gateway?.stop();
    await consumer?.endAsync();
    await Promise.all([central?.dispose(), local?.dispose()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('decodes a ChirpStack uplink with the configured model and forwards the readings', async () => {
    const seconds = Math.floor(Date.now() / 1000) - 60;
    const iso = new Date(seconds * 1000).toISOString().slice(0, 19); // YYYY-MM-DDTHH:mm:ss
    const envelope = { ...fixture.envelope, time: `${iso}.427430120+00:00` };
    await producer.publishAsync('application/1ebdc5b7-d43d-46e0-9a4e-bd50ad2d86d2/device/24e124000000a301/event/up', JSON.stringify(envelope), { qos: 1 });
    await waitFor('3 readings at the central broker', () => received.length >= 3, 10_000);
    const time = `${iso}.427Z`; // nanoseconds truncated to ms by the parser
    const byKind = received.map((r) => ({ ...r, receivedAt: undefined }));
    // WS301 README example: magnet open, battery 100 %; the radio metadata (rssi -74, snr 9.8) as a
    // health reading of its own.
    expect(byKind).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'door', device: '24e124000000a301', time, open: true, timeSource: 'network' }),
        expect.objectContaining({ kind: 'health', device: '24e124000000a301', time, battery: 100 }),
        expect.objectContaining({ kind: 'health', device: '24e124000000a301', time, rssi: -74, snr: 9.8 }),
      ]),
    );
    expect(received).toHaveLength(3);
    for (const r of received) expect(typeof r.receivedAt).toBe('string');
  });

  it('counts and keeps bad input at /rejected without stopping', async () => {
    const now = new Date(Date.now() - 1000).toISOString();
    await producer.publishAsync('sim/readings', JSON.stringify([{ kind: 'climate', device: 'a84041000181c0de', time: now, humidity: 140 }, { kind: 'climate', device: 'a84041000181c0de', time: now, co2: 800 }]), { qos: 1 });
    await producer.publishAsync('application/x/device/0011223344556677/event/up', JSON.stringify({ ...fixture.envelope, time: `${now.slice(0, 19)}.000000000+00:00`, deviceInfo: { ...(fixture.envelope.deviceInfo as object), devEui: '0011223344556677' } }), { qos: 1 });
    await producer.publishAsync('sim/readings', 'not json', { qos: 1 });
    const base = `http://127.0.0.1:${gateway.httpPort}`;
    await waitFor('3 rejects', async () => ((await (await fetch(`${base}/rejected`)).json()) as { total: number }).total >= 3, 10_000);
    const rejected = (await (await fetch(`${base}/rejected`)).json()) as { total: number; entries: { source: string; reason: string }[] };
    expect(rejected.total).toBe(3);
    expect(rejected.entries.map((e) => `${e.source}:${e.reason}`).sort()).toEqual(
      ['chirpstack:E_DECODE_UNKNOWN_DEVICE', 'sim:E_READING_OUT_OF_RANGE', 'sim:E_SOURCE_NOT_JSON'].sort(),
    );
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('gateway_readings_rejected_total{reason="E_READING_OUT_OF_RANGE"} 1');
    expect(metrics).toContain('gateway_decode_failures_total{source="chirpstack",reason="E_DECODE_UNKNOWN_DEVICE"} 1');
    // The good reading of the mixed message went through.
    await waitFor('co2 reading forwarded', () => received.some((r) => r.kind === 'climate' && r.co2 === 800), 10_000);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});

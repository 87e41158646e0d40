/**
 * Device announcements on real brokers (issue 4): births before the first reading, a retained
 * inventory, re-births when an ingest comes online, and per-device config applied live.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceBirthSchema, inventorySchema, type DeviceBirth } from '../../devices/contract/device-messages.schema.ts';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { envelopeSchema, type Reading } from '../../devices/contract/reading.schema.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { startGateway, type GatewayHandle } from '../../gateway/main.ts';
import { startMosquitto, type MosquittoHandle } from '../support/services.ts';
import { silent, waitFor } from './gateway-helpers.ts';

const fixture = JSON.parse(readFileSync(new URL('../gateway/fixtures/chirpstack-v4-up-ws301.json', import.meta.url), 'utf8')) as {
  envelope: Record<string, unknown>;
};
const TORG = 'asker-sentrum';
const GW = 'gw-dev';
const WS301 = '24e124000000a301';

type Seen = { kind: 'birth'; birth: DeviceBirth } | { kind: 'readings'; readings: Reading[] } | { kind: 'other'; topic: string };

describe('gateway device announcements', () => {
  let central: MosquittoHandle;
  let local: MosquittoHandle;
  let gateway: GatewayHandle;
  let observer: MqttClient;
  let producer: MqttClient;
  let platform: MqttClient;
  let dir: string;
  const seen: Seen[] = [];
  const startedAt = Date.now();

  const births = (device: string) => seen.filter((s): s is Extract<Seen, { kind: 'birth' }> => s.kind === 'birth' && s.birth.device === device);
  const forwarded = (device: string) => seen.flatMap((s) => (s.kind === 'readings' ? s.readings.filter((r) => r.device === device) : []));
  const simReading = (device: string, temperature: number) => ({ device, time: new Date().toISOString(), kind: 'climate', temperature });
  const discarded = async () => (await gateway.metrics.readingsDiscarded.get()).values.find((v) => v.labels.reason === 'device_disabled')?.value ?? 0;

  beforeAll(async () => {
    [central, local] = await Promise.all([startMosquitto(), startMosquitto()]);
    observer = await mqtt.connectAsync(central.url, { clientId: 'devices-test-observer' });
    observer.on('message', (topic, payload) => {
      if (topic === topics.readings(TORG, GW)) seen.push({ kind: 'readings', readings: envelopeSchema.parse(JSON.parse(payload.toString('utf8'))).readings });
      else if (topic.endsWith('/birth')) seen.push({ kind: 'birth', birth: deviceBirthSchema.parse(JSON.parse(payload.toString('utf8'))) });
      else seen.push({ kind: 'other', topic });
    });
    await observer.subscribeAsync([topics.readings(TORG, GW), topics.deviceBirth(TORG, GW, '+')], { qos: 1 });
    platform = await mqtt.connectAsync(central.url, { clientId: 'devices-test-platform' });
    dir = mkdtempSync(join(tmpdir(), 'gw-devices-'));
    gateway = await startGateway(
      parseGatewayConfig({
        gateway: GW,
        torg: TORG,
        devMode: true,
        central: { url: central.url },
        outbox: { path: join(dir, 'outbox.db') },
        http: { host: '127.0.0.1', port: 0 },
        devices: { [WS301]: { model: 'milesight-ws301' } },
        announce: { inventoryDebounceMs: 100, rebirthDelayMs: 500 },
        sources: [
          { type: 'mqtt', name: 'chirpstack', url: local.url, topics: ['application/+/device/+/event/up'], format: 'chirpstack-v4' },
          { type: 'mqtt', name: 'sim', url: local.url, topics: ['sim/readings'], format: 'readings-json' },
        ],
      }),
      { logger: silent, defaultMetrics: false },
    );
    producer = await mqtt.connectAsync(local.url, { clientId: 'devices-test-producer' });
  });

  afterAll(async () => {
    await producer?.endAsync();
    await gateway?.stop();
    await Promise.all([observer?.endAsync(), platform?.endAsync()]);
    await Promise.all([central?.dispose(), local?.dispose()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('announces each device with a birth that reaches a subscriber before the envelope with its first reading', async () => {
    const iso = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString().slice(0, 19);
    await producer.publishAsync(
      `application/1ebdc5b7-d43d-46e0-9a4e-bd50ad2d86d2/device/${WS301}/event/up`,
      JSON.stringify({ ...fixture.envelope, time: `${iso}.427430120+00:00` }),
      { qos: 1 },
    );
    await producer.publishAsync('sim/readings', JSON.stringify(simReading('sim-climate-1', 21.5)), { qos: 1 });
    await waitFor('readings of both devices', () => forwarded(WS301).length >= 3 && forwarded('sim-climate-1').length >= 1, 10_000);

    for (const device of [WS301, 'sim-climate-1']) {
      const firstBirth = seen.findIndex((s) => s.kind === 'birth' && s.birth.device === device);
      const firstEnvelope = seen.findIndex((s) => s.kind === 'readings' && s.readings.some((r) => r.device === device));
      expect(firstBirth, device).toBeGreaterThanOrEqual(0);
      expect(firstBirth, device).toBeLessThan(firstEnvelope);
    }
    const [ws] = births(WS301);
    // WS301: Milesight magnetic contact, battery powered, reports door + battery (devices/models/milesight/ws301.ts);
    // the radio metadata adds rssi/snr. deviceName "ws301-inngang" is in the fixture's deviceInfo.
    expect(ws?.birth).toMatchObject({
      model: 'milesight-ws301',
      kinds: ['door', 'health'],
      units: { battery: '%', open: 'boolean', rssi: 'dBm', snr: 'dB' },
      deviceClass: 'battery',
      source: 'chirpstack',
      name: 'ws301-inngang',
    });
    expect(ws?.birth.firstSeenAt).toBeGreaterThanOrEqual(startedAt);
    const [sim] = births('sim-climate-1');
    expect(sim?.birth).toMatchObject({ model: 'unknown', kinds: ['climate'], units: { temperature: '°C' }, source: 'direct' });
  });

  it('keeps a retained inventory of every device for a subscriber that comes later', async () => {
    const late = await mqtt.connectAsync(central.url, { clientId: 'devices-test-late' });
    try {
      let got: unknown;
      await waitFor(
        'retained inventory listing both devices',
        async () => {
          // A fresh promise per attempt: the first retained inventory may predate the second device
          // (the gateway publishes it debounced), and a settled promise would keep answering with it.
          const inventory = new Promise<unknown>((resolve) => late.once('message', (_t, payload) => resolve(JSON.parse(payload.toString('utf8')))));
          await late.unsubscribeAsync(topics.inventory(TORG, GW));
          await late.subscribeAsync(topics.inventory(TORG, GW), { qos: 1 });
          got = await Promise.race([inventory, new Promise((r) => setTimeout(r, 300))]);
          return got !== undefined && inventorySchema.parse(got).devices.length === 2;
        },
        10_000,
      );
      expect(inventorySchema.parse(got).devices.map((d) => [d.device, d.model])).toEqual([
        [WS301, 'milesight-ws301'],
        ['sim-climate-1', 'unknown'],
      ]);
    } finally {
      await late.endAsync();
    }
  });

  it('re-sends the births of every known device once when ingests announce themselves online', async () => {
    const before = { ws: births(WS301).length, sim: births('sim-climate-1').length };
    const rebirths = (await gateway.metrics.rebirths.get()).values[0]?.value ?? 0;
    // Two instances coming online together: one re-birth (coalesced within rebirthDelayMs).
    await platform.publishAsync(topics.ingestState('ingest-a'), '{"online":true}', { qos: 1, retain: true });
    await platform.publishAsync(topics.ingestState('ingest-b'), '{"online":true}', { qos: 1, retain: true });
    await waitFor('re-births of both devices', () => births(WS301).length > before.ws && births('sim-climate-1').length > before.sim, 10_000);
    await waitFor('re-birth counted', async () => ((await gateway.metrics.rebirths.get()).values[0]?.value ?? 0) > rebirths, 5_000);
    expect((await gateway.metrics.rebirths.get()).values[0]?.value).toBe(rebirths + 1);
    expect(births(WS301).length).toBe(before.ws + 1);
    expect(births('sim-climate-1').length).toBe(before.sim + 1);
    const re = births(WS301).at(-1);
    // Same record: the first-seen time of the device does not move with a re-birth.
    expect(re?.birth.firstSeenAt).toBe(births(WS301)[0]?.birth.firstSeenAt);
  });

  it('drops a disabled device at the gateway without a restart, and forwards it again when re-enabled', async () => {
    const config = (enabled: boolean) =>
      JSON.stringify({
        v: 1,
        device: 'sim-climate-1',
        status: 'active',
        enabled,
        place: { type: 'zone', zone: 'moterom-1' },
        placeName: 'Møterom 1',
        expectedIntervalS: 300,
        updatedAt: Date.now(),
      });
    const topic = topics.deviceConfig(TORG, GW, 'sim-climate-1');
    await platform.publishAsync(topic, config(false), { qos: 1, retain: true });
    await waitFor('config applied', () => gateway.deviceConfigs.get('sim-climate-1')?.enabled === false, 5_000);
    const discardedBefore = await discarded();

    // A reading of the disabled device, then one of another device as a marker: one FIFO outbox, so
    // once the marker is at the broker, the first would have been too had it been forwarded.
    await producer.publishAsync('sim/readings', JSON.stringify(simReading('sim-climate-1', 22.2)), { qos: 1 });
    await producer.publishAsync('sim/readings', JSON.stringify(simReading('sim-marker-1', 19.0)), { qos: 1 });
    await waitFor('marker forwarded', () => forwarded('sim-marker-1').length === 1, 10_000);
    expect(forwarded('sim-climate-1').map((r) => (r.kind === 'climate' ? r.temperature : null))).toEqual([21.5]);
    expect(await discarded()).toBe(discardedBefore + 1);

    // An invalid config is ignored: the device stays disabled.
    await platform.publishAsync(topic, JSON.stringify({ v: 1, device: 'sim-climate-1', enabled: 'yes' }), { qos: 1, retain: true });
    await waitFor('invalid config counted', async () => (await gateway.metrics.deviceConfigMessages.get()).values.some((v) => v.labels.outcome === 'E_CONFIG_INVALID'), 5_000);
    expect(gateway.deviceConfigs.get('sim-climate-1')?.enabled).toBe(false);

    await platform.publishAsync(topic, config(true), { qos: 1, retain: true });
    await waitFor('config applied', () => gateway.deviceConfigs.get('sim-climate-1')?.enabled === true, 5_000);
    await producer.publishAsync('sim/readings', JSON.stringify(simReading('sim-climate-1', 23.3)), { qos: 1 });
    await waitFor('reading forwarded again', () => forwarded('sim-climate-1').length === 2, 10_000);
    expect(forwarded('sim-climate-1').map((r) => (r.kind === 'climate' ? r.temperature : null))).toEqual([21.5, 23.3]);

    // An empty retained payload removes the config [MQTT-3.3.1-10].
    await platform.publishAsync(topic, '', { qos: 1, retain: true });
    await waitFor('config removed', () => gateway.deviceConfigs.get('sim-climate-1') === undefined, 5_000);
  });
});

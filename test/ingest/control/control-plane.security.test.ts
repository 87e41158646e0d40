/**
 * Security review of the control plane (ingest/control/control-plane.ts) on a real Mosquitto: what a
 * gateway with valid credentials of its own torg can make the control plane do to devices and
 * gateways of another torg, and how many pending devices one gateway can create.
 *
 * Torg and zone ids read by hand from config/torg.asker.sample.json: asker-sentrum has zone `sal`,
 * heggedal is another torg.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deviceConfigSchema, type DeviceBirthInput } from '../../../devices/contract/device-messages.schema.ts';
import { topics } from '../../../devices/contract/mqtt-topics.ts';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { parseAssignmentRules, type AssignmentRules } from '../../../ingest/control/assignment-rules.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../../ingest/control/control-plane.ts';
import { DeviceDirectory } from '../../../ingest/control/device-directory.ts';
import { LivenessTracker } from '../../../ingest/liveness/liveness.ts';
import { knownPlacesFromTorgConfig } from '../../../ingest/registry/registry.ts';
import { SqliteRegistry } from '../../../ingest/registry/sqlite-registry.ts';
import { SAMPLE_TORG_FILE } from '../registry/registry.contract.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';
import { waitFor } from '../../integration/ingest-helpers.ts';

const logger = pino({ level: 'silent' });
const torgConfig = loadTorgConfig(SAMPLE_TORG_FILE);
const knownPlaces = knownPlacesFromTorgConfig(torgConfig);
const RULES: AssignmentRules = parseAssignmentRules({ v: 1, rules: [{ name: 'zone tag', match: { labels: { zone: '/.+/' } }, assign: { type: 'zone', zone: { label: 'zone' } } }] });

function birth(device: string, over: Partial<DeviceBirthInput> = {}): string {
  const b: DeviceBirthInput = { v: 1, device, model: 'milesight-am319', kinds: ['door'], deviceClass: 'battery', source: 'chirpstack', firstSeenAt: Date.now() - 3_600_000, at: Date.now(), ...over };
  return JSON.stringify(b);
}

let broker: MosquittoHandle;
let gw: MqttClient;
const cleanup: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  broker = await startMosquitto();
  gw = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'sec-gateway' });
});
afterAll(async () => {
  await gw?.endAsync();
  await broker?.dispose();
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

let seq = 0;
/**
 * The real SQLite registry, with `getDevice` held while `hold.gate` is set: the control plane's first
 * registry call for a birth of a known gateway, so births pile up in its queue deterministically.
 */
function heldRegistry(registry: SqliteRegistry, hold: { gate: Promise<void> | null }): SqliteRegistry {
  return new Proxy(registry, {
    get(target, prop) {
      if (prop === 'getDevice')
        return async (id: string) => {
          if (hold.gate) await hold.gate;
          return target.getDevice(id);
        };
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function setup(
  over: Partial<Pick<ControlPlaneOptions, 'maxDevicesPerGateway' | 'maxQueuedBirths'>> & { gateways?: [string, string][]; hold?: { gate: Promise<void> | null } } = {},
): Promise<{ registry: SqliteRegistry; directory: DeviceDirectory; control: ControlPlane; metrics: MetricsRegistry }> {
  const dir = mkdtempSync(join(tmpdir(), 'control-sec-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const registry = new SqliteRegistry({ path: join(dir, 'registry.db'), knownPlaces, now: Date.now });
  // Registered before the control plane starts, so it knows them without a registry call.
  for (const [torg, id] of over.gateways ?? []) await registry.upsertGateway({ torg, id });
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `control-sec-${++seq}` });
  const directory = new DeviceDirectory();
  const metrics = new MetricsRegistry();
  const control = await startControlPlane({
    client,
    registry: over.hold ? heldRegistry(registry, over.hold) : registry,
    torgConfig,
    directory,
    liveness: new LivenessTracker(),
    rules: RULES,
    now: Date.now,
    logger,
    metricsRegistry: metrics,
    livenessEveryMs: 0,
    directoryDebounceMs: 50,
    ...(over.maxDevicesPerGateway !== undefined ? { maxDevicesPerGateway: over.maxDevicesPerGateway } : {}),
    ...(over.maxQueuedBirths !== undefined ? { maxQueuedBirths: over.maxQueuedBirths } : {}),
  });
  cleanup.push(async () => {
    await control.stop();
    await client.endAsync();
    await registry.close();
  });
  return { registry, directory, control, metrics };
}

/** The retained message on `topic` as a late subscriber sees it ('' = none). */
async function retainedOn(topic: string): Promise<string> {
  const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `late-sec-${++seq}` });
  let got = '';
  c.on('message', (t, payload, packet) => {
    if (t === topic && packet.retain) got = payload.toString('utf8');
  });
  await c.subscribeAsync(topic, { qos: 1 });
  // Retained messages are sent right after SUBACK [MQTT-3.3.1-9]; a round trip on the same
  // connection (a QoS 1 publish to an unrelated topic) orders after them.
  await c.publishAsync(`sec-probe/${seq}`, 'x', { qos: 1 });
  await c.endAsync();
  return got;
}

async function birthsByOutcome(metrics: MetricsRegistry): Promise<Record<string, number>> {
  const m = await metrics.getSingleMetric('ingest_device_births_total')!.get();
  return Object.fromEntries(m.values.map((v) => [String(v.labels['outcome']), v.value]));
}

describe('control plane: a gateway of another torg', () => {
  it("cannot clear the retained config of a device assigned in another torg by announcing it", async () => {
    const s = await setup({ gateways: [['asker-sentrum', 'gw-a'], ['heggedal', 'gw-b']] });
    const dev = 'e1e1e1e1e1e1e1e1';
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-a', dev), birth(dev, { labels: { zone: 'sal' } }), { qos: 1 });
    await waitFor(() => s.registry.getDevice(dev), (d) => d?.status === 'active', 10_000);
    await s.control.idle();
    const configTopic = topics.deviceConfig('asker-sentrum', 'gw-a', dev);
    const before = await waitFor(() => retainedOn(configTopic), (r) => r !== '', 10_000);
    expect(deviceConfigSchema.parse(JSON.parse(before))).toMatchObject({ device: dev, status: 'active', place: { type: 'zone', zone: 'sal' } });

    // heggedal/gw-b announces the same hardware id (spoofed, or a mistake).
    await gw.publishAsync(topics.deviceBirth('heggedal', 'gw-b', dev), birth(dev), { qos: 1 });
    await waitFor(() => birthsByOutcome(s.metrics), (c) => (c['torg_conflict'] ?? 0) >= 1, 10_000);
    await s.control.idle();
    expect(await birthsByOutcome(s.metrics)).toEqual({ created: 1, torg_conflict: 1 });
    // The record is untouched: still asker-sentrum's, announced by gw-a.
    expect(await s.registry.getDevice(dev)).toMatchObject({ torg: 'asker-sentrum', gateway: 'gw-a', status: 'active' });
    expect((await s.registry.listDevices({ torg: 'asker-sentrum' })).map((d) => d.id)).toEqual([dev]);

    // The readings of the device still count only from asker-sentrum…
    expect(s.directory.lookup(dev)).toEqual({ s: 'active', t: 'asker-sentrum' });
    // …and asker-sentrum's gateway keeps the config it had; heggedal's gets none.
    expect(deviceConfigSchema.parse(JSON.parse(await retainedOn(configTopic)))).toMatchObject({ device: dev, status: 'active', place: { type: 'zone', zone: 'sal' } });
    expect(await retainedOn(topics.deviceConfig('heggedal', 'gw-b', dev))).toBe('');
  });
});

describe('control plane: a device belongs to one torg until an admin moves it', () => {
  it("a pending device announced by another torg's gateway stays pending in its own torg, where its admin assigns it", async () => {
    const s = await setup({ gateways: [['asker-sentrum', 'gw-a'], ['heggedal', 'gw-b']] });
    const dev = 'e2e2e2e2e2e2e2e2';
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-a', dev), birth(dev), { qos: 1 });
    await waitFor(() => birthsByOutcome(s.metrics), (c) => (c['created'] ?? 0) >= 1, 10_000);
    await s.control.idle();
    await gw.publishAsync(topics.deviceBirth('heggedal', 'gw-b', dev), birth(dev), { qos: 1 });
    await waitFor(() => birthsByOutcome(s.metrics), (c) => (c['torg_conflict'] ?? 0) >= 1, 10_000);
    await s.control.idle();
    expect(await birthsByOutcome(s.metrics)).toEqual({ created: 1, torg_conflict: 1 });
    expect(s.directory.lookup(dev)).toEqual({ s: 'pending', t: 'asker-sentrum' });
    expect(await s.registry.getDevice(dev)).toMatchObject({ torg: 'asker-sentrum', gateway: 'gw-a', status: 'pending' });

    const a = await s.control.assign(dev, 'asker-sentrum', { type: 'zone', zone: 'sal' }, undefined, { name: 'test' });
    expect(a).toMatchObject({ torg: 'asker-sentrum', place: { type: 'zone', zone: 'sal' }, validTo: null });
    expect(s.directory.lookup(dev)).toEqual({ s: 'active', t: 'asker-sentrum' });
    expect(await retainedOn(topics.deviceConfig('heggedal', 'gw-b', dev))).toBe('');
  });

  it("moveTorg moves it: the old torg's gateway loses its config, the new torg's gateway gets it after its birth", async () => {
    const s = await setup({ gateways: [['asker-sentrum', 'gw-a'], ['heggedal', 'gw-b']] });
    const dev = 'e3e3e3e3e3e3e3e3';
    const oldTopic = topics.deviceConfig('asker-sentrum', 'gw-a', dev);
    const newTopic = topics.deviceConfig('heggedal', 'gw-b', dev);
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-a', dev), birth(dev, { labels: { zone: 'sal' } }), { qos: 1 });
    await waitFor(() => s.registry.getDevice(dev), (d) => d?.status === 'active', 10_000);
    await s.control.idle();
    expect(await waitFor(() => retainedOn(oldTopic), (r) => r !== '', 10_000)).not.toBe('');

    // Without moveTorg the registry refuses, and nothing changes.
    await expect(s.control.assign(dev, 'heggedal', { type: 'zone', zone: 'arbeid' }, undefined, { name: 'test' })).rejects.toMatchObject({
      code: 'E_REGISTRY_TORG_MISMATCH',
    });
    expect(s.directory.lookup(dev)).toEqual({ s: 'active', t: 'asker-sentrum' });

    await s.control.assign(dev, 'heggedal', { type: 'zone', zone: 'arbeid' }, undefined, { name: 'test' }, { moveTorg: true });
    expect(s.directory.lookup(dev)).toEqual({ s: 'active', t: 'heggedal' });
    expect(await s.registry.getDevice(dev)).toMatchObject({ torg: 'heggedal', gateway: 'gw-a', gatewayTorg: 'asker-sentrum' });
    expect(await retainedOn(oldTopic)).toBe('');
    // No gateway of heggedal has announced it yet, so none has a config for it.
    expect(await retainedOn(topics.deviceConfig('heggedal', 'gw-a', dev))).toBe('');
    expect(await retainedOn(newTopic)).toBe('');

    // asker-sentrum's gateway announcing it again changes nothing and gets nothing.
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-a', dev), birth(dev, { labels: { zone: 'sal' } }), { qos: 1 });
    await waitFor(() => birthsByOutcome(s.metrics), (c) => (c['torg_conflict'] ?? 0) >= 1, 10_000);
    await s.control.idle();
    expect(await retainedOn(oldTopic)).toBe('');
    expect(s.directory.lookup(dev)).toEqual({ s: 'active', t: 'heggedal' });

    // heggedal's gateway announces it: same torg, it takes the device over and gets the config.
    await gw.publishAsync(topics.deviceBirth('heggedal', 'gw-b', dev), birth(dev), { qos: 1 });
    await waitFor(() => birthsByOutcome(s.metrics), (c) => (c['known'] ?? 0) >= 1, 10_000);
    await s.control.idle();
    expect(await birthsByOutcome(s.metrics)).toEqual({ created: 1, torg_conflict: 1, known: 1 });
    const config = deviceConfigSchema.parse(JSON.parse(await waitFor(() => retainedOn(newTopic), (r) => r !== '', 10_000)));
    expect(config).toMatchObject({ device: dev, status: 'active', place: { type: 'zone', zone: 'arbeid' } });
    const record = await s.registry.getDevice(dev);
    expect(record).toMatchObject({ torg: 'heggedal', gateway: 'gw-b' });
    expect(record).not.toHaveProperty('gatewayTorg');
    expect((await s.registry.assignmentHistory(dev)).map((h) => [h.torg, h.place, h.validTo === null])).toEqual([
      ['asker-sentrum', { type: 'zone', zone: 'sal' }, false],
      ['heggedal', { type: 'zone', zone: 'arbeid' }, true],
    ]);
  });
});

describe('control plane: births are bounded', () => {
  it('refuses births of new devices beyond maxDevicesPerGateway; a decommissioned device frees its place', async () => {
    const s = await setup({ maxDevicesPerGateway: 2, gateways: [['asker-sentrum', 'gw-flood']] });
    const [d1, d2, d3] = ['f1f1f1f1f1f1f1f1', 'f2f2f2f2f2f2f2f2', 'f3f3f3f3f3f3f3f3'];
    for (const d of [d1, d2, d3]) await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-flood', d), birth(d), { qos: 1 });
    await waitFor(() => birthsByOutcome(s.metrics), (c) => (c['created'] ?? 0) + (c['device_limit'] ?? 0) >= 3, 10_000);
    await s.control.idle();
    expect(await birthsByOutcome(s.metrics)).toEqual({ created: 2, device_limit: 1 });
    expect((await s.registry.listDevices({ torg: 'asker-sentrum' })).map((d) => d.id).sort()).toEqual([d1, d2]);
    expect(s.directory.lookup(d3)).toBeUndefined();

    // A device the gateway already has is not new: its re-birth passes.
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-flood', d1), birth(d1), { qos: 1 });
    await waitFor(() => birthsByOutcome(s.metrics), (c) => (c['known'] ?? 0) >= 1, 10_000);

    await s.control.decommission(d2, undefined, { name: 'test' });
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-flood', d3), birth(d3), { qos: 1 });
    await waitFor(() => birthsByOutcome(s.metrics), (c) => (c['created'] ?? 0) >= 3, 10_000);
    await s.control.idle();
    expect(s.directory.lookup(d3)).toEqual({ s: 'pending', t: 'asker-sentrum' });
  });

  it('drops births beyond maxQueuedBirths while the registry is busy, and leaves the directory untouched for them', async () => {
    let release!: () => void;
    const hold: { gate: Promise<void> | null } = { gate: new Promise<void>((r) => (release = r)) };
    const s = await setup({ maxQueuedBirths: 3, gateways: [['asker-sentrum', 'gw-burst']], hold });
    // Runs first (cleanup is reversed): a failed assertion must not leave the queue held at stop().
    cleanup.push(async () => release());
    const ids = ['0a0a0a0a0a0a0a01', '0a0a0a0a0a0a0a02', '0a0a0a0a0a0a0a03', '0a0a0a0a0a0a0a04', '0a0a0a0a0a0a0a05', '0a0a0a0a0a0a0a06'];
    for (const d of ids) await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-burst', d), birth(d), { qos: 1 });
    // The first birth holds the registry; the 2nd and 3rd wait; the 4th to 6th find 3 births waiting.
    await waitFor(() => birthsByOutcome(s.metrics), (c) => (c['dropped_queue_full'] ?? 0) >= 3, 10_000);
    expect(ids.slice(3).map((d) => s.directory.lookup(d))).toEqual([undefined, undefined, undefined]);
    hold.gate = null;
    release();
    await waitFor(() => birthsByOutcome(s.metrics), (c) => (c['created'] ?? 0) >= 3, 10_000);
    await s.control.idle();
    expect(await birthsByOutcome(s.metrics)).toEqual({ created: 3, dropped_queue_full: 3 });
    expect((await s.registry.listDevices({ torg: 'asker-sentrum' })).map((d) => d.id).sort()).toEqual(ids.slice(0, 3));
  });
});

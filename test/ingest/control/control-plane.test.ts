/**
 * The control plane against a real Mosquitto (and a real InfluxDB for the reading path): births from a
 * test client standing in for a gateway, the SQLite registry in a temp dir, assignment rules, retained
 * per-device config and directory, liveness on an injected clock.
 *
 * Place names expected below were read by hand from config/torg.asker.sample.json (asker-sentrum zone
 * `sal` is "Storsalen", entrance `hovedinngang` is "Hovedinngang Torvet").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deviceConfigSchema, type DeviceBirthInput, type DeviceConfig } from '../../../devices/contract/device-messages.schema.ts';
import { filters, topics } from '../../../devices/contract/mqtt-topics.ts';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { defaultIngestConfig } from '../../../ingest/config.ts';
import { parseAssignmentRules, type AssignmentRules } from '../../../ingest/control/assignment-rules.ts';
import { directoryFromBroker, startControlPlane, type ControlPlane } from '../../../ingest/control/control-plane.ts';
import { DeviceDirectory } from '../../../ingest/control/device-directory.ts';
import { LivenessTracker } from '../../../ingest/liveness/liveness.ts';
import { startIngest } from '../../../ingest/main.ts';
import { knownPlacesFromTorgConfig } from '../../../ingest/registry/registry.ts';
import { SqliteRegistry } from '../../../ingest/registry/sqlite-registry.ts';
import { SAMPLE_TORG_FILE } from '../registry/registry.contract.ts';
import { startStack, type Stack } from '../../support/services.ts';
import { waitFor } from '../../integration/ingest-helpers.ts';

const logger = pino({ level: 'silent' });
const torgConfig = loadTorgConfig(SAMPLE_TORG_FILE);
const knownPlaces = knownPlacesFromTorgConfig(torgConfig);
const MIN = 60_000;
const HOUR = 60 * MIN;

/** Zone from the installer's `zone` tag; nothing else is assigned automatically. */
const RULES: AssignmentRules = parseAssignmentRules({ v: 1, rules: [{ name: 'zone tag', match: { labels: { zone: '/.+/' } }, assign: { type: 'zone', zone: { label: 'zone' } } }] });

function birth(device: string, over: Partial<DeviceBirthInput> = {}): string {
  const b: DeviceBirthInput = {
    v: 1,
    device,
    model: 'milesight-am319',
    kinds: ['door'],
    deviceClass: 'battery',
    source: 'chirpstack',
    firstSeenAt: Date.now() - HOUR,
    at: Date.now(),
    ...over,
  };
  return JSON.stringify(b);
}

let stack: Stack;
let gw: MqttClient;
const cleanup: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  stack = await startStack();
  gw = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5, clientId: 'test-gateway' });
});
afterAll(async () => {
  await gw?.endAsync();
  await stack?.dispose();
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Setup {
  dir: string;
  registry: SqliteRegistry;
  directory: DeviceDirectory;
  control: ControlPlane;
  client: MqttClient;
  clock: { t: number };
  metrics: MetricsRegistry;
}

let clientSeq = 0;
async function setup(over: { dir?: string; autoRegisterGateways?: boolean; rules?: AssignmentRules; t?: number } = {}): Promise<Setup> {
  const dir = over.dir ?? mkdtempSync(join(tmpdir(), 'control-plane-'));
  if (over.dir === undefined) cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const clock = { t: over.t ?? Date.now() };
  const registry = new SqliteRegistry({ path: join(dir, 'registry.db'), knownPlaces, now: () => clock.t });
  const client = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5, clientId: `control-${++clientSeq}` });
  const directory = new DeviceDirectory();
  const metrics = new MetricsRegistry();
  const control = await startControlPlane({
    client,
    registry,
    torgConfig,
    directory,
    liveness: new LivenessTracker(),
    rules: over.rules ?? RULES,
    now: () => clock.t,
    logger,
    metricsRegistry: metrics,
    autoRegisterGateways: over.autoRegisterGateways ?? false,
    livenessEveryMs: 0,
    directoryDebounceMs: 50,
  });
  const stop = async () => {
    await control.stop();
    await client.endAsync();
    await registry.close();
  };
  cleanup.push(stop);
  return { dir, registry, directory, control, client, clock, metrics };
}

/** What a late subscriber receives as retained messages on `filter` within `ms`. */
async function retained(filter: string, ms = 1500): Promise<Map<string, string>> {
  const c = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5, clientId: `late-${++clientSeq}` });
  const got = new Map<string, string>();
  c.on('message', (topic, payload, packet) => {
    if (packet.retain) got.set(topic, payload.toString('utf8'));
  });
  await c.subscribeAsync(filter, { qos: 1 });
  await new Promise((r) => setTimeout(r, ms));
  await c.endAsync();
  return got;
}

function configOf(msgs: Map<string, string>, torg: string, gateway: string, device: string): DeviceConfig | undefined {
  const raw = msgs.get(topics.deviceConfig(torg, gateway, device));
  return raw === undefined || raw === '' ? undefined : deviceConfigSchema.parse(JSON.parse(raw));
}

describe('control plane on a real broker', () => {
  it('a birth makes a pending device, a rule assigns it, and the retained config reaches a late subscriber', async () => {
    const s = await setup();
    await s.registry.upsertGateway({ torg: 'asker-sentrum', id: 'gw-cp1' });
    // Gateways registered after start are found in the registry on their first birth.
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-cp1', 'a1a1a1a1a1a1a1a1'), birth('a1a1a1a1a1a1a1a1', { labels: { zone: 'sal' } }), { qos: 1 });
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-cp1', 'b1b1b1b1b1b1b1b1'), birth('b1b1b1b1b1b1b1b1', { expectedIntervalS: 600 }), { qos: 1 });
    // A rule naming a zone the torg lacks leaves the device pending.
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-cp1', 'c1c1c1c1c1c1c1c1'), birth('c1c1c1c1c1c1c1c1', { labels: { zone: 'kjeller' } }), { qos: 1 });

    const devices = await waitFor(() => s.registry.listDevices(), (d) => d.length === 3, 10_000);
    await s.control.idle();
    expect(devices.map((d) => d.id).sort()).toEqual(['a1a1a1a1a1a1a1a1', 'b1b1b1b1b1b1b1b1', 'c1c1c1c1c1c1c1c1']);
    expect((await s.registry.getDevice('a1a1a1a1a1a1a1a1'))?.status).toBe('active');
    expect(await s.registry.assignmentHistory('a1a1a1a1a1a1a1a1')).toEqual([
      { device: 'a1a1a1a1a1a1a1a1', torg: 'asker-sentrum', place: { type: 'zone', zone: 'sal' }, validFrom: s.clock.t, validTo: null },
    ]);
    expect((await s.registry.getDevice('b1b1b1b1b1b1b1b1'))?.status).toBe('pending');
    expect((await s.registry.getDevice('c1c1c1c1c1c1c1c1'))?.status).toBe('pending');
    expect(s.directory.lookup('a1a1a1a1a1a1a1a1')).toEqual({ s: 'active', t: 'asker-sentrum' });
    expect(s.directory.lookup('b1b1b1b1b1b1b1b1')).toEqual({ s: 'pending', t: 'asker-sentrum' });

    const late = await retained(filters.gatewayDeviceConfigs('asker-sentrum', 'gw-cp1'));
    expect(configOf(late, 'asker-sentrum', 'gw-cp1', 'a1a1a1a1a1a1a1a1')).toEqual({
      v: 1,
      device: 'a1a1a1a1a1a1a1a1',
      status: 'active',
      enabled: true,
      place: { type: 'zone', zone: 'sal' },
      placeName: 'Storsalen',
      expectedIntervalS: null,
      updatedAt: s.clock.t,
    });
    expect(configOf(late, 'asker-sentrum', 'gw-cp1', 'b1b1b1b1b1b1b1b1')).toMatchObject({ status: 'pending', enabled: true, place: null, placeName: null, expectedIntervalS: 600 });

    // Another ingest instance, without the registry, converges on the retained directory snapshot.
    const other = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5, clientId: `other-${++clientSeq}` });
    cleanup.push(() => other.endAsync());
    const fromBroker = await waitFor(
      async () => {
        const d = await directoryFromBroker(other, 5000);
        await d.stop();
        return d.directory;
      },
      (d) => d.lookup('a1a1a1a1a1a1a1a1')?.s === 'active' && d.size === 3,
      10_000,
    );
    expect(fromBroker.lookup('b1b1b1b1b1b1b1b1')).toEqual({ s: 'pending', t: 'asker-sentrum' });
  });

  it('refuses births from an unregistered gateway unless autoRegisterGateways is on', async () => {
    const s = await setup();
    await gw.publishAsync(topics.deviceBirth('heggedal', 'gw-unreg', 'd1d1d1d1d1d1d1d1'), birth('d1d1d1d1d1d1d1d1'), { qos: 1 });
    const counted = await waitFor(() => s.metrics.getSingleMetricAsString('ingest_device_births_total'), (m) => m.includes('outcome="unknown_gateway"'), 10_000);
    expect(counted).toContain('ingest_device_births_total{outcome="unknown_gateway"} 1');
    await s.control.idle();
    expect(await s.registry.getDevice('d1d1d1d1d1d1d1d1')).toBeNull();
    // The optimistic directory entry is withdrawn: its readings are unknown, not pending.
    expect(s.directory.lookup('d1d1d1d1d1d1d1d1')).toBeUndefined();

    const dev = await setup({ autoRegisterGateways: true });
    await gw.publishAsync(topics.deviceBirth('heggedal', 'gw-auto', 'e1e1e1e1e1e1e1e1'), birth('e1e1e1e1e1e1e1e1'), { qos: 1 });
    const d = await waitFor(() => dev.registry.getDevice('e1e1e1e1e1e1e1e1'), (x) => x !== null, 10_000);
    expect(d?.status).toBe('pending');
    expect((await dev.registry.getGateway('heggedal', 'gw-auto'))?.status).toBe('active');
  });

  it('a device re-announced after the registry is closed and reopened is the same record', async () => {
    const first = await setup({ t: Date.parse('2026-11-24T08:00:00Z') });
    await first.registry.upsertGateway({ torg: 'tofte', id: 'gw-re' });
    await gw.publishAsync(topics.deviceBirth('tofte', 'gw-re', 'f1f1f1f1f1f1f1f1'), birth('f1f1f1f1f1f1f1f1'), { qos: 1 });
    await waitFor(() => first.registry.getDevice('f1f1f1f1f1f1f1f1'), (x) => x !== null, 10_000);
    await first.control.idle();
    // Stop everything of the first "process" (its cleanup entry then finds it stopped already).
    await first.control.stop();
    await first.client.endAsync();
    await first.registry.close();

    const second = await setup({ dir: first.dir, t: Date.parse('2026-11-25T08:00:00Z') });
    // The reopened registry feeds the directory at start, before any birth.
    expect(second.directory.lookup('f1f1f1f1f1f1f1f1')).toEqual({ s: 'pending', t: 'tofte' });
    await gw.publishAsync(topics.deviceBirth('tofte', 'gw-re', 'f1f1f1f1f1f1f1f1'), birth('f1f1f1f1f1f1f1f1'), { qos: 1 });
    const again = await waitFor(() => second.registry.getDevice('f1f1f1f1f1f1f1f1'), (x) => x?.lastSeenAt === Date.parse('2026-11-25T08:00:00Z'), 10_000);
    expect(again?.firstSeenAt).toBe(Date.parse('2026-11-24T08:00:00Z'));
    expect(await second.registry.listDevices()).toHaveLength(1);
  });

  it('fills the directory and liveness at start from the registry: pending, active (its assigned torg) and decommissioned devices', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'control-plane-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const t = Date.parse('2026-11-24T08:00:00Z');
    const before = new SqliteRegistry({ path: join(dir, 'registry.db'), knownPlaces, now: () => t });
    await before.upsertGateway({ torg: 'tofte', id: 'gw-start' });
    const announce = (id: string) => before.announceDevice({ id, torg: 'tofte', gateway: 'gw-start', model: 'milesight-am319', kinds: ['door'], deviceClass: 'battery' });
    await announce('a1a1a1a1a1a1a1a1');
    await announce('a2a2a2a2a2a2a2a2');
    await announce('a3a3a3a3a3a3a3a3');
    await before.assign({ device: 'a1a1a1a1a1a1a1a1', torg: 'tofte', place: { type: 'zone', zone: 'mote-1' }, at: t + MIN });
    await before.assign({ device: 'a3a3a3a3a3a3a3a3', torg: 'tofte', place: { type: 'zone', zone: 'arbeid' }, at: t + MIN });
    await before.assign({ device: 'a3a3a3a3a3a3a3a3', torg: 'tofte', place: { type: 'zone', zone: 'service' }, at: t + 2 * MIN });
    await before.decommission('a3a3a3a3a3a3a3a3', t + 3 * MIN);
    await before.close();

    const s = await setup({ dir, t: t + HOUR });
    expect(s.directory.lookup('a1a1a1a1a1a1a1a1')).toEqual({ s: 'active', t: 'tofte' });
    expect(s.directory.lookup('a2a2a2a2a2a2a2a2')).toEqual({ s: 'pending', t: 'tofte' });
    expect(s.directory.lookup('a3a3a3a3a3a3a3a3')).toEqual({ s: 'decommissioned', t: 'tofte' });
    expect(s.directory.size).toBe(3);
    // Tracked (never heard since the start) unless decommissioned.
    expect(s.control.deviceLiveness('a1a1a1a1a1a1a1a1')).toMatchObject({ torg: 'tofte', state: 'never_seen' });
    expect(s.control.deviceLiveness('a2a2a2a2a2a2a2a2')).toMatchObject({ torg: 'tofte', state: 'never_seen' });
    expect(s.control.deviceLiveness('a3a3a3a3a3a3a3a3')).toBeNull();
  });

  it('liveness on an injected clock: mains offline at 10 min, battery at 25 h, stale reported as the state stale', async () => {
    const T0 = Date.parse('2026-11-24T09:00:00Z');
    const s = await setup({ t: T0 });
    await s.registry.upsertGateway({ torg: 'heggedal', id: 'gw-live' });
    await gw.publishAsync(topics.deviceBirth('heggedal', 'gw-live', 'aaaa000000000001'), birth('aaaa000000000001', { deviceClass: 'mains' }), { qos: 1 });
    await gw.publishAsync(topics.deviceBirth('heggedal', 'gw-live', 'bbbb000000000001'), birth('bbbb000000000001', { deviceClass: 'battery' }), { qos: 1 });
    expect(await waitFor(() => s.registry.listDevices({ torg: 'heggedal' }), (d) => d.length === 2, 10_000)).toHaveLength(2);
    await s.control.idle();
    expect(s.control.deviceLiveness('aaaa000000000001')?.state).toBe('never_seen');

    // The pipeline's hook: one reading of each at T0.
    s.control.onReading('heggedal', 'gw-live', 'aaaa000000000001', T0);
    s.control.onReading('heggedal', 'gw-live', 'bbbb000000000001', T0);
    const at = (ms: number) => {
      s.clock.t = T0 + ms;
      return s.control.evaluateLiveness().filter((t) => t.kind === 'device').map((t) => `${t.id}:${t.to}`);
    };
    expect(at(0).sort()).toEqual(['aaaa000000000001:online', 'bbbb000000000001:online']);
    // Mains without an interval: stale at 5 min, offline at 10 min (class default, issue 4).
    expect(at(5 * MIN - 1)).toEqual([]);
    expect(at(5 * MIN)).toEqual(['aaaa000000000001:stale']);
    const stale = s.control.deviceLiveness('aaaa000000000001');
    expect(stale).toEqual({ device: 'aaaa000000000001', torg: 'heggedal', state: 'stale', lastSeenAt: T0 });
    // Gauges: one stale, one online in heggedal; the stale device is not among the offline ones.
    const gauge = await s.metrics.getSingleMetricAsString('ingest_devices');
    expect(gauge).toContain('ingest_devices{torg="heggedal",state="stale"} 1');
    expect(gauge).toContain('ingest_devices{torg="heggedal",state="online"} 1');
    expect(gauge).toContain('ingest_devices{torg="heggedal",state="offline"} 0');
    expect(at(10 * MIN - 1)).toEqual([]);
    expect(at(10 * MIN)).toEqual(['aaaa000000000001:offline']);
    // Battery: stale at 12.5 h, offline at 25 h.
    expect(at(12.5 * HOUR - 1)).toEqual([]);
    expect(at(12.5 * HOUR)).toEqual(['bbbb000000000001:stale']);
    expect(at(25 * HOUR - 1)).toEqual([]);
    expect(at(25 * HOUR)).toEqual(['bbbb000000000001:offline']);
    // A new reading brings it back.
    s.control.onReading('heggedal', 'gw-live', 'bbbb000000000001', T0 + 25 * HOUR);
    expect(at(25 * HOUR + 1)).toEqual(['bbbb000000000001:online']);
    expect(await s.metrics.getSingleMetricAsString('ingest_liveness_transitions_total')).toContain('ingest_liveness_transitions_total{kind="device",to="offline"} 2');
  });

  it('gateway liveness from its retained state topic, with bdSeq', async () => {
    const T0 = Date.parse('2026-11-24T09:00:00Z');
    const s = await setup({ t: T0 });
    await s.registry.upsertGateway({ torg: 'saetre', id: 'gw-state' });
    await gw.publishAsync(topics.gatewayState('saetre', 'gw-state'), JSON.stringify({ online: true, bdSeq: 4, startedAt: 'x' }), { qos: 1, retain: true });
    cleanup.push(() => gw.publishAsync(topics.gatewayState('saetre', 'gw-state'), '', { qos: 1, retain: true }));
    expect(await waitFor(async () => s.control.gatewayLiveness('saetre', 'gw-state')?.state, (st) => st === 'online', 10_000)).toBe('online');
    // The will of an older session arriving late is ignored.
    await gw.publishAsync(topics.gatewayState('saetre', 'gw-state'), JSON.stringify({ online: false, bdSeq: 3 }), { qos: 1 });
    await gw.publishAsync(topics.gatewayState('saetre', 'gw-state'), JSON.stringify({ online: false, bdSeq: 4 }), { qos: 1, retain: true });
    const st = await waitFor(async () => s.control.gatewayLiveness('saetre', 'gw-state')?.state, (x) => x === 'offline', 10_000);
    expect(st).toBe('offline');
    const g = await waitFor(() => s.registry.getGateway('saetre', 'gw-state'), (x) => x?.lastSeenAt === T0, 10_000);
    expect(g?.lastSeenAt).toBe(T0);
  });
});

describe('reading path with the directory (startIngest, real InfluxDB)', () => {
  it('stores active and pending (pending=true), dead-letters spoofed, unknown and decommissioned readings', async () => {
    const s = await setup();
    await s.registry.upsertGateway({ torg: 'asker-sentrum', id: 'gw-rp' });
    await s.registry.upsertGateway({ torg: 'heggedal', id: 'gw-rp-h' });
    const dev = { active: 'a2a2a2a2a2a2a2a2', pending: 'b2b2b2b2b2b2b2b2', gone: 'c2c2c2c2c2c2c2c2', unknown: 'd2d2d2d2d2d2d2d2' };
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-rp', dev.active), birth(dev.active, { labels: { zone: 'service' } }), { qos: 1 });
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-rp', dev.pending), birth(dev.pending), { qos: 1 });
    await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-rp', dev.gone), birth(dev.gone), { qos: 1 });
    await waitFor(() => s.registry.listDevices({ torg: 'asker-sentrum' }), (d) => d.filter((x) => Object.values(dev).includes(x.id)).length === 3, 10_000);
    await s.control.idle();
    await s.control.decommission(dev.gone, undefined, { name: 'test' });
    expect(s.directory.lookup(dev.gone)).toEqual({ s: 'decommissioned', t: 'asker-sentrum' });

    const seen: string[] = [];
    const ingest = await startIngest(
      defaultIngestConfig({ INGEST_MQTT_URL: stack.mqtt.url, INGEST_INFLUX_URL: stack.influx.url, INGEST_HTTP_PORT: 0, INGEST_CLIENT_ID: 'ingest-control-it', INGEST_FLUSH_MS: 50 }),
      {
        logger,
        defaultMetrics: false,
        devices: s.directory,
        onAccepted: (torg, gateway, device, timeMs) => {
          seen.push(device);
          s.control.onReading(torg, gateway, device, timeMs);
        },
      },
    );
    cleanup.push(() => ingest.stop());
    const time = new Date(Date.now() - 60_000).toISOString();
    const timeMs = Date.parse(time);
    const env = (torg: string, gateway: string, devices: string[], seq: number) =>
      JSON.stringify({ v: 1, torg, gateway, sentAt: new Date().toISOString(), seq, readings: devices.map((d, i) => ({ kind: 'door', device: d, time, openings: i + 1 })) });
    // The ingest subscribes on connect; a QoS 1 message published before that reaches no session, so wait until one is taken.
    await waitFor(
      async () => {
        await gw.publishAsync(topics.readings('asker-sentrum', 'gw-rp'), env('asker-sentrum', 'gw-rp', [dev.active], 0), { qos: 1 });
        return (await ingest.metrics.messagesIn.get()).values[0]?.value ?? 0;
      },
      (n) => n > 0,
      20_000,
    );
    await gw.publishAsync(topics.readings('asker-sentrum', 'gw-rp'), env('asker-sentrum', 'gw-rp', [dev.active, dev.pending, dev.gone, dev.unknown], 1), { qos: 1 });
    // The active device of asker-sentrum, relayed by a heggedal gateway.
    await gw.publishAsync(topics.readings('heggedal', 'gw-rp-h'), env('heggedal', 'gw-rp-h', [dev.active], 2), { qos: 1 });

    const dl = await waitFor(
      () => stack.influx.select(`SELECT "detail", "index" FROM raw.deadletter WHERE instance = 'ingest-control-it' GROUP BY reason`),
      (rows) => rows.length >= 3,
      20_000,
    );
    expect(dl.map((r) => `${String(r['reason'])}#${String(r['index'])}`).sort()).toEqual(['E_DEVICE_DECOMMISSIONED#2', 'E_DEVICE_SPOOFED#0', 'E_DEVICE_UNKNOWN#3']);
    const points = await waitFor(
      () => stack.influx.select(`SELECT "openings", "pending" FROM raw.door WHERE torg = 'asker-sentrum' GROUP BY device`),
      (rows) => rows.length >= 2,
      20_000,
    );
    // The active device's reading 0 (openings 1) was written by the probe and again by message 1: one point.
    expect(points.map((r) => ({ device: r['device'], time: r['time'], openings: r['openings'], pending: r['pending'] })).sort((a, b) => String(a.device).localeCompare(String(b.device)))).toEqual([
      { device: dev.active, time: timeMs, openings: 1, pending: null },
      { device: dev.pending, time: timeMs, openings: 2, pending: true },
    ]);
    expect((await stack.influx.select(`SELECT "openings" FROM raw.door WHERE torg = 'heggedal'`)).length).toBe(0);
    // Liveness saw only the stored readings.
    expect([...new Set(seen)].sort()).toEqual([dev.active, dev.pending]);
    expect(s.control.deviceLiveness(dev.active)).toMatchObject({ state: 'online', lastSeenAt: timeMs });
  });
});

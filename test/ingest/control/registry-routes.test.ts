/**
 * Registry and liveness routes over real HTTP (createApiApp + listen + fetch), with the control plane on
 * a real Mosquitto so that admin actions are checked where gateways see them: the retained config.
 * Place names read by hand from config/torg.asker.sample.json: asker-sentrum entrance `hovedinngang`
 * is "Hovedinngang Torvet".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceConfigSchema, type DeviceConfig } from '../../../devices/contract/device-messages.schema.ts';
import { topics } from '../../../devices/contract/mqtt-topics.ts';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { createApiApp, listen } from '../../../ingest/api/app.ts';
import { SqliteTokenStore } from '../../../ingest/api/token-store.ts';
import { NO_RULES } from '../../../ingest/control/assignment-rules.ts';
import { startControlPlane, type ControlPlane } from '../../../ingest/control/control-plane.ts';
import { DeviceDirectory } from '../../../ingest/control/device-directory.ts';
import { registryRoutes } from '../../../ingest/control/registry-routes.ts';
import { LivenessTracker } from '../../../ingest/liveness/liveness.ts';
import { knownPlacesFromTorgConfig } from '../../../ingest/registry/registry.ts';
import { SqliteRegistry } from '../../../ingest/registry/sqlite-registry.ts';
import { waitFor } from '../../integration/ingest-helpers.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';
import { SAMPLE_TORG_FILE } from '../registry/registry.contract.ts';

const torgConfig = loadTorgConfig(SAMPLE_TORG_FILE);
const T0 = Date.parse('2026-11-24T09:00:00Z');
const DEVICE = '24e124538b223213';

let broker: MosquittoHandle;
let dir: string;
let registry: SqliteRegistry;
let tokens: SqliteTokenStore;
let client: MqttClient;
let gw: MqttClient;
let control: ControlPlane;
let directory: DeviceDirectory;
let base: string;
let closeHttp: () => Promise<void>;
const clock = { t: T0 };
const logLines: string[] = [];
let admin: string;
let viewer: string;
let analyst: string;
const routes: ReturnType<typeof registryRoutes> = [];

beforeAll(async () => {
  broker = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'registry-routes-'));
  registry = new SqliteRegistry({ path: join(dir, 'registry.db'), knownPlaces: knownPlacesFromTorgConfig(torgConfig), now: () => clock.t });
  tokens = new SqliteTokenStore({ path: join(dir, 'tokens.db'), now: () => clock.t });
  client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'control' });
  gw = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'gw' });
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  directory = new DeviceDirectory();
  control = await startControlPlane({
    client,
    registry,
    torgConfig,
    directory,
    liveness: new LivenessTracker(),
    rules: NO_RULES,
    now: () => clock.t,
    logger,
    metricsRegistry: new MetricsRegistry(),
    livenessEveryMs: 0,
    directoryDebounceMs: 50,
  });
  routes.push(...registryRoutes({ registry, control }));
  const http = await listen(createApiApp({ routes, tokens, logger }), 0, '127.0.0.1');
  base = `http://127.0.0.1:${http.port}`;
  closeHttp = http.close;
  admin = (await tokens.create({ name: 'ops-admin', role: 'admin' })).token;
  viewer = (await tokens.create({ name: 'frontdesk', role: 'viewer' })).token;
  analyst = (await tokens.create({ name: 'prosjektleder', role: 'analyst' })).token;

  await registry.upsertGateway({ torg: 'asker-sentrum', id: 'gw-api' });
  const birth = { v: 1, device: DEVICE, model: 'milesight-vs133', kinds: ['counter'], deviceClass: 'mains', source: 'chirpstack', firstSeenAt: T0, at: T0 };
  await gw.publishAsync(topics.deviceBirth('asker-sentrum', 'gw-api', DEVICE), JSON.stringify(birth), { qos: 1 });
  await waitFor(() => registry.getDevice(DEVICE), (d) => d !== null, 10_000);
  await control.idle();
});

afterAll(async () => {
  await closeHttp?.();
  await control?.stop();
  await client?.endAsync();
  await gw?.endAsync();
  await registry?.close();
  await tokens?.close();
  await broker?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The retained config a gateway would get for DEVICE when it subscribes now. */
async function retainedConfig(): Promise<DeviceConfig | undefined> {
  const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `late-${Math.random()}` });
  let got: DeviceConfig | undefined;
  c.on('message', (_t, payload, packet) => {
    if (packet.retain && payload.length > 0) got = deviceConfigSchema.parse(JSON.parse(payload.toString('utf8')));
  });
  await c.subscribeAsync(topics.deviceConfig('asker-sentrum', 'gw-api', DEVICE), { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  await c.endAsync();
  return got;
}

describe('registry routes', () => {
  it('every route refuses a missing token (401), and every admin route a viewer or analyst token (403)', async () => {
    expect(routes).toHaveLength(8);
    for (const r of routes) {
      const path = r.path.replace('{id}', DEVICE);
      const body = r.method === 'get' ? undefined : {};
      const none = await call(r.method.toUpperCase(), path, undefined, body);
      expect(none.status, `${r.method} ${r.path}`).toBe(401);
      if (r.access === 'admin') {
        for (const t of [viewer, analyst]) {
          const wrong = await call(r.method.toUpperCase(), path, t, body);
          expect(wrong.status, `${r.method} ${r.path}`).toBe(403);
          expect((wrong.json['error'] as { code: string }).code).toBe('E_API_FORBIDDEN');
        }
      } else {
        expect(r.access).toBe('viewer');
      }
    }
    // Nothing changed.
    expect((await registry.getDevice(DEVICE))?.status).toBe('pending');
  });

  it('lists pending, assigns, reconfigures and decommissions, and the gateway sees each step in its retained config', async () => {
    const pending = await call('GET', '/api/v1/devices?status=pending&torg=asker-sentrum', viewer);
    expect(pending.status).toBe(200);
    expect(pending.json['devices']).toEqual([
      expect.objectContaining({ id: DEVICE, status: 'pending', enabled: true, assignment: null, liveness: { state: 'never_seen', lastSeenAt: null } }),
    ]);
    expect((await call('GET', '/api/v1/devices?status=active', viewer)).json['devices']).toEqual([]);

    // A line hovedinngang lacks, and an unknown device.
    const badPlace = await call('POST', `/api/v1/devices/${DEVICE}/assign`, admin, { torg: 'asker-sentrum', place: { type: 'entrance', entrance: 'hovedinngang', line: 'line-9' } });
    expect([badPlace.status, (badPlace.json['error'] as { code: string }).code]).toEqual([400, 'E_REGISTRY_UNKNOWN_PLACE']);
    const unknown = await call('POST', '/api/v1/devices/ffffffffffffffff/assign', admin, { torg: 'asker-sentrum', place: { type: 'zone', zone: 'sal' } });
    expect(unknown.status).toBe(404);
    const invalid = await call('POST', `/api/v1/devices/${DEVICE}/assign`, admin, { torg: 'asker-sentrum', place: { type: 'room', zone: 'sal' } });
    expect(invalid.status).toBe(400);

    clock.t = T0 + 60_000;
    const assigned = await call('POST', `/api/v1/devices/${DEVICE}/assign`, admin, { torg: 'asker-sentrum', place: { type: 'entrance', entrance: 'hovedinngang', line: 'line-1' } });
    expect(assigned.status).toBe(200);
    expect(assigned.json).toEqual({ device: DEVICE, torg: 'asker-sentrum', place: { type: 'entrance', entrance: 'hovedinngang', line: 'line-1' }, validFrom: T0 + 60_000, validTo: null });
    expect(directory.lookup(DEVICE)).toEqual({ s: 'active', t: 'asker-sentrum' });
    const active = (await call('GET', '/api/v1/devices?status=active', viewer)).json['devices'] as Record<string, unknown>[];
    expect(active).toEqual([
      expect.objectContaining({
        id: DEVICE,
        status: 'active',
        assignment: { device: DEVICE, torg: 'asker-sentrum', place: { type: 'entrance', entrance: 'hovedinngang', line: 'line-1' }, validFrom: T0 + 60_000, validTo: null },
        liveness: { state: 'never_seen', lastSeenAt: null },
      }),
    ]);
    expect(active[0]).not.toHaveProperty('history');
    expect(await retainedConfig()).toEqual({
      v: 1,
      device: DEVICE,
      status: 'active',
      enabled: true,
      place: { type: 'entrance', entrance: 'hovedinngang', line: 'line-1' },
      placeName: 'Hovedinngang Torvet',
      expectedIntervalS: null,
      updatedAt: T0 + 60_000,
    });

    const patched = await call('PATCH', `/api/v1/devices/${DEVICE}/config`, admin, { enabled: false, expectedIntervalS: 120 });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ enabled: false, expectedIntervalS: 120, status: 'active' });
    expect(await retainedConfig()).toMatchObject({ enabled: false, expectedIntervalS: 120, status: 'active' });
    expect((await call('PATCH', `/api/v1/devices/${DEVICE}/config`, admin, {})).status).toBe(400);

    clock.t = T0 + 120_000;
    const gone = await call('POST', `/api/v1/devices/${DEVICE}/decommission`, admin, {});
    expect(gone.status).toBe(200);
    expect(gone.json).toMatchObject({ id: DEVICE, status: 'decommissioned' });
    expect(directory.lookup(DEVICE)).toEqual({ s: 'decommissioned', t: 'asker-sentrum' });
    expect(await retainedConfig()).toMatchObject({ status: 'decommissioned', enabled: false, place: null, placeName: null });

    const detail = await call('GET', `/api/v1/devices/${DEVICE}`, viewer);
    expect(detail.json['history']).toEqual([
      { device: DEVICE, torg: 'asker-sentrum', place: { type: 'entrance', entrance: 'hovedinngang', line: 'line-1' }, validFrom: T0 + 60_000, validTo: T0 + 120_000 },
    ]);
    expect(detail.json).toMatchObject({ assignment: null, liveness: null });
    expect((await call('GET', '/api/v1/devices/not-a-device!', viewer)).status).toBe(400);

    const torg = await call('GET', '/api/v1/torg', viewer);
    const asker = (torg.json['torg'] as { id: string }[]).find((t) => t.id === 'asker-sentrum');
    expect(asker).toEqual({
      id: 'asker-sentrum',
      name: 'Asker sentrum innbyggertorg',
      inModel: true,
      gateways: { active: 1, disabled: 0 },
      devices: { pending: 0, active: 0, decommissioned: 1 },
    });
    expect((torg.json['torg'] as unknown[]).length).toBe(7);

    const gws = await call('GET', '/api/v1/gateways?torg=asker-sentrum', viewer);
    expect(gws.json['gateways']).toEqual([expect.objectContaining({ torg: 'asker-sentrum', id: 'gw-api', status: 'active', liveness: { state: 'never_seen', lastSeenAt: null } })]);
    const live = await call('GET', '/api/v1/liveness?torg=asker-sentrum', viewer);
    // The decommissioned device left liveness; the gateway is still tracked.
    expect(live.json).toEqual({ devices: [], gateways: [{ torg: 'asker-sentrum', gateway: 'gw-api', state: 'never_seen', lastSeenAt: null }] });

    // The audit log names the principal, never a token.
    const audit = logLines.filter((l) => /device (assigned|decommissioned|config changed)/.test(l));
    expect(audit).toHaveLength(3);
    for (const l of audit) expect(JSON.parse(l)).toMatchObject({ actor: 'ops-admin', device: DEVICE });
    for (const l of logLines) for (const t of [admin, viewer, analyst]) expect(l).not.toContain(/^itorg_[a-z2-7]{12}_(.+)$/.exec(t)![1]!); // the secret (it may itself contain '_')
  });

  it('moves a device to another torg only when the body says moveTorg: true', async () => {
    const other = '24e124538b22f00d';
    clock.t = T0 + 200_000;
    await registry.announceDevice({ id: other, torg: 'asker-sentrum', gateway: 'gw-api', model: 'milesight-vs133', kinds: ['counter'], deviceClass: 'mains' });
    const place = { type: 'zone', zone: 'arbeid' };
    const refused = await call('POST', `/api/v1/devices/${other}/assign`, admin, { torg: 'heggedal', place });
    expect([refused.status, (refused.json['error'] as { code: string }).code]).toEqual([409, 'E_REGISTRY_TORG_MISMATCH']);
    expect((refused.json['error'] as { message: string }).message).toContain('moveTorg');
    expect((await call('POST', `/api/v1/devices/${other}/assign`, admin, { torg: 'heggedal', place, moveTorg: 'yes' })).status).toBe(400);

    clock.t = T0 + 260_000;
    const moved = await call('POST', `/api/v1/devices/${other}/assign`, admin, { torg: 'heggedal', place, moveTorg: true });
    expect(moved.status).toBe(200);
    expect(moved.json).toEqual({ device: other, torg: 'heggedal', place, validFrom: T0 + 260_000, validTo: null });
    expect(directory.lookup(other)).toEqual({ s: 'active', t: 'heggedal' });
    const detail = await call('GET', `/api/v1/devices/${other}`, viewer);
    expect(detail.json).toMatchObject({ torg: 'heggedal', gateway: 'gw-api', gatewayTorg: 'asker-sentrum', status: 'active' });
    expect((await call('GET', '/api/v1/devices?torg=asker-sentrum&status=active', viewer)).json['devices']).toEqual([]);
    expect((await call('GET', '/api/v1/devices?torg=heggedal&status=active', viewer)).json['devices']).toEqual([
      expect.objectContaining({ id: other, torg: 'heggedal', assignment: { device: other, torg: 'heggedal', place, validFrom: T0 + 260_000, validTo: null } }),
    ]);
    const audit = logLines.filter((l) => l.includes('device moved to another torg')).map((l) => JSON.parse(l) as unknown);
    expect(audit).toEqual([expect.objectContaining({ device: other, from: 'asker-sentrum', to: 'heggedal', actor: 'ops-admin' })]);
  });

  it('the OpenAPI document lists the routes with their roles', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { 'x-required-role': string }>> };
    expect(doc.paths['/api/v1/devices/{id}/assign']?.['post']?.['x-required-role']).toBe('admin');
    expect(doc.paths['/api/v1/liveness']?.['get']?.['x-required-role']).toBe('viewer');
  });
});

/**
 * Liveness through the service (issue 4 "Liveness"): a gateway process killed with SIGKILL is offline
 * by its last will, in GET /api/v1/liveness and in /metrics on the ops port; devices that stop
 * reporting go stale, then offline, on the thresholds of ingest/liveness/liveness.ts for their class
 * and reported interval — with the service's clock injected and moved forward — and the live API
 * never shows their values as fresh once they are stale.
 *
 * Two WS301 door sensors (Milesight: battery powered), reporting interval 60 s (gateway config):
 *   A: battery (the model's class), assigned by an admin: stale after 2.5 × 60 = 150 s, offline after
 *      max(25 h, 3 × 60 s) = 25 h;
 *   B: made `mains` by an assignment rule matching its LNS tag: stale after 150 s, offline after
 *      max(10 min, 180 s) = 10 min.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { torgLiveSchema } from '../../dashboards/live/live.schema.ts';
import type { ServiceHandle } from '../../ingest/service.ts';
import { startMosquitto, type MosquittoHandle } from '../support/services.ts';
import { waitForValue } from './gateway-helpers.ts';
import { BOOTSTRAP_USER, api, startSecureStack, writeJson, ws301Uplink, type SecureStack } from './service-helpers.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TORG = 'heggedal';
const GW = 'gw-live';
const DEV_A = '24e124000000a3a1';
const DEV_B = '24e124000000a3b2';
const APP = 'app-live';
const MIN = 60_000;
const HOUR = 60 * MIN;

interface LivenessView {
  devices: { device: string; state: string; lastSeenAt: number | null }[];
  gateways: { gateway: string; state: string }[];
}

describe('liveness through the service', () => {
  let stack: SecureStack;
  let lns: MosquittoHandle;
  let lnsPub: MqttClient;
  let service: ServiceHandle;
  let admin: string;
  let viewer: string;
  let gateway: ChildProcess | undefined;
  // The service's clock: real time plus what the test adds.
  let offset = 0;

  const liveness = async (): Promise<LivenessView> => {
    const r = await api(service, 'GET', `/api/v1/liveness?torg=${TORG}`, viewer);
    expect(r.status).toBe(200);
    return r.body as LivenessView;
  };
  const stateOf = async (device: string) => (await liveness()).devices.find((d) => d.device === device)?.state;
  const live = async () => {
    const r = await api(service, 'GET', `/api/v1/live/${TORG}`, viewer);
    expect(r.status).toBe(200);
    return torgLiveSchema.parse(r.body);
  };
  const metrics = async () => (await fetch(`http://127.0.0.1:${service.ingest.httpPort}/metrics`)).text();

  beforeAll(async () => {
    [stack, lns] = await Promise.all([startSecureStack(), startMosquitto()]);
    lnsPub = await mqtt.connectAsync(lns.url, { clientId: 'e2e-live-lns' });
    const rules = writeJson(stack, 'rules.json', {
      v: 1,
      rules: [{ name: 'mains door sensors', match: { torg: TORG, labels: { power: 'mains' } }, assign: { type: 'zone', zone: 'sal' }, deviceClass: 'mains' }],
    });
    service = await stack.start({ INGEST_ASSIGNMENT_RULES_FILE: rules }, () => Date.now() + offset);
    ({ admin, viewer } = await stack.tokens());
  }, 60_000);

  afterAll(async () => {
    if (gateway && gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
    await service?.stop();
    await lnsPub?.endAsync();
    await lns?.dispose();
    await stack?.dispose();
  });

  it('a killed gateway is offline by its last will, in the API and in /metrics', async () => {
    const created = await api(service, 'POST', '/api/v1/provisioning-keys', admin, { torg: TORG });
    expect(created.status).toBe(201);
    const configPath = join(stack.dir, 'gateway.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        gateway: GW,
        torg: TORG,
        logLevel: 'warn',
        central: { url: stack.mqtt.url, reconnect: { initialMs: 100, maxMs: 1_000 } },
        outbox: { path: join(stack.dir, 'gw-live', 'outbox.db') },
        http: { host: '127.0.0.1', port: 0 },
        provisioning: { bootstrapUsername: BOOTSTRAP_USER.username, bootstrapPassword: BOOTSTRAP_USER.password, timeoutMs: 10_000 },
        devices: { [DEV_A]: { model: 'milesight-ws301', reportIntervalSeconds: 60 }, [DEV_B]: { model: 'milesight-ws301', reportIntervalSeconds: 60 } },
        sources: [{ type: 'mqtt', name: 'chirpstack', url: lns.url, topics: [`application/${APP}/device/+/event/up`], format: 'chirpstack-v4' }],
        announce: { inventoryDebounceMs: 50, rebirthDelayMs: 50 },
      }),
    );
    // The deployed gateway, with the key from the environment (not in its config file).
    gateway = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts', configPath], {
      cwd: REPO_ROOT,
      env: { ...process.env, GATEWAY_PROVISIONING_KEY: (created.body as { key: string }).key },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await expect.poll(async () => (await liveness()).gateways.find((g) => g.gateway === GW)?.state, { timeout: 30_000, interval: 200 }).toBe('online');

    // Both devices report once (now − 1 s); A is then assigned by an admin, B by the rule.
    const t = Math.floor((Date.now() - 1_000) / 1000) * 1000;
    for (const [dev, tags] of [[DEV_A, undefined], [DEV_B, { power: 'mains' }]] as const) {
      const u = ws301Uplink(APP, dev, t, tags);
      await lnsPub.publishAsync(u.topic, u.payload, { qos: 1 });
    }
    await waitForValue('A registered', async () => ((await api(service, 'GET', `/api/v1/devices/${DEV_A}`, viewer)).status === 200 ? true : undefined), 15_000);
    const assigned = await api(service, 'POST', `/api/v1/devices/${DEV_A}/assign`, admin, { torg: TORG, place: { type: 'zone', zone: 'mote-1' } });
    expect(assigned.status).toBe(200);
    await expect.poll(async () => [await stateOf(DEV_A), await stateOf(DEV_B)], { timeout: 15_000, interval: 200 }).toEqual(['online', 'online']);
    const b = (await api(service, 'GET', `/api/v1/devices/${DEV_B}`, viewer)).body as { status: string; deviceClass: string; expectedIntervalS: number };
    expect(b).toMatchObject({ status: 'active', deviceClass: 'mains', expectedIntervalS: 60 });

    // While fresh, the live page shows both doors open (WS301 README example payload) as current. The
    // live state learns a device's place from the registry every few seconds (RegistryPlaceCache), and
    // a reading that arrived before its device had a place is not on the page: both report again
    // until the page shows them.
    await expect
      .poll(
        async () => {
          const now = Math.floor(Date.now() / 1000) * 1000;
          for (const [dev, tags] of [[DEV_A, undefined], [DEV_B, { power: 'mains' }]] as const) {
            const u = ws301Uplink(APP, dev, now, tags);
            await lnsPub.publishAsync(u.topic, u.payload, { qos: 1 });
          }
          return (await live()).doors.filter((d) => d.fresh && d.open === true).map((d) => d.device).sort();
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toEqual([DEV_A, DEV_B].sort());

    gateway.kill('SIGKILL');
    await expect.poll(async () => (await liveness()).gateways.find((g) => g.gateway === GW)?.state, { timeout: 15_000, interval: 100 }).toBe('offline');
    const text = await metrics();
    expect(text).toContain(`ingest_gateways{torg="${TORG}",state="offline"} 1`);
    expect(text).not.toContain(`ingest_gateways{torg="${TORG}",state="online"} 1`);
  }, 60_000);

  it('devices that stop reporting go stale, then offline by class; stale values are never shown as fresh', async () => {
    // 2 min of silence: below 150 s, both still online.
    offset = 2 * MIN;
    await expect.poll(async () => [await stateOf(DEV_A), await stateOf(DEV_B)], { timeout: 5_000, interval: 200 }).toEqual(['online', 'online']);

    // 3 min: past 2.5 × 60 s, both stale; the live doors are no longer fresh, and no device reads as online.
    offset = 3 * MIN;
    await expect.poll(async () => [await stateOf(DEV_A), await stateOf(DEV_B)], { timeout: 5_000, interval: 200 }).toEqual(['stale', 'stale']);
    const staleLive = await live();
    const doors = staleLive.doors.filter((d) => d.device === DEV_A || d.device === DEV_B);
    expect(doors).toHaveLength(2);
    for (const d of doors) expect(d.fresh).toBe(false);
    for (const dev of staleLive.devices.filter((d) => d.device === DEV_A || d.device === DEV_B)) expect(dev.state).toBe('stale');
    const staleMetrics = await metrics();
    expect(staleMetrics).toContain(`ingest_devices{torg="${TORG}",state="stale"} 2`);

    // 11 min: the mains device is past its 10 min class timeout, the battery one is not.
    offset = 11 * MIN;
    await expect.poll(async () => [await stateOf(DEV_A), await stateOf(DEV_B)], { timeout: 5_000, interval: 200 }).toEqual(['stale', 'offline']);

    // 25 h + 1 min: the battery device is offline too.
    offset = 25 * HOUR + MIN;
    await expect.poll(async () => [await stateOf(DEV_A), await stateOf(DEV_B)], { timeout: 5_000, interval: 200 }).toEqual(['offline', 'offline']);
    const offlineLive = await live();
    for (const d of offlineLive.doors.filter((x) => x.device === DEV_A || x.device === DEV_B)) expect(d.fresh).toBe(false);
    expect(await metrics()).toContain(`ingest_devices{torg="${TORG}",state="offline"} 2`);
  }, 60_000);
});

/**
 * Issue 4 end to end through the real service (ingest/service.ts, production mode) and real gateways
 * (gateway/main.ts): a gateway provisions itself from nothing, its device appears pending, its first
 * reading is stored flagged pending (not dead-lettered as unknown), an assignment rule makes it active
 * after a service restart (same registry record) and the gateway gets its retained config; a gateway
 * of another torg that relays the same device is dead-lettered as spoofed. The birth/first-reading race
 * is also checked through a second writer instance (INGEST_ROLE=writer), where it is widest.
 *
 * Mosquitto runs with the password and ACL files the service generates; the gateways' LNS is a second,
 * local Mosquitto fed with ChirpStack v4 uplinks by this test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { provisionResponseSchema, type ProvisionResponse } from '../../devices/contract/provisioning.schema.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { startGateway, type GatewayHandle } from '../../gateway/main.ts';
import type { ServiceHandle } from '../../ingest/service.ts';
import { startMosquitto, type MosquittoHandle } from '../support/services.ts';
import { waitFor, waitForValue } from './gateway-helpers.ts';
import { BOOTSTRAP_USER, api, testLogger, startSecureStack, writeJson, ws301Uplink, type SecureStack } from './service-helpers.ts';

const TORG_A = 'heggedal';
const TORG_B = 'slemmestad';
const DEV = '24e124000000a301';

/** Lines the instance had InfluxDB accept: its stored readings plus its dead letters. */
async function writerHandled(h: ServiceHandle): Promise<number> {
  return (await h.ingest.metrics.pointsWritten.get()).values.reduce((n, v) => n + v.value, 0);
}

interface DeviceView {
  id: string;
  status: string;
  torg: string;
  firstSeenAt: number;
  assignment: { torg: string; place: { type: string; zone?: string } } | null;
}

describe('issue 4 through the service: provisioning, pending, rules, spoofing', () => {
  let stack: SecureStack;
  let lns: MosquittoHandle;
  let lnsPub: MqttClient;
  let service: ServiceHandle | null = null;
  let admin: string;
  const gateways: GatewayHandle[] = [];
  const gwDirs: string[] = [];

  const keyFor = async (torg: string): Promise<string> => {
    const r = await api(service!, 'POST', '/api/v1/provisioning-keys', admin, { torg });
    expect(r.status).toBe(201);
    return (r.body as { key: string }).key;
  };

  const startGw = async (gateway: string, torg: string, key: string, source: string): Promise<GatewayHandle> => {
    const dir = mkdtempSync(join(stack.dir, `${gateway}-`));
    const gw = await startGateway(
      parseGatewayConfig({
        gateway,
        torg,
        central: { url: stack.mqtt.url, reconnect: { initialMs: 100, maxMs: 1_000 } },
        outbox: { path: join(dir, 'outbox.db') },
        http: { host: '127.0.0.1', port: 0 },
        provisioning: { key, bootstrapUsername: BOOTSTRAP_USER.username, bootstrapPassword: BOOTSTRAP_USER.password, timeoutMs: 10_000 },
        devices: { [DEV]: { model: 'milesight-ws301', reportIntervalSeconds: 600 } },
        sources: [{ type: 'mqtt', name: 'chirpstack', url: lns.url, topics: [`application/${source}/device/+/event/up`], format: 'chirpstack-v4' }],
        announce: { inventoryDebounceMs: 50, rebirthDelayMs: 50 },
      }),
      { logger: testLogger.child({ gateway }), defaultMetrics: false, env: {} },
    );
    gateways.push(gw);
    gwDirs.push(dir);
    return gw;
  };

  const uplink = async (source: string, devEui: string, timeMs: number) => {
    const u = ws301Uplink(source, devEui, timeMs);
    await lnsPub.publishAsync(u.topic, u.payload, { qos: 1 });
  };

  const devices = async (query: string): Promise<DeviceView[]> => {
    const r = await api(service!, 'GET', `/api/v1/devices${query}`, admin);
    expect(r.status).toBe(200);
    return (r.body as { devices: DeviceView[] }).devices;
  };

  beforeAll(async () => {
    [stack, lns] = await Promise.all([startSecureStack(), startMosquitto()]);
    lnsPub = await mqtt.connectAsync(lns.url, { clientId: 'e2e-lns-publisher' });
    service = await stack.start();
    admin = (await stack.tokens()).admin;
  }, 60_000);

  afterAll(async () => {
    for (const gw of gateways) await gw.stop().catch(() => undefined);
    await service?.stop();
    await lnsPub?.endAsync();
    await lns?.dispose();
    await stack?.dispose();
  });

  // The time of the first uplink, in whole seconds (the LNS format carries nanoseconds; the fixture's are zeroed).
  const t1 = Math.floor((Date.now() - 60_000) / 1000) * 1000;

  it('a gateway provisions itself from nothing; its device is pending and its first reading is stored flagged pending, not dead-lettered', async () => {
    const key = await keyFor(TORG_A);
    const gw = await startGw('gw-e2e', TORG_A, key, 'a');
    expect(gw.authOrigin).toBe('provisioned');
    // Its own broker user (ingest/provisioning/broker-credentials.ts gatewayUsername: gw-{torg}-{gateway}).
    expect(JSON.parse(readFileSync(join(gwDirs[0]!, 'credentials.json'), 'utf8'))).toMatchObject({ torg: TORG_A, gateway: 'gw-e2e', username: 'gw-heggedal-gw-e2e' });

    // First uplink of a device nobody has seen: the gateway sends its birth, then the reading.
    await uplink('a', DEV, t1);
    const pending = await waitForValue('device pending in the API', async () => (await devices('?status=pending')).find((d) => d.id === DEV), 15_000);
    expect(pending).toMatchObject({ id: DEV, torg: TORG_A, status: 'pending', assignment: null });

    await waitFor('door point stored', async () => (await stack.influx.select(`SELECT "open" FROM raw.door WHERE device='${DEV}'`)).length >= 1, 15_000);
    const rows = await stack.influx.select(`SELECT "open", pending, torg FROM raw.door WHERE device='${DEV}'`);
    // One uplink → one door point at the uplink's time: open (WS301 README example), pending.
    expect(rows).toEqual([expect.objectContaining({ time: t1, open: true, pending: true, torg: TORG_A })]);
    const unknown = await stack.influx.select(`SELECT COUNT(detail) FROM raw.deadletter WHERE reason='E_DEVICE_UNKNOWN'`);
    expect(unknown).toEqual([]);
  }, 60_000);

  it("a device's first reading right behind its birth is stored pending, never dead-lettered as unknown (20 devices, back to back)", async () => {
    // The race the service closes with DeviceDirectory.provisional: the control plane registers a birth
    // on its own connection while the writer, on another, may already hold the reading that followed
    // it. Widest with a second writer instance (INGEST_ROLE=writer), which learns of registry changes
    // only from the directory snapshot the control plane publishes, debounced. Published with gw-e2e's
    // own (provisioned) credentials, each birth immediately followed by its reading.
    const writer = await stack.start({ INGEST_ROLE: 'writer', INGEST_CLIENT_ID: 'itorg-ingest-e2e-writer', INGEST_LIVE: false });
    const creds = z.object({ username: z.string(), password: z.string() }).parse(JSON.parse(readFileSync(join(gwDirs[0]!, 'credentials.json'), 'utf8')));
    const pub = await mqtt.connectAsync(stack.mqtt.url, { ...creds, clientId: 'e2e-race-publisher', protocolVersion: 5 });
    const ids = Array.from({ length: 20 }, (_, i) => `a840410000e0${String(i).padStart(4, '0')}`);
    const at = Math.floor((Date.now() - 30_000) / 1000) * 1000;
    try {
      const birth = (device: string) => JSON.stringify({ v: 1, device, model: 'milesight-ws301', kinds: ['door'], deviceClass: 'battery', source: 'chirpstack', firstSeenAt: at, at });
      await Promise.all(
        ids.flatMap((device, i) => [
          pub.publishAsync(topics.deviceBirth(TORG_A, 'gw-e2e', device), birth(device), { qos: 1 }),
          pub.publishAsync(
            topics.readings(TORG_A, 'gw-e2e'),
            JSON.stringify({ v: 1, torg: TORG_A, gateway: 'gw-e2e', sentAt: new Date(at).toISOString(), seq: 1_000_000 + i, readings: [{ kind: 'door', device, time: new Date(at + i).toISOString(), open: i % 2 === 0 }] }),
            { qos: 1 },
          ),
        ]),
      );
    } finally {
      await pub.endAsync();
    }
    const stored = await waitForValue(
      '20 door points',
      async () => {
        const rows = await stack.influx.select(`SELECT "open", pending, device FROM raw.door WHERE device =~ /^a840410000e0/`);
        return rows.length >= 20 ? rows : undefined;
      },
      20_000,
    );
    // Reading i: time at + i, open when i is even; every one flagged pending.
    expect(stored.map((r) => [r['device'], r['time'], r['open'], r['pending']])).toEqual(ids.map((d, i) => [d, at + i, i % 2 === 0, true]));
    // Both instances took every message (no share group): wait until the writer has handled all 20 readings.
    await waitFor('writer handled the messages', async () => (await writerHandled(writer)) >= 20, 20_000);
    await writer.stop();
    expect(await stack.influx.select(`SELECT detail FROM raw.deadletter WHERE reason='E_DEVICE_UNKNOWN'`)).toEqual([]);
    await expect.poll(async () => (await devices('?status=pending')).filter((d) => ids.includes(d.id)).length, { timeout: 10_000 }).toBe(20);
  }, 60_000);

  it('after a restart with a matching rule the same record becomes active in its zone, and the gateway gets the retained config', async () => {
    const before = (await devices('')).filter((d) => d.id === DEV);
    expect(before).toHaveLength(1);
    const firstSeenAt = before[0]!.firstSeenAt;

    await service!.stop();
    service = null;
    const rules = writeJson(stack, 'rules.json', {
      v: 1,
      rules: [{ name: 'everything from gw-e2e is in møterom 1', match: { torg: TORG_A, gateway: 'gw-e2e' }, assign: { type: 'zone', zone: 'mote-1' } }],
    });
    service = await stack.start({ INGEST_ASSIGNMENT_RULES_FILE: rules });

    // The ingest announces itself online; the gateway re-sends its births; the rule assigns the device.
    const active = await waitForValue('device active', async () => (await devices('?status=active')).find((d) => d.id === DEV), 20_000);
    expect(active.assignment).toMatchObject({ torg: TORG_A, place: { type: 'zone', zone: 'mote-1' } });
    const all = (await devices('')).filter((d) => d.id === DEV);
    expect(all).toHaveLength(1);
    expect(all[0]!.firstSeenAt).toBe(firstSeenAt);

    const gw = gateways[0]!;
    await waitFor('gateway has the active config', () => gw.deviceConfigs.get(DEV)?.status === 'active', 15_000);
    expect(gw.deviceConfigs.get(DEV)).toMatchObject({ device: DEV, status: 'active', enabled: true, place: { type: 'zone', zone: 'mote-1' } });

    // A reading after the assignment is stored without the pending flag.
    const t2 = t1 + 5_000;
    await uplink('a', DEV, t2);
    await waitFor('second door point', async () => (await stack.influx.select(`SELECT "open" FROM raw.door WHERE device='${DEV}' AND time = ${t2}ms`)).length === 1, 15_000);
    const second = await stack.influx.select(`SELECT "open", pending FROM raw.door WHERE device='${DEV}' AND time = ${t2}ms`);
    expect(second).toEqual([expect.objectContaining({ open: true, pending: null })]);
  }, 60_000);

  it('the device relayed by a gateway of another torg is dead-lettered as spoofed and nothing is stored under that torg', async () => {
    const key = await keyFor(TORG_B);
    const births = async (outcome: string) => {
      const text = await (await fetch(`http://127.0.0.1:${service!.ingest.httpPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`ingest_device_births_total{outcome="${outcome}"} `));
      return line === undefined ? 0 : Number(line.split(' ')[1]);
    };
    const conflictsBefore = await births('torg_conflict');
    const gwB = await startGw('gw-other', TORG_B, key, 'b');
    expect(gwB.authOrigin).toBe('provisioned');
    const t3 = t1 + 10_000;
    await uplink('b', DEV, t3);
    await waitFor(
      'spoofed dead letter',
      async () => (await stack.influx.select(`SELECT detail FROM raw.deadletter WHERE reason='E_DEVICE_SPOOFED' AND torg='${TORG_B}'`)).length >= 1,
      20_000,
    );
    const stored = await stack.influx.select(`SELECT * FROM raw.door WHERE torg='${TORG_B}'`);
    expect(stored).toEqual([]);
    const health = await stack.influx.select(`SELECT * FROM raw.health WHERE torg='${TORG_B}'`);
    expect(health).toEqual([]);
    // gw-other announced the device twice (its birth, then the re-birth on the ingest's online state);
    // both are refused as births from another torg than the device's.
    await waitFor('both births of gw-other handled', async () => (await births('torg_conflict')) >= conflictsBefore + 2, 10_000);
    const rec = (await devices('')).filter((d) => d.id === DEV);
    expect(rec).toHaveLength(1);
    expect(rec[0]!.assignment).toMatchObject({ torg: TORG_A, place: { type: 'zone', zone: 'mote-1' } });
    // The legitimate gateway keeps the device's config; the other torg's gateway got none.
    expect(gateways[0]!.deviceConfigs.get(DEV)).toMatchObject({ status: 'active', place: { type: 'zone', zone: 'mote-1' } });
    expect(gwB.deviceConfigs.get(DEV)).toBeUndefined();
  }, 60_000);

  it("the spoofing gateway's birth does not take the device out of its torg: still listed there, and its admin can still move it", async () => {
    // Runs after the test above (gw-other has announced the device). A birth from another torg no longer
    // rewrites the record's torg/gateway, so the device stays in GET /api/v1/devices?torg=heggedal and
    // an assignment within heggedal is accepted.
    expect((await devices(`?torg=${TORG_A}`)).map((d) => d.id)).toContain(DEV);
    expect((await devices(`?torg=${TORG_B}`)).map((d) => d.id)).not.toContain(DEV);
    const moved = await api(service!, 'POST', `/api/v1/devices/${DEV}/assign`, admin, { torg: TORG_A, place: { type: 'zone', zone: 'arbeid' } });
    expect(moved.status).toBe(200);
    await waitFor('moved config at the gateway', () => JSON.stringify(gateways[0]!.deviceConfigs.get(DEV)?.place) === JSON.stringify({ type: 'zone', zone: 'arbeid' }), 10_000);
  }, 30_000);

  it('a key holder cannot re-provision a connected gateway; once it has gone offline, the same request succeeds', async () => {
    // Runs last: it stops gw-e2e. A provisioning request as the bootstrap user, as any key holder can send it.
    const key = await keyFor(TORG_A);
    const request = async (): Promise<ProvisionResponse> => {
      const clientId = `boot-${randomBytes(6).toString('hex')}`;
      const boot = await mqtt.connectAsync(stack.mqtt.url, { ...BOOTSTRAP_USER, protocolVersion: 5, clientId, reconnectPeriod: 0 });
      try {
        const answer = new Promise<Buffer>((resolve) => boot.once('message', (_t, payload) => resolve(payload)));
        await boot.subscribeAsync(topics.provisionResponse(clientId), { qos: 1 });
        await boot.publishAsync(topics.provisionRequest(clientId), JSON.stringify({ v: 1, torg: TORG_A, gateway: 'gw-e2e', key }), {
          qos: 1,
          properties: { responseTopic: topics.provisionResponse(clientId), correlationData: randomBytes(8) },
        });
        return provisionResponseSchema.parse(JSON.parse((await answer).toString('utf8')));
      } finally {
        await boot.endAsync();
      }
    };
    const credentialsFile = join(gwDirs[0]!, 'credentials.json');
    const before = readFileSync(credentialsFile, 'utf8');
    expect(await request()).toMatchObject({ ok: false, code: 'E_PROVISION_GATEWAY_ONLINE', retriable: true });
    // Its password still works: the gateway keeps publishing (a reading stored after the refusal).
    const t2 = t1 + 120_000;
    await uplink('a', DEV, t2);
    await waitFor('reading after the refusal', async () => (await stack.influx.select(`SELECT "open" FROM raw.door WHERE device='${DEV}' AND time = ${t2}ms`)).length === 1, 15_000);
    expect(readFileSync(credentialsFile, 'utf8')).toBe(before);

    // A clean stop publishes the gateway's death; then the key holder's request is answered.
    await gateways[0]!.stop();
    const answered = await waitForValue(
      're-provisioned after the gateway went offline',
      async () => {
        const r = await request();
        return r.ok ? r : undefined;
      },
      15_000,
    );
    expect(answered).toMatchObject({ ok: true, torg: TORG_A, gateway: 'gw-e2e', mqtt: { username: 'gw-heggedal-gw-e2e' } });
  }, 60_000);
});

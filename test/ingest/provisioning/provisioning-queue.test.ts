/**
 * The provisioning service's bounds, on a real secured Mosquitto: a retained (replayed) request is
 * ignored and counted, and with the queue full a request is answered E_PROVISION_UNAVAILABLE
 * (retriable) at once and counted. Own broker: the service here must be the only one subscribed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry as PromRegistry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topics } from '../../../devices/contract/mqtt-topics.ts';
import { provisionResponseSchema, type ProvisionResponse } from '../../../devices/contract/provisioning.schema.ts';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { BrokerAuthSync, SqliteBrokerCredentialStore } from '../../../ingest/provisioning/broker-credentials.ts';
import { SqliteProvisioningKeyStore } from '../../../ingest/provisioning/key-store.ts';
import { createProvisioningMetrics, startProvisioningService, type ProvisioningService } from '../../../ingest/provisioning/provisioning-service.ts';
import { knownPlacesFromTorgConfig } from '../../../ingest/registry/registry.ts';
import { SqliteRegistry } from '../../../ingest/registry/sqlite-registry.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
const BOOTSTRAP = { username: 'bootstrap', password: 'bootstrap-secret-1' };
const ADMIN = { username: 'admin', password: 'admin-secret-4444' };
const knownPlaces = knownPlacesFromTorgConfig(loadTorgConfig(new URL('../../../config/torg.asker.sample.json', import.meta.url).pathname));

let dir: string;
let broker: MosquittoHandle;
let registry: SqliteRegistry;
let keys: SqliteProvisioningKeyStore;
let credentials: SqliteBrokerCredentialStore;
let authSync: BrokerAuthSync;
const clients: MqttClient[] = [];
const services: ProvisioningService[] = [];

async function connect(user: { username: string; password: string }, clientId: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, { ...user, clientId, protocolVersion: 5, reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

/** Sends a request; `answer` resolves when its response arrives (wrapped: an async function would await it). */
async function send(request: unknown, opts: { retain?: boolean } = {}): Promise<{ answer: Promise<ProvisionResponse> }> {
  const clientId = `boot-${randomBytes(6).toString('hex')}`;
  const boot = await connect(BOOTSTRAP, clientId);
  const answer = new Promise<ProvisionResponse>((resolve) => boot.once('message', (_t, payload) => resolve(provisionResponseSchema.parse(JSON.parse(payload.toString())))));
  await boot.subscribeAsync(topics.provisionResponse(clientId), { qos: 1 });
  // PUBACK: the broker has taken the request, so a request sent after this one reaches the service after it.
  await boot.publishAsync(topics.provisionRequest(clientId), JSON.stringify(request), {
    qos: 1,
    retain: opts.retain ?? false,
    properties: { responseTopic: topics.provisionResponse(clientId), correlationData: randomBytes(8) },
  });
  return { answer };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'itorg-prov-queue-'));
  const db = join(dir, 'registry.db');
  const now = () => T0;
  registry = new SqliteRegistry({ path: db, knownPlaces, now });
  keys = new SqliteProvisioningKeyStore({ path: db, now });
  credentials = new SqliteBrokerCredentialStore({ path: db, now });
  await credentials.setService({ role: 'admin', ...ADMIN });
  await credentials.setService({ role: 'bootstrap', ...BOOTSTRAP });
  mkdirSync(join(dir, 'auth'));
  const files = await new BrokerAuthSync({ store: credentials, dir: join(dir, 'auth'), reload: { none: true } }).sync();
  broker = await startMosquitto({ extraConfig: files.config });
  authSync = new BrokerAuthSync({ store: credentials, dir: join(dir, 'auth'), reload: { pidFile: join(broker.dataDir, 'mosquitto.pid') } });
});

afterAll(async () => {
  for (const s of services) await s.stop();
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker?.dispose();
  await Promise.all([registry?.close(), keys?.close(), credentials?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

it('ignores a retained request (a replay) and, with the queue full, answers E_PROVISION_UNAVAILABLE at once', async () => {
  const { key } = await keys.create('heggedal');
  // Left retained before the service starts: delivered to it on subscribe with the retain flag.
  await send({ v: 1, torg: 'heggedal', gateway: 'gw-replayed', key }, { retain: true });

  let enter!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const gatedSync = {
    sync: async () => {
      enter();
      await gate;
      return authSync.sync();
    },
  };
  const prom = new PromRegistry();
  const service = await startProvisioningService({
    client: await connect(ADMIN, 'provisioning-service'),
    keys,
    credentials,
    authSync: gatedSync,
    registry,
    knownPlaces,
    now: () => T0,
    logger: pino({ level: 'silent' }),
    metrics: createProvisioningMetrics([prom]),
    probe: { url: broker.url },
    maxQueue: 1,
  });
  services.push(service);

  const first = await send({ v: 1, torg: 'heggedal', gateway: 'gw-1', key });
  await entered; // gw-1 is being handled, held at the broker-file step
  const second = await send({ v: 1, torg: 'heggedal', gateway: 'gw-2', key }); // queued (1 of 1)
  const third = await send({ v: 1, torg: 'heggedal', gateway: 'gw-3', key }); // queue full
  expect(await third.answer).toMatchObject({ ok: false, code: 'E_PROVISION_UNAVAILABLE', retriable: true });
  open();
  expect(await first.answer).toMatchObject({ ok: true, gateway: 'gw-1' });
  expect(await second.answer).toMatchObject({ ok: true, gateway: 'gw-2' });
  await service.idle();

  const values = (await prom.getSingleMetric('ingest_provisioning_requests_total')!.get()).values;
  const byOutcome = Object.fromEntries(values.map((v) => [v.labels['outcome'], v.value]));
  expect(byOutcome).toEqual({ ignored_retained: 1, ok: 2, dropped_queue_full: 1 });
  // The replayed request provisioned nothing.
  expect((await registry.listGateways('heggedal')).map((g) => g.id)).toEqual(['gw-1', 'gw-2']);
});

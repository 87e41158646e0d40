/**
 * Security review of the provisioning service (ingest/provisioning/provisioning-service.ts): gateway
 * ids that would give a gateway's broker rights over another part of the topic tree.
 *
 * A gateway's ACL (ingest/broker-acl/mosquitto-acl.ts gatewayRules) is written under
 * `itorg/v1/{torg}/{gateway}/`, and alert events live at `itorg/v1/{torg}/alerts/{alertId}`
 * (devices/contract/mqtt-topics.ts). A gateway provisioned with the id `alerts` could publish under
 * `itorg/v1/{torg}/alerts/…`, where alert subscribers (`itorg/v1/{torg}/alerts/+`) would take its
 * messages for alert events. The broker here needs no ACL: the refusal is the service's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry as PromRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../../devices/contract/mqtt-topics.ts';
import { PROVISIONING_VERSION, provisionResponseSchema, type ProvisionResponse } from '../../../devices/contract/provisioning.schema.ts';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { BrokerAuthSync, SqliteBrokerCredentialStore } from '../../../ingest/provisioning/broker-credentials.ts';
import { SqliteProvisioningKeyStore } from '../../../ingest/provisioning/key-store.ts';
import { createProvisioningMetrics, startProvisioningService, type ProvisioningService } from '../../../ingest/provisioning/provisioning-service.ts';
import { knownPlacesFromTorgConfig } from '../../../ingest/registry/registry.ts';
import { SqliteRegistry } from '../../../ingest/registry/sqlite-registry.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';

const knownPlaces = knownPlacesFromTorgConfig(loadTorgConfig(new URL('../../../config/torg.asker.sample.json', import.meta.url).pathname));
const logger = pino({ level: 'silent' });

let dir: string;
let broker: MosquittoHandle;
let admin: MqttClient;
let registry: SqliteRegistry;
let keys: SqliteProvisioningKeyStore;
let credentials: SqliteBrokerCredentialStore;
let service: ProvisioningService;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'prov-sec-'));
  broker = await startMosquitto();
  const path = join(dir, 'registry.sqlite');
  registry = new SqliteRegistry({ path, knownPlaces, now: Date.now });
  keys = new SqliteProvisioningKeyStore({ path, now: Date.now });
  credentials = new SqliteBrokerCredentialStore({ path, now: Date.now });
  admin = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'prov-sec-service' });
  service = await startProvisioningService({
    client: admin,
    keys,
    credentials,
    authSync: new BrokerAuthSync({ store: credentials, dir, reload: { none: true } }),
    registry,
    knownPlaces,
    now: Date.now,
    logger,
    metrics: createProvisioningMetrics([new PromRegistry()]),
    probe: null,
  });
});
afterAll(async () => {
  await service?.stop();
  await admin?.endAsync();
  await registry?.close();
  await keys?.close();
  await credentials?.close();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function provision(request: unknown): Promise<ProvisionResponse> {
  const clientId = `boot-${randomBytes(6).toString('hex')}`;
  const boot = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId, reconnectPeriod: 0 });
  try {
    const answer = new Promise<Buffer>((resolve) => boot.once('message', (_t, payload) => resolve(payload)));
    await boot.subscribeAsync(topics.provisionResponse(clientId), { qos: 1 });
    await boot.publishAsync(topics.provisionRequest(clientId), JSON.stringify(request), {
      qos: 1,
      properties: { responseTopic: topics.provisionResponse(clientId), correlationData: randomBytes(16) },
    });
    return provisionResponseSchema.parse(JSON.parse((await answer).toString('utf8')));
  } finally {
    await boot.endAsync();
  }
}

describe('provisioning refuses gateway ids that are levels of the topic tree', () => {
  it('refuses the gateway id `alerts` (E_PROVISION_INVALID) and issues no broker user for it; an ordinary id still provisions', async () => {
    const { key } = await keys.create('asker-sentrum');
    const refused = await provision({ v: PROVISIONING_VERSION, torg: 'asker-sentrum', gateway: 'alerts', key });
    expect(refused).toMatchObject({ ok: false, code: 'E_PROVISION_INVALID', retriable: false });
    expect(await registry.getGateway('asker-sentrum', 'alerts')).toBeNull();
    expect((await credentials.principals()).map((p) => p.username)).toEqual([]);

    const ok = await provision({ v: PROVISIONING_VERSION, torg: 'asker-sentrum', gateway: 'gw-1', key });
    expect(ok).toMatchObject({ ok: true, torg: 'asker-sentrum', gateway: 'gw-1', mqtt: { username: 'gw-asker-sentrum-gw-1' } });
  });
});

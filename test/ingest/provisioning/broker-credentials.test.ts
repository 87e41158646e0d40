/**
 * Broker credentials kept as hashes, written to the broker's files and loaded by a real Mosquitto
 * 2.0.11 (anonymous off) through SIGHUP: a new credential works after the reload, a revoked one is
 * refused and its open connection dropped, a re-issued one replaces the old password.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrokerAuthSync,
  CredentialConflictError,
  SqliteBrokerCredentialStore,
  awaitBrokerAccepts,
  reloadBroker,
} from '../../../ingest/provisioning/broker-credentials.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
let dir: string;
let store: SqliteBrokerCredentialStore;
let broker: MosquittoHandle;
let sync: BrokerAuthSync;
const clients: MqttClient[] = [];

/** CONNACK code of a refused connect, or 0 when accepted. */
async function connectCode(username: string, password: string): Promise<number> {
  try {
    const c = await mqtt.connectAsync(broker.url, { username, password, reconnectPeriod: 0, connectTimeout: 10_000 });
    await c.endAsync();
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'itorg-brokercred-'));
  store = new SqliteBrokerCredentialStore({ path: join(dir, 'registry.db'), now: () => T0 });
  await store.setService({ role: 'admin', username: 'admin', password: 'admin-secret-4444' });
  const files = await new BrokerAuthSync({ store, dir, reload: { none: true } }).sync();
  broker = await startMosquitto({ extraConfig: files.config });
  sync = new BrokerAuthSync({ store, dir, reload: { pidFile: join(broker.dataDir, 'mosquitto.pid') } });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker?.dispose();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteBrokerCredentialStore', () => {
  it('issues gw-<torg>-<gateway> with a random base64url password and keeps only its hash', async () => {
    const a = await store.issueGateway('heggedal', 'gw-1');
    expect(a.username).toBe('gw-heggedal-gw-1');
    // 24 bytes in base64url = 32 characters, no padding, no ':'.
    expect(a.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const p = (await store.principals()).find((x) => x.username === a.username);
    expect(p).toEqual({ role: 'gateway', username: 'gw-heggedal-gw-1', torg: 'heggedal', gateway: 'gw-1', hash: expect.stringMatching(/^\$7\$101\$/) });
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).includes(Buffer.from(a.password))).toBe(false);
    const again = await store.issueGateway('heggedal', 'gw-1');
    expect(again.password).not.toBe(a.password);
    const rows = (await store.principals()).filter((x) => x.username === a.username);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ hash: expect.stringMatching(/^\$7\$101\$/) });
    expect(rows[0]).not.toEqual(p);
  });

  it('refuses a username that another torg/gateway pair already holds, and one over 64 characters', async () => {
    await store.issueGateway('a-b', 'c');
    await expect(store.issueGateway('a', 'b-c')).rejects.toBeInstanceOf(CredentialConflictError);
    await expect(store.issueGateway('tofte', 'g'.repeat(60))).rejects.toBeInstanceOf(CredentialConflictError);
    await expect(store.setService({ role: 'ingest', username: 'gw-a-b-c', password: 'ingest-secret-333' })).rejects.toThrow(/E_CONFIG_INVALID/);
  });
});

describe('files and reload on a real Mosquitto', () => {
  it('a new credential is refused before the reload and accepted after it', async () => {
    const c = await store.issueGateway('tofte', 'gw-new');
    expect(await connectCode(c.username, c.password)).toBe(5);
    await sync.sync();
    expect(await awaitBrokerAccepts({ url: broker.url, username: c.username, password: c.password })).toBe(true);
    const acl = readFileSync(join(dir, 'acl'), 'utf8');
    expect(acl).toContain('user gw-tofte-gw-new\ntopic write itorg/v1/tofte/gw-new/readings\n');
  });

  it('revoking drops the open connection and refuses the password; enabling restores it', async () => {
    const c = await store.issueGateway('tofte', 'gw-rev');
    await sync.sync();
    expect(await awaitBrokerAccepts({ url: broker.url, username: c.username, password: c.password })).toBe(true);
    const open = await mqtt.connectAsync(broker.url, { username: c.username, password: c.password, reconnectPeriod: 0 });
    clients.push(open);
    const closed = new Promise<void>((resolve) => open.once('close', () => resolve()));
    expect(await store.setGatewayEnabled('tofte', 'gw-rev', false)).toBe(true);
    await sync.sync();
    // Mosquitto re-checks connected clients against the reloaded password file and disconnects them.
    await closed;
    expect(await connectCode(c.username, c.password)).toBe(5);
    expect(await store.setGatewayEnabled('tofte', 'gw-rev', true)).toBe(true);
    await sync.sync();
    expect(await awaitBrokerAccepts({ url: broker.url, username: c.username, password: c.password })).toBe(true);
    expect(await store.setGatewayEnabled('tofte', 'no-such-gateway', false)).toBe(false);
  });

  it('re-issuing replaces the password: the old one is refused after the reload', async () => {
    const first = await store.issueGateway('royken', 'gw-1');
    await sync.sync();
    expect(await awaitBrokerAccepts({ url: broker.url, username: first.username, password: first.password })).toBe(true);
    const second = await store.issueGateway('royken', 'gw-1');
    await sync.sync();
    expect(await awaitBrokerAccepts({ url: broker.url, username: second.username, password: second.password })).toBe(true);
    expect(await connectCode(first.username, first.password)).toBe(5);
  });

  it('reloads through a command as well as a pid file', async () => {
    const c = await store.issueGateway('saetre', 'gw-cmd');
    const pid = readFileSync(join(broker.dataDir, 'mosquitto.pid'), 'utf8').trim();
    const viaCommand = new BrokerAuthSync({ store, dir, reload: { command: ['/bin/kill', '-HUP', pid] } });
    await viaCommand.sync();
    expect(await awaitBrokerAccepts({ url: broker.url, username: c.username, password: c.password })).toBe(true);
    await expect(reloadBroker({ pidFile: join(dir, 'missing.pid') })).rejects.toThrow();
  });

  it('awaitBrokerAccepts gives up on a password the broker never accepts', async () => {
    expect(await awaitBrokerAccepts({ url: broker.url, username: 'admin', password: 'not-the-admin-pw', timeoutMs: 200 })).toBe(false);
  });
});

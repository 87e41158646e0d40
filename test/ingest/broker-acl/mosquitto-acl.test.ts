/**
 * The generated password and ACL files, loaded into a real Mosquitto 2.0.11 with anonymous access
 * off (issue 4, "Tests (real Mosquitto)").
 *
 * "The broker drops it" is shown without waiting for a timeout: MQTT keeps the order of one client's
 * messages to a subscriber [MQTT-4.6.0-2..6], so when the admin receives a permitted marker that the
 * same client published after the forbidden message, the forbidden one would already have arrived.
 * Likewise, retained messages of an earlier SUBSCRIBE are sent before those of a later one.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filters, topics } from '../../../devices/contract/mqtt-topics.ts';
import { hashPasswords, renderAclFile, renderHashedPasswordFile, renderPasswordFile, writeBrokerAuthFiles, type Principal } from '../../../ingest/broker-acl/mosquitto-acl.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';

const A = { torg: 'heggedal', gateway: 'gw-heggedal' };
const B = { torg: 'tofte', gateway: 'gw-tofte' };
const principals: Principal[] = [
  { role: 'gateway', username: 'gw-heggedal', password: 'heggedal-secret-1', ...A },
  { role: 'gateway', username: 'gw-tofte', password: 'tofte-secret-2222', ...B },
  { role: 'ingest', username: 'ingest', password: 'ingest-secret-333' },
  { role: 'admin', username: 'admin', password: 'admin-secret-4444' },
];

let broker: MosquittoHandle;
let authDir: string;
const clients: MqttClient[] = [];

async function connect(username: string | undefined, password: string | undefined, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...extra,
  });
  clients.push(client);
  return client;
}

/** Connect errors of MQTT.js carry the CONNACK return/reason code. */
async function connectError(username: string | undefined, password: string | undefined, extra: IClientOptions = {}): Promise<number | undefined> {
  try {
    const c = await connect(username, password, extra);
    await c.endAsync();
    return undefined;
  } catch (error) {
    return (error as { code?: number }).code;
  }
}

/**
 * Collects what a client receives. With `liveOnly`, retained messages sent because of the
 * subscription (retain flag 1 [MQTT-3.3.1-8], e.g. left by an earlier test) are skipped; messages
 * published while subscribed arrive with retain 0 [MQTT-3.3.1-9].
 */
function collector(client: MqttClient, opts: { liveOnly?: boolean } = {}): { messages: { topic: string; payload: string }[]; waitFor(topic: string): Promise<void> } {
  const messages: { topic: string; payload: string }[] = [];
  const waiters: { topic: string; resolve: () => void }[] = [];
  client.on('message', (topic, payload, packet) => {
    if (opts.liveOnly === true && packet.retain) return;
    messages.push({ topic, payload: payload.toString() });
    for (const w of waiters.filter((x) => x.topic === topic)) w.resolve();
  });
  return {
    messages,
    waitFor: (topic) =>
      messages.some((m) => m.topic === topic) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ topic, resolve })),
  };
}

beforeAll(async () => {
  authDir = mkdtempSync(join(tmpdir(), 'itorg-acl-test-'));
  const files = await writeBrokerAuthFiles(authDir, principals);
  broker = await startMosquitto({ extraConfig: files.config });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker?.dispose();
  rmSync(authDir, { recursive: true, force: true });
});

describe('generated files', () => {
  it('the password file holds only PBKDF2-SHA512 hashes, mode 0600, no plaintext', () => {
    const text = readFileSync(join(authDir, 'passwd'), 'utf8');
    const lines = text.trim().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['gw-heggedal', 'gw-tofte', 'ingest', 'admin']);
    for (const l of lines) expect(l).toMatch(/^[^:]+:\$7\$101\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    for (const p of principals) expect(text).not.toContain(p.password);
    expect(statSync(join(authDir, 'passwd')).mode & 0o777).toBe(0o600);
  });

  it('the ACL of a gateway lists exactly its own topics, and nothing precedes the first user line', () => {
    const acl = renderAclFile([principals[0]!]);
    const rules = acl.split('\n').filter((l) => l.startsWith('topic ') || l.startsWith('user ') || l.startsWith('pattern '));
    expect(rules).toEqual([
      'user gw-heggedal',
      'topic write itorg/v1/heggedal/gw-heggedal/readings',
      'topic write itorg/v1/heggedal/gw-heggedal/state',
      'topic write itorg/v1/heggedal/gw-heggedal/inventory',
      'topic write itorg/v1/heggedal/gw-heggedal/devices/+/birth',
      'topic read itorg/v1/heggedal/gw-heggedal/config/#',
      'topic read itorg/v1/_sys/ingest/+/state',
    ]);
  });

  it('the provisioning patterns (client-id keyed) come once, after every user, and only with a bootstrap user', () => {
    const acl = renderAclFile([{ role: 'bootstrap', username: 'bootstrap', password: 'bootstrap-secret-1' }, principals[3]!]);
    const rules = acl.split('\n').filter((l) => /^(user|topic|pattern) /.test(l));
    expect(rules).toEqual([
      'user bootstrap',
      'user admin',
      'topic readwrite itorg/#',
      'topic read $SYS/#',
      'pattern write itorg/v1/_sys/provision/request/%c',
      'pattern read itorg/v1/_sys/provision/response/%c',
    ]);
    expect(renderAclFile([principals[3]!])).not.toContain('pattern');
  });

  it('stored hashes go into the password file verbatim; a malformed hash is refused', async () => {
    const hashed = await hashPasswords([{ username: 'gw-x', password: 'gateway-secret-x' }]);
    const hash = hashed.get('gw-x')!;
    expect(hash).toMatch(/^\$7\$101\$/);
    const dir = mkdtempSync(join(tmpdir(), 'itorg-acl-hashed-'));
    try {
      await writeBrokerAuthFiles(dir, [{ role: 'gateway', username: 'gw-x', torg: 'tofte', gateway: 'x', hash }]);
      expect(readFileSync(join(dir, 'passwd'), 'utf8')).toBe(`gw-x:${hash}\n`);
      // Written through a temp file and rename: nothing else is left in the directory.
      expect(readdirSync(dir).sort()).toEqual(['acl', 'passwd']);
      expect(() => renderHashedPasswordFile([{ username: 'gw-x', hash: 'plaintext-password' }])).toThrow(/E_CONFIG_INVALID/);
      expect(() => renderHashedPasswordFile([{ username: 'gw-x', hash: `${hash}\nevil:$7$101$a$b` }])).toThrow(/E_CONFIG_INVALID/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses principals that would break the files, without echoing passwords', async () => {
    const bad = (p: Record<string, unknown>) => () => renderAclFile([p as Principal]);
    expect(bad({ role: 'admin', username: 'ad min', password: 'admin-secret-4444' })).toThrow(/E_CONFIG_INVALID/);
    expect(bad({ role: 'admin', username: 'a:b', password: 'admin-secret-4444' })).toThrow(/E_CONFIG_INVALID/);
    expect(bad({ role: 'admin', username: 'admin', password: 'short' })).toThrow(/E_CONFIG_INVALID/);
    expect(bad({ role: 'admin', username: 'admin', password: 'line\nbreak-secret' })).toThrow(/E_CONFIG_INVALID/);
    expect(bad({ role: 'admin', username: 'admin', password: 'colon:in-secret' })).toThrow(/E_CONFIG_INVALID/);
    expect(bad({ role: 'gateway', username: 'g', password: 'long-enough-pw', torg: 'Tofte/#', gateway: 'gw' })).toThrow(/E_CONFIG_INVALID/);
    expect(() => renderAclFile([principals[0]!, { ...principals[1]!, username: 'gw-heggedal' }])).toThrow(/duplicate username/);
    expect(() => renderAclFile([principals[0]!, { ...principals[0]!, username: 'second' }])).toThrow(/more than one user/);
    await expect(renderPasswordFile([{ role: 'admin', username: 'admin', password: 'short' }])).rejects.toThrow(/E_CONFIG_INVALID/);
    try {
      renderAclFile([{ role: 'admin', username: 'a b', password: 'do-not-leak-me-9' }]);
    } catch (error) {
      expect((error as Error).message).not.toContain('do-not-leak-me-9');
    }
  });
});

describe('a real Mosquitto with the generated files', () => {
  it('anonymous is refused (CONNACK 5, not authorised)', async () => {
    expect(await connectError(undefined, undefined)).toBe(5);
  });

  it('a wrong password is refused, also for a known user', async () => {
    const code = await connectError('gw-heggedal', 'tofte-secret-2222');
    // MQTT 3.1.1 §3.2.2.3: 4 = bad user name or password, 5 = not authorised; Mosquitto answers 5.
    expect(code).toBe(5);
    expect(await connectError('nobody', 'heggedal-secret-1')).toBe(5);
  });

  it("gateway A can publish its readings but not under torg B nor into its own config; the admin sees only A's readings", async () => {
    const admin = await connect('admin', 'admin-secret-4444');
    const seen = collector(admin, { liveOnly: true });
    await admin.subscribeAsync('itorg/v1/#', { qos: 1 });
    // The gateway speaks MQTT 3.1.1, which has no way to refuse a PUBLISH; the server must then either
    // acknowledge and drop it or close the connection [MQTT-3.3.5-2]. Mosquitto 2.0.11 closes it
    // (logged as "Bad socket read/write", eclipse-mosquitto/mosquitto#2579), so each forbidden publish
    // costs the gateway its connection, and the test waits for that close.
    for (const topic of [topics.readings(B.torg, B.gateway), topics.gatewayState(B.torg, B.gateway), topics.gatewayConfig(A.torg, A.gateway), topics.deviceConfig(A.torg, A.gateway, 'd1')]) {
      const gwA = await connect('gw-heggedal', 'heggedal-secret-1');
      const closed = new Promise<void>((resolve) => gwA.once('close', () => resolve()));
      gwA.publish(topic, `forbidden ${topic}`, { qos: 1 }, () => undefined);
      await closed;
    }
    // Every forbidden message was handled (and dropped) before its connection closed, so a marker
    // published afterwards reaches the admin after anything the broker had let through.
    const gwA = await connect('gw-heggedal', 'heggedal-secret-1');
    await gwA.publishAsync(topics.readings(A.torg, A.gateway), 'marker-readings', { qos: 1 });
    await gwA.publishAsync(topics.deviceBirth(A.torg, A.gateway, 'd1'), 'birth-d1', { qos: 1 });
    await seen.waitFor(topics.deviceBirth(A.torg, A.gateway, 'd1'));
    expect(seen.messages).toEqual([
      { topic: topics.readings(A.torg, A.gateway), payload: 'marker-readings' },
      { topic: topics.deviceBirth(A.torg, A.gateway, 'd1'), payload: 'birth-d1' },
    ]);
    expect(gwA.connected).toBe(true);
  });

  it("gateway A reads its own config but not B's", async () => {
    const admin = await connect('admin', 'admin-secret-4444');
    await admin.publishAsync(topics.gatewayConfig(B.torg, B.gateway), 'config-of-b', { qos: 1, retain: true });
    await admin.publishAsync(topics.deviceConfig(B.torg, B.gateway, 'dev-b'), 'device-config-of-b', { qos: 1, retain: true });
    await admin.publishAsync(topics.gatewayConfig(A.torg, A.gateway), 'config-of-a', { qos: 1, retain: true });
    const gwA = await connect('gw-heggedal', 'heggedal-secret-1');
    const seen = collector(gwA);
    await gwA.subscribeAsync(`${topics.gatewayConfig(B.torg, B.gateway)}/#`, { qos: 1 });
    await gwA.subscribeAsync('itorg/v1/+/+/config', { qos: 1 });
    await seen.waitFor(topics.gatewayConfig(A.torg, A.gateway));
    expect(seen.messages).toEqual([{ topic: topics.gatewayConfig(A.torg, A.gateway), payload: 'config-of-a' }]);
  });

  it('the ingest consumes readings through a $share group and writes dead letters, but cannot write config', async () => {
    const ingest = await connect('ingest', 'ingest-secret-333', { protocolVersion: 5, clientId: 'ingest-acl-test' });
    const got = collector(ingest);
    await ingest.subscribeAsync(filters.shared('ingest', filters.allReadings), { qos: 1 });
    const admin = await connect('admin', 'admin-secret-4444');
    const adminSeen = collector(admin, { liveOnly: true });
    await admin.subscribeAsync('itorg/v1/#', { qos: 1 });

    const gwA = await connect('gw-heggedal', 'heggedal-secret-1');
    await gwA.publishAsync(topics.readings(A.torg, A.gateway), 'via-share', { qos: 1 });
    await got.waitFor(topics.readings(A.torg, A.gateway));
    expect(got.messages).toEqual([{ topic: topics.readings(A.torg, A.gateway), payload: 'via-share' }]);

    await ingest.publishAsync(topics.deadLetter('E_READING_INVALID'), 'dead-letter', { qos: 1 });
    await adminSeen.waitFor(topics.deadLetter('E_READING_INVALID'));

    // MQTT 5 lets the broker refuse a PUBLISH: PUBACK reason 0x87 "Not authorized" [MQTT-3.4.2.1].
    // Mosquitto 2.0.11 then closes the connection as well (its log: "Sending PUBACK ... rc135", then
    // "Bad socket read/write").
    const closed = new Promise<void>((resolve) => ingest.once('close', () => resolve()));
    await expect(ingest.publishAsync(topics.gatewayConfig(B.torg, B.gateway), 'ingest-may-not', { qos: 1 })).rejects.toThrow(/Not authorized/);
    await closed;
    const again = await connect('ingest', 'ingest-secret-333', { protocolVersion: 5, clientId: 'ingest-acl-test-2' });
    await again.publishAsync(topics.ingestState('i1'), 'online', { qos: 1 });
    await adminSeen.waitFor(topics.ingestState('i1'));
    expect(adminSeen.messages.map((m) => m.payload)).toEqual(['via-share', 'dead-letter', 'online']);
  });
});

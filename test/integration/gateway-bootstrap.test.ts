/**
 * Provisioning bootstrap of a new gateway against a real Mosquitto with authentication and the
 * generated ACL (anonymous off). The platform side is a small responder written here from the
 * contract (devices/contract/provisioning.schema.ts) with a real MQTT.js client; the real
 * provisioning service is tested in test/ingest/provisioning.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filters, topics } from '../../devices/contract/mqtt-topics.ts';
import { PROVISION_REFUSALS, provisionRequestSchema, refusal, type ProvisionResponse } from '../../devices/contract/provisioning.schema.ts';
import { parseGatewayConfig, type GatewayConfigInput } from '../../gateway/config.ts';
import { EXIT_CONFIG, startGateway } from '../../gateway/main.ts';
import { writeBrokerAuthFiles } from '../../ingest/broker-acl/mosquitto-acl.ts';
import { startMosquitto, type MosquittoHandle } from '../support/services.ts';
import { silent, waitFor } from './gateway-helpers.ts';

const TORG = 'heggedal';
const GOOD_KEY = 'itpk_heggedal_0123456789abcdef';
const DISABLED_KEY = 'itpk_heggedal_disabled0000000';
const BOOT = { username: 'bootstrap', password: 'bootstrap-secret-1' };
const ISSUED = { username: 'gw-new', password: 'gw-new-secret-0001' };

describe('gateway provisioning bootstrap', () => {
  let broker: MosquittoHandle;
  let responder: MqttClient;
  let observer: MqttClient;
  let root: string;
  const requests: { clientId: string; key: string; correlation: string }[] = [];
  /** Answers to the next requests, in order; then every request with a good key is granted. */
  const script: ProvisionResponse[] = [];
  const states: unknown[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'gw-bootstrap-'));
    const files = await writeBrokerAuthFiles(root, [
      { role: 'bootstrap', ...BOOT },
      { role: 'admin', username: 'admin', password: 'admin-secret-4444' },
      // What the provisioning service would create for this gateway before answering.
      { role: 'gateway', ...ISSUED, torg: TORG, gateway: 'gw-new' },
    ]);
    broker = await startMosquitto({ extraConfig: files.config });
    responder = await mqtt.connectAsync(broker.url, { username: 'admin', password: 'admin-secret-4444', protocolVersion: 5, clientId: 'test-responder' });
    responder.on('message', (topic, payload, packet) => {
      const responseTopic = packet.properties?.responseTopic;
      const correlationData = packet.properties?.correlationData;
      if (responseTopic === undefined || correlationData === undefined) return;
      const req = provisionRequestSchema.parse(JSON.parse(payload.toString('utf8')));
      requests.push({ clientId: topic.split('/').at(-1) ?? '', key: req.key, correlation: correlationData.toString('hex') });
      const answer: ProvisionResponse =
        req.key === DISABLED_KEY
          ? refusal('E_PROVISION_KEY_DISABLED')
          : (script.shift() ?? { v: 1, ok: true, torg: req.torg, gateway: req.gateway, mqtt: ISSUED, config: { heartbeatS: 30 }, issuedAt: 1_764_000_000_000 });
      responder.publish(responseTopic, JSON.stringify(answer), { qos: 1, properties: { correlationData } });
    });
    await responder.subscribeAsync(filters.allProvisionRequests, { qos: 1 });
    observer = await mqtt.connectAsync(broker.url, { username: 'admin', password: 'admin-secret-4444', clientId: 'test-observer' });
    observer.on('message', (_t, payload) => states.push(JSON.parse(payload.toString('utf8'))));
    await observer.subscribeAsync(topics.gatewayState(TORG, 'gw-new'), { qos: 1 });
  });

  afterAll(async () => {
    await Promise.all([responder?.endAsync(), observer?.endAsync()]);
    await broker?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const configFor = (dir: string, key: string | undefined, bootPassword = BOOT.password): GatewayConfigInput => ({
    gateway: 'gw-new',
    torg: TORG,
    central: { url: broker.url, reconnect: { initialMs: 100, maxMs: 1_000 } },
    outbox: { path: join(dir, 'outbox.db') },
    http: { host: '127.0.0.1', port: 0 },
    provisioning: { ...(key !== undefined ? { key } : {}), bootstrapUsername: BOOT.username, bootstrapPassword: bootPassword, timeoutMs: 5_000, retry: { initialMs: 50, maxMs: 200, maxAttempts: 5 } },
  });

  it('provisions itself from nothing, stores the credentials (0600) and runs with them; a restart reuses them', async () => {
    const dir = mkdtempSync(join(root, 'gw-'));
    // The platform is busy at first: a retriable refusal, then the grant.
    script.push(refusal('E_PROVISION_UNAVAILABLE'));
    const before = requests.length;
    const gw = await startGateway(parseGatewayConfig(configFor(dir, GOOD_KEY)), { logger: silent, defaultMetrics: false, env: {} });
    try {
      expect(gw.authOrigin).toBe('provisioned');
      const mine = requests.slice(before);
      expect(mine).toHaveLength(2);
      expect(mine.every((r) => r.key === GOOD_KEY)).toBe(true);
      expect(new Set(mine.map((r) => r.correlation)).size).toBe(2);
      const path = join(dir, 'credentials.json');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ v: 1, torg: TORG, gateway: 'gw-new', username: ISSUED.username, password: ISSUED.password });
      // Only gw-new's own credentials may write its state topic (anonymous is off, the bootstrap
      // user may write nothing but its request topic): an online birth proves it connected with them.
      await waitFor('gateway online with the issued credentials', () => states.some((s) => (s as { online?: unknown }).online === true), 10_000);
      // Its own per-device config topic is readable under the generated ACL.
      const config = { v: 1, device: 'a81758fffe0301aa', status: 'active', enabled: false, place: null, placeName: null, expectedIntervalS: null, updatedAt: 1 };
      await responder.publishAsync(topics.deviceConfig(TORG, 'gw-new', 'a81758fffe0301aa'), JSON.stringify(config), { qos: 1, retain: true });
      await waitFor('device config received', () => gw.deviceConfigs.get('a81758fffe0301aa')?.enabled === false, 10_000);
    } finally {
      await gw.stop();
    }
    const count = requests.length;
    const again = await startGateway(parseGatewayConfig(configFor(dir, GOOD_KEY)), { logger: silent, defaultMetrics: false, env: {} });
    try {
      expect(again.authOrigin).toBe('stored');
      expect(requests.length).toBe(count);
    } finally {
      await again.stop();
    }
  });

  it('refuses a wrong bootstrap password with E_CONFIG_INVALID (the broker refuses the CONNECT)', async () => {
    const dir = mkdtempSync(join(root, 'gw-'));
    await expect(startGateway(parseGatewayConfig(configFor(dir, GOOD_KEY, 'wrong-password-1')), { logger: silent, defaultMetrics: false, env: {} })).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
    });
    expect(existsSync(join(dir, 'credentials.json'))).toBe(false);
  });

  it('stops with the refusal code, in bokmål and English, when the key is disabled', async () => {
    const dir = mkdtempSync(join(root, 'gw-'));
    const configPath = join(dir, 'gateway.json');
    // The key comes from the environment, as in production (not written in the config file).
    writeFileSync(configPath, JSON.stringify(configFor(dir, undefined)));
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts', configPath], {
      cwd: process.cwd(),
      env: { ...process.env, GATEWAY_PROVISIONING_KEY: DISABLED_KEY },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr).toContain('E_PROVISION_KEY_DISABLED');
    expect(stderr).toContain(PROVISION_REFUSALS.E_PROVISION_KEY_DISABLED.nb);
    expect(stderr).toContain(PROVISION_REFUSALS.E_PROVISION_KEY_DISABLED.en);
    expect(stderr).not.toContain(DISABLED_KEY);
    expect(existsSync(join(dir, 'credentials.json'))).toBe(false);
    expect(requests.at(-1)?.key).toBe(DISABLED_KEY);
  }, 30_000);
});

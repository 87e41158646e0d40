/**
 * The production broker config (deploy/mosquitto/mosquitto.conf) under the real Mosquitto 2.0.11, with
 * the secrets deploy/init-secrets.sh makes and the passwd/acl `cli broker init` writes from them: the
 * same three steps as `docker compose up`, minus Docker (none on this machine).
 *
 * Only container paths and the port are rewritten, and the options the test helper's base config
 * (config/mosquitto/mosquitto.conf via scripts/mosquitto.sh) already sets are left to it, because
 * Mosquitto refuses a second value for some of them ("Duplicate … value in configuration"). The first
 * test checks those shared options have the same values in both files, so nothing production relies on
 * is dropped unseen. The helper's loopback listener stays (it is how the helper sees the broker is up);
 * the production listener is checked on its own port.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { BrokerAuthSync, SqliteBrokerCredentialStore } from '../../ingest/provisioning/broker-credentials.ts';
import { freePort, startMosquitto, type MosquittoHandle } from '../support/services.ts';
import { brokerInit, DEV_MOSQUITTO_TEMPLATE, initSecrets, mustRun, need, parseConf, PROD_MOSQUITTO_CONF, productionBrokerExtraConfig, valuesOf } from './deploy-support.ts';

const prod = parseConf(readFileSync(PROD_MOSQUITTO_CONF, 'utf8'));
const dev = parseConf(readFileSync(DEV_MOSQUITTO_TEMPLATE, 'utf8'));

describe('deploy/mosquitto/mosquitto.conf (static)', () => {
  it('keeps the dev config’s no-loss queue, inflight, packet and persistence settings', () => {
    // The options whose values decide whether a PUBACKed reading can be lost or refused
    // (config/mosquitto/mosquitto.conf explains each one).
    const noLoss = [
      'max_queued_messages',
      'max_queued_bytes',
      'queue_qos0_messages',
      'max_inflight_messages',
      'max_packet_size',
      'upgrade_outgoing_qos',
      'set_tcp_nodelay',
      'persistence',
      'persistence_file',
      'autosave_on_changes',
      'persistent_client_expiration',
    ];
    for (const key of noLoss) {
      expect(valuesOf(prod, key), key).toEqual(valuesOf(dev, key));
      expect(valuesOf(prod, key), key).toHaveLength(1);
    }
    // The dev template leaves the autosave interval to scripts/mosquitto.sh (default 10 s).
    expect(valuesOf(prod, 'autosave_interval')).toEqual(['10']);
  });

  it('has exactly one listener, on 8883 with a certificate and key, and no anonymous access', () => {
    expect(valuesOf(prod, 'listener')).toEqual(['8883']);
    expect(valuesOf(prod, 'certfile')).toEqual(['/mosquitto/certs/server.pem']);
    expect(valuesOf(prod, 'keyfile')).toEqual(['/mosquitto/certs/server.key']);
    expect(valuesOf(prod, 'allow_anonymous')).toEqual(['false']);
    expect(valuesOf(prod, 'per_listener_settings')).toEqual(['false']);
    // The shared volume the ingest writes (INGEST_BROKER_AUTH_DIR) and the PID file it signals.
    expect(valuesOf(prod, 'password_file')).toEqual(['/mosquitto/auth/passwd']);
    expect(valuesOf(prod, 'acl_file')).toEqual(['/mosquitto/auth/acl']);
    expect(valuesOf(prod, 'pid_file')).toEqual(['/mosquitto/run/mosquitto.pid']);
  });
});

describe('deploy/mosquitto/mosquitto.conf under Mosquitto 2.0.11', () => {
  let dir: string;
  let broker: MosquittoHandle;
  let tlsPort: number;
  let env: Record<string, string>;
  let ca: Buffer;
  let registry: string;
  let authDir: string;
  let pidFile: string;
  const clients: MqttClient[] = [];

  const tlsOptions = (extra: IClientOptions = {}): IClientOptions => ({
    ca,
    // The certificate names the compose service; the test reaches it on loopback.
    servername: 'mosquitto',
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...extra,
  });

  async function connectTls(extra: IClientOptions = {}): Promise<MqttClient> {
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, tlsOptions(extra), false);
    clients.push(c);
    return c;
  }

  async function failure(url: string, opts: IClientOptions): Promise<{ code?: unknown; message: string }> {
    try {
      const c = await mqtt.connectAsync(url, opts, false);
      await c.endAsync();
    } catch (error) {
      return { code: (error as { code?: unknown }).code, message: (error as Error).message };
    }
    throw new Error(`${url}: connected, expected a refusal`);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'itorg-deploy-mosquitto-'));
    env = await initSecrets(dir);
    ca = readFileSync(join(dir, 'secrets/tls/ca.pem'));
    registry = join(dir, 'registry.sqlite');
    authDir = join(dir, 'broker-auth');
    const runDir = join(dir, 'run');
    pidFile = join(runDir, 'mosquitto.pid');
    await brokerInit(env, registry, authDir);
    mkdirSync(runDir, { recursive: true });
    tlsPort = await freePort();
    broker = await startMosquitto({ extraConfig: productionBrokerExtraConfig(tlsPort, { certs: join(dir, 'secrets/tls'), auth: authDir, run: runDir }) });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the ingest user of broker init over TLS, with the init-secrets CA pinned', async () => {
    const c = await connectTls({ username: need(env, 'INGEST_MQTT_USERNAME'), password: need(env, 'INGEST_MQTT_PASSWORD') });
    expect(c.connected).toBe(true);
  });

  it('fails the TLS handshake for a client that trusts another CA, or expects another name', async () => {
    const otherKey = join(dir, 'other-ca.key');
    const otherCa = join(dir, 'other-ca.pem');
    await mustRun('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', otherKey, '-out', otherCa, '-days', '1', '-subj', '/CN=other']);
    const creds = { username: need(env, 'INGEST_MQTT_USERNAME'), password: need(env, 'INGEST_MQTT_PASSWORD') };
    const wrongCa = await failure(`mqtts://127.0.0.1:${tlsPort}`, tlsOptions({ ...creds, ca: readFileSync(otherCa) }));
    // Mosquitto sends its CA with the server certificate (cafile), so the chain ends in a CA the client does not trust.
    expect(wrongCa.code).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    const wrongName = await failure(`mqtts://127.0.0.1:${tlsPort}`, tlsOptions({ ...creds, servername: 'mqtt.not-in-the-cert.example' }));
    expect(wrongName.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('refuses anonymous clients and a wrong password over TLS (CONNACK 5, not authorised)', async () => {
    expect((await failure(`mqtts://127.0.0.1:${tlsPort}`, tlsOptions())).code).toBe(5);
    const wrong = await failure(`mqtts://127.0.0.1:${tlsPort}`, tlsOptions({ username: need(env, 'INGEST_MQTT_USERNAME'), password: 'not-the-password-1234' }));
    expect(wrong.code).toBe(5);
  });

  it('answers no plain MQTT on its listener', async () => {
    const plain = await failure(`mqtt://127.0.0.1:${tlsPort}`, {
      username: need(env, 'INGEST_MQTT_USERNAME'),
      password: need(env, 'INGEST_MQTT_PASSWORD'),
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    // No CONNACK at all (a CONNACK refusal would carry a numeric return code).
    expect(typeof plain.code).not.toBe('number');
  });

  it('lets a gateway issued after start in, through the PID file and SIGHUP, and keeps it to its own torg', async () => {
    // What the ingest does on provisioning (INGEST_BROKER_PID_FILE), against this broker's pid_file.
    const store = new SqliteBrokerCredentialStore({ path: registry, now: () => Date.parse('2026-11-24T08:00:00Z') });
    let gw: { username: string; password: string };
    try {
      gw = await store.issueGateway('heggedal', 'gw-heggedal');
      await new BrokerAuthSync({ store, dir: authDir, reload: { pidFile } }).sync();
    } finally {
      await store.close();
    }
    // Mosquitto applies SIGHUP in its main loop a moment after the signal: retry the login a bounded
    // number of times (what awaitBrokerAccepts does for plain MQTT).
    let gateway: MqttClient | undefined;
    for (let attempt = 0; attempt < 50 && gateway === undefined; attempt++) {
      try {
        gateway = await connectTls({ username: gw.username, password: gw.password, clientId: 'gw-heggedal-test' });
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (gateway === undefined) throw new Error('the issued gateway credential was never accepted');

    const admin = await connectTls({ username: need(env, 'INGEST_BROKER_ADMIN_USERNAME'), password: need(env, 'INGEST_BROKER_ADMIN_PASSWORD') });
    const seen: string[] = [];
    let markerSeen!: () => void;
    const marker = new Promise<void>((resolve) => (markerSeen = resolve));
    const own = topics.readings('heggedal', 'gw-heggedal');
    const foreign = topics.readings('tofte', 'gw-tofte');
    admin.on('message', (topic) => {
      seen.push(topic);
      if (topic === own) markerSeen();
    });
    await admin.subscribeAsync('itorg/v1/+/+/readings', { qos: 1 });
    // MQTT 3.1.1 cannot refuse a PUBLISH: the server acks and drops it or closes the connection
    // [MQTT-3.3.5-2]. Mosquitto 2.0.11 closes it (eclipse-mosquitto/mosquitto#2579, as in
    // test/ingest/broker-acl), after handling the message; so once the close is seen, a marker from a
    // new connection reaches the admin after anything the broker let through.
    const closed = new Promise<void>((resolve) => gateway.once('close', () => resolve()));
    gateway.publish(foreign, '{"spoof":true}', { qos: 1 }, () => undefined);
    await closed;
    const again = await connectTls({ username: gw.username, password: gw.password, clientId: 'gw-heggedal-test' });
    await again.publishAsync(own, '{"marker":true}', { qos: 1 });
    await marker;
    expect(seen).toEqual([own]);
  });
});

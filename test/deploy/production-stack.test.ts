/**
 * The compose file's ingest and example gateway, run as the compose file configures them, against the
 * production broker config and a real InfluxDB (1.6.7: the machine has no 2.x and no Docker).
 *
 * Each service's environment and config come from deploy/docker-compose.yml interpolated with the .env
 * of init-secrets.sh; only what Docker would provide is rewritten: container paths become the host
 * folders standing for their bind mounts and named volumes, the service names `mosquitto` and
 * `influxdb` become loopback ports, and listen addresses and ports become free loopback ones. So the
 * production mode checks, the TLS trust through INGEST_MQTT_CA_FILE, the broker users of broker-init,
 * the reload through the broker's pid_file and the gateway's bootstrap provisioning run as deployed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { PROVISIONING_KEY_ENV } from '../../gateway/config.ts';
import { gatewayUsername } from '../../ingest/provisioning/broker-credentials.ts';
import { runCli } from '../support/cli.ts';
import { freePort, startInfluxDB, startMosquitto, type InfluxHandle, type MosquittoHandle } from '../support/services.ts';
import { brokerInit, DEPLOY, initSecrets, loadCompose, mounts, need, productionBrokerExtraConfig, REPO, service, type Compose, type Service } from './deploy-support.ts';

interface Child {
  proc: ChildProcess;
  log: () => string;
}

function startNode(entry: string, env: Record<string, string>): Child {
  let out = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: REPO, env: { PATH: process.env.PATH ?? '', ...env } });
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  process.once('exit', () => proc.kill('SIGKILL'));
  return { proc, log: () => out.slice(-4000) };
}

async function stopChild(c: Child | undefined): Promise<void> {
  if (c === undefined || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.proc.once('exit', () => r()));
  c.proc.kill('SIGTERM');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** Polls `url` until `ok(status, body)`, at most `attempts` × 250 ms; fails with the child's log. */
async function waitFor(url: string, child: Child, ok: (status: number, body: unknown) => boolean, attempts = 240): Promise<unknown> {
  let last = 'no answer';
  for (let i = 0; i < attempts; i++) {
    if (child.proc.exitCode !== null) throw new Error(`exited ${child.proc.exitCode} before ${url} was ready:\n${child.log()}`);
    try {
      const res = await fetch(url);
      const body: unknown = await res.json();
      if (ok(res.status, body)) return body;
      last = `${res.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready (${last}):\n${child.log()}`);
}

describe('the compose file’s ingest and example gateway, outside Docker', () => {
  let dir: string;
  let env: Record<string, string>;
  let compose: Compose;
  let broker: MosquittoHandle;
  let influx: InfluxHandle;
  let tlsPort: number;
  let ingest: Child | undefined;
  let gateway: Child | undefined;
  let ingestEnv: Record<string, string>;
  const clients: MqttClient[] = [];

  /** Where a container path of `svc` lives here: its bind mount's source, or a folder per named volume. */
  function hostPath(svc: Service, containerPath: string): string {
    const m = mounts(svc)
      .filter((x) => containerPath === x.target || containerPath.startsWith(`${x.target}/`))
      .sort((a, b) => b.target.length - a.target.length)[0];
    if (m === undefined) throw new Error(`${containerPath} is not in a mount`);
    const base = m.source.startsWith('./secrets/')
      ? join(dir, m.source.slice(2))
      : m.source.startsWith('.') || m.source.startsWith('/')
        ? resolve(DEPLOY, m.source)
        : join(dir, 'volumes', m.source);
    return base + containerPath.slice(m.target.length);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'itorg-deploy-stack-'));
    // `localhost` in the certificate: the clients here reach the broker on loopback, not as `mosquitto`.
    env = await initSecrets(dir, ['localhost']);
    compose = loadCompose(env);
    for (const name of Object.keys(compose.volumes)) mkdirSync(join(dir, 'volumes', name), { recursive: true });
    const mosquittoSvc = service(compose, 'mosquitto');
    const ingestSvc = service(compose, 'ingest');

    // broker-init, then the broker with the production config.
    const e = ingestSvc.environment;
    await brokerInit(env, hostPath(ingestSvc, need(e, 'INGEST_REGISTRY_PATH')), hostPath(ingestSvc, need(e, 'INGEST_BROKER_AUTH_DIR')));
    tlsPort = await freePort();
    const extra = productionBrokerExtraConfig(tlsPort, {
      certs: join(dir, 'secrets/tls'),
      auth: hostPath(mosquittoSvc, '/mosquitto/auth'),
      run: hostPath(mosquittoSvc, '/mosquitto/run'),
    });
    [broker, influx] = await Promise.all([startMosquitto({ extraConfig: extra }), startInfluxDB()]);

    const httpPort = await freePort();
    const apiPort = await freePort();
    ingestEnv = {};
    for (const [k, v] of Object.entries(e)) {
      if (v.startsWith('/') && k.startsWith('INGEST_')) ingestEnv[k] = hostPath(ingestSvc, v);
      else ingestEnv[k] = v;
    }
    Object.assign(ingestEnv, {
      INGEST_MQTT_URL: need(e, 'INGEST_MQTT_URL').replace('//mosquitto:8883', `//localhost:${tlsPort}`),
      INGEST_INFLUX_URL: need(e, 'INGEST_INFLUX_URL').replace('http://influxdb:8086', influx.url),
      INGEST_HTTP_HOST: '127.0.0.1',
      INGEST_HTTP_PORT: String(httpPort),
      INGEST_API_HOST: '127.0.0.1',
      INGEST_API_PORT: String(apiPort),
    });
    ingest = startNode('ingest/main.ts', ingestEnv);
    await waitFor(`http://127.0.0.1:${httpPort}/healthz`, ingest, (status) => status === 200);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await stopChild(gateway);
    await stopChild(ingest);
    await broker?.dispose();
    await influx?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the ingest in production mode, connected to the broker over TLS and to InfluxDB', async () => {
    expect(ingestEnv['INGEST_MODE']).toBe('production');
    expect(ingestEnv['INGEST_MQTT_URL']).toBe(`mqtts://localhost:${tlsPort}`);
    const health = z
      .looseObject({ healthy: z.boolean(), mqttConnected: z.boolean(), influxReachable: z.boolean() })
      .parse(await (await fetch(`http://127.0.0.1:${need(ingestEnv, 'INGEST_HTTP_PORT')}/healthz`)).json());
    expect(health).toMatchObject({ healthy: true, mqttConnected: true, influxReachable: true });
  });

  it('announces itself on the broker under its client id, seen by the admin user over TLS', async () => {
    const admin = await mqtt.connectAsync(
      `mqtts://localhost:${tlsPort}`,
      { ca: readFileSync(join(dir, 'secrets/tls/ca.pem')), username: need(env, 'INGEST_BROKER_ADMIN_USERNAME'), password: need(env, 'INGEST_BROKER_ADMIN_PASSWORD'), reconnectPeriod: 0 },
      false,
    );
    clients.push(admin);
    const topic = topics.ingestState(need(ingestEnv, 'INGEST_CLIENT_ID'));
    const state = new Promise<string>((r) => admin.on('message', (t, payload) => t === topic && r(payload.toString())));
    await admin.subscribeAsync(topic, { qos: 1 });
    expect(JSON.parse(await state)).toMatchObject({ online: true });
  });

  it('lets the example gateway provision itself with its torg’s key and bring its uplink and Node-RED up', async () => {
    const gatewaySvc = service(compose, 'gateway');
    const registry = need(ingestEnv, 'INGEST_REGISTRY_PATH');
    // init-secrets.sh tokens, without docker exec: the same two CLI commands.
    const bootstrap = await runCli(['tokens', 'bootstrap', '--db', registry, '--name', 'installer']);
    expect(bootstrap.code, bootstrap.stderr).toBe(0);
    const saved = process.env['ITORG_API_TOKEN'];
    process.env['ITORG_API_TOKEN'] = bootstrap.stdout.trim();
    let keyRun: Awaited<ReturnType<typeof runCli>>;
    try {
      keyRun = await runCli(['keys', 'create', '--torg', need(env, 'GATEWAY_TORG'), '--api', `http://127.0.0.1:${need(ingestEnv, 'INGEST_API_PORT')}`]);
    } finally {
      if (saved === undefined) delete process.env['ITORG_API_TOKEN'];
      else process.env['ITORG_API_TOKEN'] = saved;
    }
    expect(keyRun.code, keyRun.stderr).toBe(0);

    const config = z
      .looseObject({
        central: z.looseObject({ url: z.string(), tls: z.object({ caFile: z.string() }) }),
        outbox: z.looseObject({ path: z.string() }),
        http: z.looseObject({ host: z.string(), port: z.number() }),
        sources: z.array(z.looseObject({ type: z.literal('nodered'), userDir: z.string(), httpPort: z.number() })),
      })
      .parse(JSON.parse(compose.configs['gateway-config']?.content ?? ''));
    const httpPort = await freePort();
    const nodeRedPort = await freePort();
    const local = {
      ...config,
      central: { ...config.central, url: config.central.url.replace('//mosquitto:8883', `//localhost:${tlsPort}`), tls: { caFile: hostPath(gatewaySvc, config.central.tls.caFile) } },
      outbox: { ...config.outbox, path: hostPath(gatewaySvc, config.outbox.path) },
      http: { host: '127.0.0.1', port: httpPort },
      sources: config.sources.map((s) => ({ ...s, userDir: hostPath(gatewaySvc, s.userDir), httpPort: nodeRedPort })),
    };
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify(local));
    gateway = startNode('gateway/main.ts', { GATEWAY_CONFIG: file, [PROVISIONING_KEY_ENV]: keyRun.stdout.trim() });
    await waitFor(`http://127.0.0.1:${httpPort}/healthz`, gateway, (status, body) => status === 200 && (body as { uplink?: unknown }).uplink === 'online');

    // Provisioned: its own credentials are kept in its volume, and the ingest wrote its broker user
    // into the passwd file the broker reads (and signalled the broker: the uplink logged in with it).
    expect(existsSync(join(hostPath(gatewaySvc, '/var/lib/itorg/gateway'), 'credentials.json'))).toBe(true);
    const user = gatewayUsername(need(env, 'GATEWAY_TORG'), need(env, 'GATEWAY_ID'));
    const passwd = readFileSync(join(hostPath(service(compose, 'mosquitto'), '/mosquitto/auth'), 'passwd'), 'utf8');
    expect(passwd.split('\n').some((l) => l.startsWith(`${user}:`))).toBe(true);
    // Node-RED starts after the uplink; its admin API then answers with the (empty) flows of the new
    // user directory (Node-RED Admin API, GET /flows).
    const flows = await waitFor(`http://127.0.0.1:${nodeRedPort}/flows`, gateway, (status) => status === 200);
    expect(flows).toEqual([]);
  });
});

/**
 * deploy/docker-compose.yml checked against the code it deploys, without Docker (none on this machine):
 * it is interpolated as Compose does with the .env that deploy/init-secrets.sh writes, and then the
 * ingest's environment must pass the ingest's own config schema in production mode, the gateway's
 * config its schema, every mounted file must exist, the broker, the ingest and InfluxDB must agree on
 * paths, names and retention policies, and no secret may be written in the file itself.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { INFLUX_DB_DEFAULT, RP_AGGREGATES, RP_RAW, RP_RAW_DEFAULT_DURATION } from '../../devices/contract/influx-layout.ts';
import { parseGatewayConfig, PROVISIONING_KEY_ENV } from '../../gateway/config.ts';
import { NODE_RED_CREDENTIAL_SECRET_ENV } from '../../gateway/node-red/node-red-settings.ts';
import { ingestEnvSchema, insecureSettings, loadIngestConfig } from '../../ingest/config.ts';
import { composeSchema, DEPLOY, initSecrets, interpolate, loadCompose, MissingVariable, mountAt, mounts, RAW_TREE, REFERENCES, references, REPO, service, type Compose } from './deploy-support.ts';


function confValue(text: string, key: string): string {
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  if (line === undefined) throw new Error(`${key} not in mosquitto.conf`);
  return line.slice(key.length + 1).trim();
}

let secretsDir: string;
let dotenv: Record<string, string>;
let compose: Compose;

beforeAll(async () => {
  secretsDir = mkdtempSync(join(tmpdir(), 'itorg-deploy-compose-'));
  dotenv = await initSecrets(secretsDir);
  compose = loadCompose(dotenv);
});

afterAll(() => {
  if (secretsDir !== undefined) rmSync(secretsDir, { recursive: true, force: true });
});

describe('deploy/docker-compose.yml', () => {
  it('needs no variable that init-secrets.sh files does not write, except the gateway key of the tokens step', () => {
    const required = REFERENCES.filter((r) => r.op.endsWith('?') || r.op === '');
    expect(required.length).toBeGreaterThan(10);
    for (const r of required) expect(Object.keys(dotenv), r.name).toContain(r.name);
    // Written by `init-secrets.sh tokens`, after the ingest is up; optional here so `up` works before.
    expect(REFERENCES.filter((r) => r.name === 'GATEWAY_PROVISIONING_KEY').map((r) => r.op)).toEqual([':-']);
  });

  it('writes no secret literally: every password, token and key is a ${VAR} reference', () => {
    const raw = composeSchema.parse(RAW_TREE);
    const secretName = /PASSWORD|TOKEN|SECRET|_KEY$/;
    let checked = 0;
    for (const [name, s] of Object.entries(raw.services)) {
      for (const [k, v] of Object.entries(s.environment)) {
        if (!secretName.test(k)) continue;
        checked++;
        expect(v, `${name}.${k}`).toMatch(/^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$/);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(14);
    const gatewayConfig = raw.configs['gateway-config']?.content ?? '';
    expect(gatewayConfig).toMatch(/"bootstrapPassword": "\$\{INGEST_BROKER_BOOTSTRAP_PASSWORD:\?[^}]*\}"/);
  });

  it('gives the ingest an environment its config schema accepts in production mode, with nothing insecure', () => {
    const ingest = service(compose, 'ingest');
    const schemaKeys = Object.keys(ingestEnvSchema.shape);
    for (const s of [ingest, service(compose, 'broker-init')]) {
      for (const k of Object.keys(s.environment).filter((x) => x.startsWith('INGEST_'))) expect(schemaKeys, k).toContain(k);
    }
    const config = loadIngestConfig(ingest.environment);
    expect(config.INGEST_MODE).toBe('production');
    expect(config.INGEST_ROLE).toBe('all');
    expect(insecureSettings(config)).toEqual([]);
    expect(config.INGEST_INFLUX_DB).toBe(INFLUX_DB_DEFAULT);
    expect(config.INGEST_INFLUX_RP).toBe(RP_RAW);
    expect(config.INGEST_MQTT_URL).toMatch(/^mqtts:\/\/mosquitto:8883$/);
    // The broker's private CA, for the broker connections only; not added to Node's trust store.
    expect(mountAt(ingest, ingest.environment['INGEST_MQTT_CA_FILE'] ?? '').source).toBe('./secrets/tls/ca.pem');
    expect(ingest.environment['NODE_EXTRA_CA_CERTS']).toBeUndefined();
  });

  it('runs broker init on the registry and auth volumes the ingest uses', () => {
    const init = service(compose, 'broker-init');
    const ingest = service(compose, 'ingest');
    const cmd = init.command ?? [];
    const arg = (flag: string) => cmd[cmd.indexOf(flag) + 1];
    expect(cmd.slice(0, 6)).toEqual(['node', 'dist/cli/main.js', '--lang', 'en', 'broker', 'init']);
    expect(arg('--db')).toBe(ingest.environment['INGEST_REGISTRY_PATH']);
    expect(arg('--dir')).toBe(ingest.environment['INGEST_BROKER_AUTH_DIR']);
    expect(mountAt(init, posix.dirname(arg('--db')!)).source).toBe(mountAt(ingest, posix.dirname(ingest.environment['INGEST_REGISTRY_PATH']!)).source);
    expect(mountAt(init, arg('--dir')!).source).toBe(mountAt(ingest, ingest.environment['INGEST_BROKER_AUTH_DIR']!).source);
  });

  it('lets the broker read the files the ingest writes and the ingest signal the broker', () => {
    const mosquitto = service(compose, 'mosquitto');
    const ingest = service(compose, 'ingest');
    const confMount = mountAt(mosquitto, '/mosquitto/config/mosquitto.conf');
    const conf = readFileSync(resolve(DEPLOY, confMount.source), 'utf8');
    expect(resolve(DEPLOY, confMount.source)).toBe(join(DEPLOY, 'mosquitto/mosquitto.conf'));
    // passwd and acl: the volume the ingest writes is the one the broker reads them from.
    const authVolume = mountAt(ingest, ingest.environment['INGEST_BROKER_AUTH_DIR']!).source;
    expect(mountAt(mosquitto, posix.dirname(confValue(conf, 'password_file'))).source).toBe(authVolume);
    expect(mountAt(mosquitto, posix.dirname(confValue(conf, 'acl_file'))).source).toBe(authVolume);
    expect(mountAt(mosquitto, posix.dirname(confValue(conf, 'acl_file'))).readOnly).toBe(true);
    // The PID file the broker writes is the one the ingest reads, in the broker's PID namespace.
    const pidVolume = mountAt(mosquitto, posix.dirname(confValue(conf, 'pid_file'))).source;
    expect(mountAt(ingest, posix.dirname(ingest.environment['INGEST_BROKER_PID_FILE']!)).source).toBe(pidVolume);
    expect(posix.basename(ingest.environment['INGEST_BROKER_PID_FILE']!)).toBe(posix.basename(confValue(conf, 'pid_file')));
    expect(ingest.pid).toBe(`container:${mosquitto.container_name}`);
    // TLS files: the ones init-secrets.sh writes.
    for (const key of ['cafile', 'certfile', 'keyfile']) {
      const m = mountAt(mosquitto, confValue(conf, key));
      expect(existsSync(join(secretsDir, m.source.replace(/^\.\//, ''))), key).toBe(true);
    }
  });

  it('mounts only files that exist (repository files, or those init-secrets.sh writes)', () => {
    let binds = 0;
    for (const [name, s] of Object.entries(compose.services)) {
      for (const m of mounts(s)) {
        if (!m.source.startsWith('.') && !m.source.startsWith('/')) {
          expect(Object.keys(compose.volumes), `${name}: volume ${m.source}`).toContain(m.source);
          continue;
        }
        binds++;
        const path = m.source.startsWith('./secrets/') ? join(secretsDir, m.source.slice(2)) : resolve(DEPLOY, m.source);
        expect(existsSync(path), `${name}: ${m.source}`).toBe(true);
      }
    }
    expect(binds).toBeGreaterThan(10);
  });

  it('mounts the generated Grafana provisioning where its provider looks, with a 2.x datasource of the same uid', () => {
    const grafana = service(compose, 'grafana');
    const provisioning = join(REPO, 'dashboards/grafana/provisioning');
    const provider = mounts(grafana).find((m) => resolve(DEPLOY, m.source) === join(provisioning, 'dashboards.yaml'));
    const dashboards = mounts(grafana).find((m) => resolve(DEPLOY, m.source) === join(provisioning, 'dashboards'));
    expect(provider?.target).toMatch(/^\/etc\/grafana\/provisioning\/dashboards\/[^/]+\.yaml$/);
    const providerYaml = z
      .object({ providers: z.array(z.looseObject({ options: z.object({ path: z.string() }) })) })
      .parse(parseYaml(readFileSync(join(provisioning, 'dashboards.yaml'), 'utf8')));
    expect(dashboards?.target).toBe(providerYaml.providers[0]?.options.path);
    const dsMount = mountAt(grafana, '/etc/grafana/provisioning/datasources/influxdb.yaml');
    const dsSchema = z.object({ datasources: z.array(z.looseObject({ uid: z.string(), url: z.string(), user: z.string().optional(), jsonData: z.looseObject({ dbName: z.string() }) })) });
    const ours = dsSchema.parse(parseYaml(readFileSync(resolve(DEPLOY, dsMount.source), 'utf8'))).datasources;
    const generated = dsSchema.parse(parseYaml(readFileSync(join(provisioning, 'datasources/influxdb.yaml'), 'utf8'))).datasources;
    expect(ours.map((d) => d.uid)).toEqual(generated.map((d) => d.uid));
    expect(ours[0]?.jsonData.dbName).toBe(INFLUX_DB_DEFAULT);
    // Grafana expands these from its own environment, which the compose file provides.
    for (const v of references(readFileSync(resolve(DEPLOY, dsMount.source), 'utf8'))) expect(Object.keys(grafana.environment)).toContain(v.name);
  });

  it('gives the example gateway a config its schema accepts, with Node-RED, TLS and provisioning', () => {
    const gateway = service(compose, 'gateway');
    expect(gateway.configs.map((c) => c.source)).toEqual(['gateway-config']);
    const content = compose.configs['gateway-config']?.content ?? '';
    const config = parseGatewayConfig(JSON.parse(content));
    expect(config.devMode).toBe(false);
    expect(config.central.url).toBe('mqtts://mosquitto:8883');
    expect(config.central.username).toBeUndefined();
    expect(config.provisioning?.bootstrapPassword).toBe(dotenv['INGEST_BROKER_BOOTSTRAP_PASSWORD']);
    expect(config.sources).toEqual([{ type: 'nodered', name: 'nodered', enabled: true, userDir: '/var/lib/itorg/gateway/node-red', httpPort: 1880 }]);
    // Its files live in its volume, and the CA it pins is mounted.
    expect(mountAt(gateway, '/var/lib/itorg/gateway').source).toBe('gateway-data');
    expect(mountAt(gateway, config.central.tls?.caFile ?? '').source).toBe('./secrets/tls/ca.pem');
    expect(config.outbox.path.startsWith('/var/lib/itorg/gateway/')).toBe(true);
    // The only variables gateway/main.ts reads: the config path, the provisioning key and the Node-RED credential secret.
    for (const k of Object.keys(gateway.environment)) expect([PROVISIONING_KEY_ENV, 'GATEWAY_CONFIG', NODE_RED_CREDENTIAL_SECRET_ENV]).toContain(k);
    // init-secrets.sh writes it; the gateway refuses one under 16 characters.
    expect(gateway.environment[NODE_RED_CREDENTIAL_SECRET_ENV]).toBe(dotenv[NODE_RED_CREDENTIAL_SECRET_ENV]);
    expect(gateway.environment[NODE_RED_CREDENTIAL_SECRET_ENV]?.length).toBeGreaterThanOrEqual(16);
    expect(gateway.environment[PROVISIONING_KEY_ENV]).toBe('');
    expect(gateway.profiles).toEqual(['example-gateway']);
  });

  it('sets InfluxDB up for every retention policy of the layout, raw as default with its duration', () => {
    const influx = service(compose, 'influxdb');
    const script = mountAt(influx, '/docker-entrypoint-initdb.d/10-dbrp.sh');
    const text = readFileSync(resolve(DEPLOY, script.source), 'utf8');
    const dbrp = text.split('\n').filter((l) => /^\s*influx v1 dbrp create /.test(l));
    const rps = dbrp.map((l) => /--rp (\S+)/.exec(l)?.[1]);
    expect(rps.sort()).toEqual([RP_AGGREGATES, RP_RAW].sort());
    expect(dbrp.filter((l) => l.includes('--default')).map((l) => /--rp (\S+)/.exec(l)?.[1])).toEqual([RP_RAW]);
    for (const l of dbrp) expect(l).toContain('--db "$db"');
    expect(influx.environment['ITORG_INFLUX_DB']).toBe(INFLUX_DB_DEFAULT);
    expect(influx.environment['DOCKER_INFLUXDB_INIT_RETENTION']).toBe(RP_RAW_DEFAULT_DURATION);
    expect(influx.environment['DOCKER_INFLUXDB_INIT_BUCKET']).toBe(`${INFLUX_DB_DEFAULT}/${RP_RAW}`);
    // The v1 users the ingest and Grafana log in with are the ones the script creates.
    expect(influx.environment['INFLUXDB_INGEST_USERNAME']).toBe(service(compose, 'ingest').environment['INGEST_INFLUX_USERNAME']);
    expect(influx.environment['INFLUXDB_GRAFANA_PASSWORD']).toBe(service(compose, 'grafana').environment['INFLUXDB_GRAFANA_PASSWORD']);
  });

  it('publishes only the broker beyond this host, and bounds, restarts and health-checks the services', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of s.ports) {
        if (name === 'mosquitto') expect(p).toBe('8883:8883');
        else expect(p, `${name} ${p}`).toMatch(/^127\.0\.0\.1:/);
      }
      if (name === 'broker-init') {
        expect(s.restart).toBe('no');
        continue;
      }
      expect(s.restart, name).toBe('unless-stopped');
      expect(s.deploy?.resources.limits.memory, name).toMatch(/^\d+[mg]$/);
      // The images built here carry their HEALTHCHECK in deploy/Dockerfile.
      if (s.build === undefined) expect(s.healthcheck?.test.length, name).toBeGreaterThan(0);
      else expect(readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8')).toMatch(new RegExp(`FROM runtime AS ${s.build.target}\\n[\\s\\S]*?HEALTHCHECK`));
    }
    expect(service(compose, 'influxdb').ports).toEqual([]);
  });
});

describe('interpolate (the test’s own Compose interpolation)', () => {
  it('follows the spec’s forms', () => {
    const env = { A: 'a', E: '' };
    expect(interpolate('$$A ${A} $A ${E:-d} ${E-d} ${U:-d} ${A:?x}', env)).toBe('$A a a d  d a');
    expect(() => interpolate('${E:?needed}', env)).toThrow(MissingVariable);
    expect(() => interpolate('${U}', env)).toThrow(MissingVariable);
  });
});

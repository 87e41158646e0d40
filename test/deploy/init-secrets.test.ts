/**
 * deploy/init-secrets.sh files: run for real (bash + openssl), its output checked with openssl and
 * with the platform's own rules for broker passwords. The `tokens` step needs Docker and is not run here.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalSchema } from '../../ingest/broker-acl/mosquitto-acl.ts';
import { DEPLOY, readEnvFile, run } from './deploy-support.ts';

const SCRIPT = join(DEPLOY, 'init-secrets.sh');

const mode = (path: string) => statSync(path).mode & 0o777;

describe('deploy/init-secrets.sh files', () => {
  let dir: string;
  let tls: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'itorg-init-secrets-'));
    tls = join(dir, 'secrets/tls');
    const r = await run('bash', [SCRIPT, 'files', '--dir', dir, '--host', 'mqtt.asker.example', '--host', '192.0.2.10']);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('writes .env and the private keys readable by their owner only', () => {
    expect(mode(join(dir, '.env'))).toBe(0o600);
    expect(mode(join(tls, 'ca.key'))).toBe(0o600);
    expect(mode(join(tls, 'server.key'))).toBe(0o600);
    expect(mode(join(dir, 'secrets'))).toBe(0o700);
  });

  it.runIf(process.getuid?.() === 0)('gives the server key to uid 1883, the broker user of eclipse-mosquitto', () => {
    expect(statSync(join(tls, 'server.key')).uid).toBe(1883);
  });

  it('issues a server certificate that openssl verifies against the CA, for the compose name and each --host', async () => {
    const verify = await run('openssl', ['verify', '-CAfile', join(tls, 'ca.pem'), join(tls, 'server.pem')]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout.trim()).toBe(`${join(tls, 'server.pem')}: OK`);
    const san = await run('openssl', ['x509', '-in', join(tls, 'server.pem'), '-noout', '-ext', 'subjectAltName']);
    expect(san.stdout).toContain('DNS:mosquitto, DNS:mqtt.asker.example, IP Address:192.0.2.10');
    // A server certificate, not a CA that could sign others.
    const ext = await run('openssl', ['x509', '-in', join(tls, 'server.pem'), '-noout', '-ext', 'basicConstraints,extendedKeyUsage']);
    expect(ext.stdout).toContain('CA:FALSE');
    expect(ext.stdout).toContain('TLS Web Server Authentication');
    // The key in server.key is the certificate's.
    const certKey = await run('openssl', ['x509', '-in', join(tls, 'server.pem'), '-noout', '-pubkey']);
    const fileKey = await run('openssl', ['pkey', '-in', join(tls, 'server.key'), '-pubout']);
    expect(certKey.stdout).toBe(fileKey.stdout);
  });

  it('generates distinct passwords the broker accepts (≥ 12 characters, no ":")', () => {
    const env = readEnvFile(join(dir, '.env'));
    const secrets = Object.entries(env).filter(([k]) => /PASSWORD|TOKEN/.test(k));
    expect(secrets.map(([k]) => k).sort()).toEqual([
      'GRAFANA_ADMIN_PASSWORD',
      'INFLUXDB_ADMIN_PASSWORD',
      'INFLUXDB_ADMIN_TOKEN',
      'INFLUXDB_GRAFANA_PASSWORD',
      'INFLUXDB_INGEST_PASSWORD',
      'INGEST_BROKER_ADMIN_PASSWORD',
      'INGEST_BROKER_BOOTSTRAP_PASSWORD',
      'INGEST_MQTT_PASSWORD',
    ]);
    expect(new Set(secrets.map(([, v]) => v)).size).toBe(secrets.length);
    for (const [role, user, pass] of [
      ['ingest', 'INGEST_MQTT_USERNAME', 'INGEST_MQTT_PASSWORD'],
      ['admin', 'INGEST_BROKER_ADMIN_USERNAME', 'INGEST_BROKER_ADMIN_PASSWORD'],
      ['bootstrap', 'INGEST_BROKER_BOOTSTRAP_USERNAME', 'INGEST_BROKER_BOOTSTRAP_PASSWORD'],
    ] as const) {
      expect(principalSchema.safeParse({ role, username: env[user], password: env[pass] }).success, role).toBe(true);
    }
    // base64url of 24 bytes: 32 characters, nothing Compose or a shell would expand.
    for (const [k, v] of secrets) expect(v, k).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('keeps everything on a re-run with the same names, and re-issues only the server certificate for new ones', async () => {
    const before = { env: readFileSync(join(dir, '.env'), 'utf8'), ca: readFileSync(join(tls, 'ca.pem'), 'utf8'), server: readFileSync(join(tls, 'server.pem'), 'utf8') };
    const same = await run('bash', [SCRIPT, 'files', '--dir', dir, '--host', 'mqtt.asker.example', '--host', '192.0.2.10']);
    expect(same.code, same.stderr).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(before.env);
    expect(readFileSync(join(tls, 'server.pem'), 'utf8')).toBe(before.server);
    const moved = await run('bash', [SCRIPT, 'files', '--dir', dir, '--host', 'mqtt2.asker.example']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(before.env);
    expect(readFileSync(join(tls, 'ca.pem'), 'utf8')).toBe(before.ca);
    expect(readFileSync(join(tls, 'server.pem'), 'utf8')).not.toBe(before.server);
    const san = await run('openssl', ['x509', '-in', join(tls, 'server.pem'), '-noout', '-ext', 'subjectAltName']);
    expect(san.stdout).toContain('DNS:mosquitto, DNS:mqtt2.asker.example');
    expect((await run('openssl', ['verify', '-CAfile', join(tls, 'ca.pem'), join(tls, 'server.pem')])).code).toBe(0);
  });

  it('refuses an unknown command or option with exit code 2', async () => {
    expect((await run('bash', [SCRIPT, 'frobnicate'])).code).toBe(2);
    expect((await run('bash', [SCRIPT, 'files', '--dir', dir, '--bogus'])).code).toBe(2);
  });
});

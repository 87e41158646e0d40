/**
 * `broker init` against a real Mosquitto: the files it writes, appended to the project's broker
 * config as it prints them, let exactly the service users in; anonymous and wrong passwords are
 * refused. The command itself runs as a process (`node --import tsx cli/main.ts`), with the passwords
 * in the environment only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceUsersFromEnv } from '../../cli/broker-commands.ts';
import { startMosquitto, type MosquittoHandle } from '../support/services.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENV = {
  INGEST_MQTT_USERNAME: 'svc-ingest',
  INGEST_MQTT_PASSWORD: 'ingest-password-0001',
  INGEST_BROKER_ADMIN_USERNAME: 'svc-admin',
  INGEST_BROKER_ADMIN_PASSWORD: 'admin-password-0002',
  INGEST_BROKER_BOOTSTRAP_PASSWORD: 'bootstrap-password-03',
};

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INGEST_')));
    execFile(process.execPath, ['--import', 'tsx', 'cli/main.ts', '--lang', 'en', ...args], { cwd: REPO_ROOT, env: { ...clean, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

async function connects(url: string, username?: string, password?: string): Promise<true | number | string> {
  try {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...(username ? { username } : {}), ...(password ? { password } : {}) });
    await c.endAsync();
    return true;
  } catch (e) {
    return (e as { code?: number | string }).code ?? String(e);
  }
}

describe('cli broker init', () => {
  let dir: string;
  let broker: MosquittoHandle;
  let out: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'broker-init-'));
    out = await cli(['broker', 'init', '--db', join(dir, 'data/registry.sqlite'), '--dir', join(dir, 'auth')], ENV);
    if (out.code === 0) broker = await startMosquitto({ extraConfig: out.stdout });
  }, 60_000);
  afterAll(async () => {
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes passwd (0600, hashes only) and acl, and prints the lines that switch authentication on', () => {
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim().split('\n')).toEqual(['allow_anonymous false', `password_file ${join(dir, 'auth/passwd')}`, `acl_file ${join(dir, 'auth/acl')}`]);
    const passwd = readFileSync(join(dir, 'auth/passwd'), 'utf8');
    expect(statSync(join(dir, 'auth/passwd')).mode & 0o777).toBe(0o600);
    expect(passwd.split('\n').filter(Boolean).map((l) => l.split(':')[0]).sort()).toEqual(['itorg-bootstrap', 'svc-admin', 'svc-ingest']);
    for (const p of [ENV.INGEST_MQTT_PASSWORD, ENV.INGEST_BROKER_ADMIN_PASSWORD, ENV.INGEST_BROKER_BOOTSTRAP_PASSWORD]) expect(passwd).not.toContain(p);
    expect(readFileSync(join(dir, 'auth/acl'), 'utf8')).toContain('user svc-ingest');
  });

  it('the broker lets the service users in and refuses anonymous clients and wrong passwords (CONNACK 5)', async () => {
    expect(await connects(broker.url, ENV.INGEST_MQTT_USERNAME, ENV.INGEST_MQTT_PASSWORD)).toBe(true);
    expect(await connects(broker.url, ENV.INGEST_BROKER_ADMIN_USERNAME, ENV.INGEST_BROKER_ADMIN_PASSWORD)).toBe(true);
    expect(await connects(broker.url, 'itorg-bootstrap', ENV.INGEST_BROKER_BOOTSTRAP_PASSWORD)).toBe(true);
    expect(await connects(broker.url)).toBe(5);
    expect(await connects(broker.url, ENV.INGEST_MQTT_USERNAME, 'not-the-password-000')).toBe(5);
  });

  it('a second run with a changed password replaces it; after SIGHUP only the new one is accepted', async () => {
    const again = await cli(['broker', 'init', '--db', join(dir, 'data/registry.sqlite'), '--dir', join(dir, 'auth')], { ...ENV, INGEST_MQTT_PASSWORD: 'ingest-password-0099' });
    expect(again.code, again.stderr).toBe(0);
    const users = readFileSync(join(dir, 'auth/passwd'), 'utf8').split('\n').filter(Boolean).map((l) => l.split(':')[0]);
    expect(users.sort()).toEqual(['itorg-bootstrap', 'svc-admin', 'svc-ingest']);
    // Mosquitto re-reads password_file on SIGHUP (mosquitto(8), SIGNALS), applied a moment later.
    process.kill(Number(readFileSync(join(broker.dataDir, 'mosquitto.pid'), 'utf8').trim()), 'SIGHUP');
    let result: true | number | string = 0;
    for (let i = 0; i < 50 && result !== true; i++) {
      result = await connects(broker.url, ENV.INGEST_MQTT_USERNAME, 'ingest-password-0099');
      if (result !== true) await new Promise((r) => setTimeout(r, 100));
    }
    expect(result).toBe(true);
    expect(await connects(broker.url, ENV.INGEST_MQTT_USERNAME, ENV.INGEST_MQTT_PASSWORD)).toBe(5);
  });

  it('exits 2 naming the missing variables, writing nothing', async () => {
    const r = await cli(['broker', 'init', '--db', join(dir, 'x/registry.sqlite'), '--dir', join(dir, 'x-auth')], { INGEST_MQTT_USERNAME: 'svc-ingest' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('INGEST_BROKER_ADMIN_PASSWORD');
    expect(serviceUsersFromEnv({ ...ENV, INGEST_MQTT_PASSWORD: '' })).toEqual({ missing: ['INGEST_MQTT_PASSWORD'] });
    expect(() => statSync(join(dir, 'x-auth'))).toThrow();
  });
});

import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig, type GatewayConfigInput } from '../../../gateway/config.ts';
import type { BootstrapOptions, ProvisionGrant } from '../../../gateway/provisioning/bootstrap.ts';
import { resolveCentralAuth } from '../../../gateway/provisioning/central-auth.ts';
import { readCredentials, writeCredentials } from '../../../gateway/provisioning/credentials-file.ts';

const logger = pino({ level: 'silent' });
const base: GatewayConfigInput = { gateway: 'gw-1', torg: 'tofte', central: { url: 'mqtt://127.0.0.1:1' }, outbox: { path: '/tmp/unused/outbox.db' } };
const boot = { bootstrapUsername: 'bootstrap', bootstrapPassword: 'bootstrap-secret-1' };
const KEY = 'itpk_tofte_abcdefghijklmnop';

describe('resolveCentralAuth', () => {
  let dir: string;
  const calls: BootstrapOptions[] = [];
  const bootstrap = (o: BootstrapOptions): Promise<ProvisionGrant> => {
    calls.push(o);
    return Promise.resolve({ v: 1, ok: true, torg: o.torg, gateway: o.gateway, mqtt: { username: 'gw-1', password: 'issued-password-1' }, config: {}, issuedAt: 42 });
  };
  const resolve = (c: GatewayConfigInput, env: Record<string, string> = {}) => resolveCentralAuth(parseGatewayConfig(c), { dataDir: dir, env, logger, bootstrap });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-auth-'));
    calls.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to start outside dev mode with no credentials and no key, naming both', async () => {
    const err = await resolve(base).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID', retriable: false });
    expect((err as Error).message).toContain('no MQTT credentials');
    expect((err as Error).message).toContain('GATEWAY_PROVISIONING_KEY');
  });

  it('runs anonymously in dev mode only', async () => {
    await expect(resolve({ ...base, devMode: true })).resolves.toEqual({ origin: 'anonymous-dev' });
  });

  it('uses configured credentials first', async () => {
    await expect(resolve({ ...base, central: { url: 'mqtt://127.0.0.1:1', username: 'u', password: 'p' }, provisioning: { ...boot, key: KEY } })).resolves.toEqual({
      username: 'u',
      password: 'p',
      origin: 'config',
    });
    expect(calls).toHaveLength(0);
  });

  it('provisions with a key from the environment and stores the credentials; the next start reads them', async () => {
    await expect(resolve({ ...base, provisioning: boot }, { GATEWAY_PROVISIONING_KEY: KEY })).resolves.toEqual({ username: 'gw-1', password: 'issued-password-1', origin: 'provisioned' });
    expect(calls.map((c) => [c.key, c.username, c.torg, c.gateway])).toEqual([[KEY, 'bootstrap', 'tofte', 'gw-1']]);
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['credentials.json']);
    await expect(resolve({ ...base, provisioning: boot }, { GATEWAY_PROVISIONING_KEY: KEY })).resolves.toMatchObject({ origin: 'stored' });
    expect(calls).toHaveLength(1);
  });

  it('refuses a key without bootstrap credentials, a malformed env key, and stored credentials of another gateway', async () => {
    await expect(resolve(base, { GATEWAY_PROVISIONING_KEY: KEY })).rejects.toMatchObject({ code: 'E_CONFIG_INVALID' });
    await expect(resolve({ ...base, provisioning: boot }, { GATEWAY_PROVISIONING_KEY: 'short key!' })).rejects.toMatchObject({ code: 'E_CONFIG_INVALID' });
    writeCredentials(dir, { v: 1, torg: 'tofte', gateway: 'gw-2', username: 'gw-2', password: 'issued-password-2', issuedAt: 1, config: {} });
    await expect(resolve({ ...base, devMode: true })).rejects.toThrow(/belongs to tofte\/gw-2/);
  });

  it('treats a corrupt credentials file as an error, not as "not provisioned"', async () => {
    writeFileSync(join(dir, 'credentials.json'), '{"v":1,');
    expect(() => readCredentials(dir)).toThrow(/E_CONFIG_INVALID/);
    await expect(resolve({ ...base, provisioning: { ...boot, key: KEY } })).rejects.toMatchObject({ code: 'E_CONFIG_INVALID' });
    expect(calls).toHaveLength(0);
  });
});

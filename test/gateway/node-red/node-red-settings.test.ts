/**
 * The gateway config's Node-RED settings: listen host, adminAuth and credentialSecret, parsed through
 * the gateway's own schema (gateway/config.ts) and translated into Node-RED's settings.
 */
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../../devices/contract/errors.ts';
import { parseGatewayConfig, type GatewayConfigInput } from '../../../gateway/config.ts';
import {
  embeddedNodeRedSecurity,
  isLoopbackHost,
  NODE_RED_CREDENTIAL_SECRET_ENV,
  resolveCredentialSecret,
  toNodeRedAdminAuth,
} from '../../../gateway/node-red/node-red-settings.ts';

/** A bcrypt hash in Node-RED's documented form (made once with bcryptjs, cost 10). */
const HASH = '$2b$10$YqnmnD4nRA0CN2mNGEmV4Oozbm0j4bnxCJhoSzGK47zrKqKQZexda';

function configWith(nodered: Record<string, unknown>): GatewayConfigInput {
  return {
    gateway: 'gw-sentrum-1',
    torg: 'asker-sentrum',
    central: { url: 'mqtt://127.0.0.1:1883' },
    outbox: { path: '/tmp/outbox.db' },
    sources: [{ type: 'nodered', enabled: true, userDir: '/tmp/nr', ...nodered }],
  };
}

function configError(input: GatewayConfigInput): PlatformError {
  try {
    parseGatewayConfig(input);
  } catch (err) {
    if (err instanceof PlatformError) return err;
    throw err;
  }
  throw new Error('config was accepted');
}

function noderedSource(input: GatewayConfigInput) {
  const source = parseGatewayConfig(input).sources[0];
  if (source?.type !== 'nodered') throw new Error('expected a nodered source');
  return source;
}

describe('nodered source config', () => {
  it('listens on loopback by default, without adminAuth or credentialSecret', () => {
    const s = noderedSource(configWith({}));
    // Unset here; startEmbeddedNodeRed() then listens on 127.0.0.1 (its default, tested in embed-http-in).
    expect(s.host).toBeUndefined();
    expect(s.adminAuth).toBeUndefined();
    expect(s.credentialSecret).toBeUndefined();
  });

  it('refuses a non-loopback host without adminAuth, naming the key', () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.10', 'gateway.local']) {
      const err = configError(configWith({ host }));
      expect(err.code).toBe('E_CONFIG_INVALID');
      expect(err.retriable).toBe(false);
      expect(err.message).toContain('sources.0.adminAuth');
      expect(err.message).toContain(host);
    }
  });

  it('accepts a non-loopback host with adminAuth; permissions default to full access', () => {
    const s = noderedSource(configWith({ host: '0.0.0.0', adminAuth: { users: [{ username: 'drift', passwordHash: HASH }] } }));
    expect(s.host).toBe('0.0.0.0');
    expect(s.adminAuth).toEqual({ users: [{ username: 'drift', passwordHash: HASH, permissions: '*' }] });
  });

  it('accepts every loopback spelling without adminAuth', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', 'localhost', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
      expect(noderedSource(configWith({ host })).host).toBe(host);
    }
    for (const host of ['0.0.0.0', '::', '128.0.0.1', '::2', '::ffff:10.0.0.1', 'localhost.example']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('refuses a plaintext password where the bcrypt hash belongs', () => {
    const err = configError(configWith({ host: '0.0.0.0', adminAuth: { users: [{ username: 'drift', passwordHash: 'hemmelig-passord' }] } }));
    expect(err.message).toContain('sources.0.adminAuth.users.0.passwordHash');
    expect(err.message).toContain('bcrypt');
  });

  it('takes an httpNodeAuth login with a bcrypt hash, and refuses a plaintext password or a colon in the user', () => {
    const s = noderedSource(configWith({ httpNodeAuth: { username: 'sensorsky', passwordHash: HASH } }));
    expect(embeddedNodeRedSecurity(s, {})).toEqual({ httpNodeAuth: { user: 'sensorsky', pass: HASH } });
    expect(configError(configWith({ httpNodeAuth: { username: 'sensorsky', passwordHash: 'hemmelig' } })).message).toContain('sources.0.httpNodeAuth.passwordHash');
    expect(configError(configWith({ httpNodeAuth: { username: 'a:b', passwordHash: HASH } })).message).toContain('sources.0.httpNodeAuth.username');
  });

  it('refuses a short credentialSecret and unknown keys', () => {
    expect(configError(configWith({ credentialSecret: 'kort' })).message).toContain('sources.0.credentialSecret');
    expect(configError(configWith({ adminPassword: 'x' })).message).toContain('adminPassword');
  });
});

describe('Node-RED settings from the config', () => {
  it('maps adminAuth users to Node-RED credentials auth with the hash as password', () => {
    expect(
      toNodeRedAdminAuth({
        users: [
          { username: 'drift', passwordHash: HASH, permissions: '*' },
          { username: 'vakt', passwordHash: HASH, permissions: 'read' },
        ],
        sessionExpirySeconds: 3600,
      }),
    ).toEqual({
      type: 'credentials',
      users: [
        { username: 'drift', password: HASH, permissions: '*' },
        { username: 'vakt', password: HASH, permissions: 'read' },
      ],
      sessionExpiryTime: 3600,
    });
  });

  it('takes the credential secret from the config, else from the environment', () => {
    const fromEnv = 'a'.repeat(32);
    expect(resolveCredentialSecret(undefined, {})).toBeUndefined();
    expect(resolveCredentialSecret(undefined, { [NODE_RED_CREDENTIAL_SECRET_ENV]: '' })).toBeUndefined();
    expect(resolveCredentialSecret('config-secret-123456', {})).toBe('config-secret-123456');
    expect(resolveCredentialSecret(undefined, { [NODE_RED_CREDENTIAL_SECRET_ENV]: fromEnv })).toBe(fromEnv);
    expect(resolveCredentialSecret(fromEnv, { [NODE_RED_CREDENTIAL_SECRET_ENV]: fromEnv })).toBe(fromEnv);
  });

  it('refuses a short environment secret, and two different secrets', () => {
    expect(() => resolveCredentialSecret(undefined, { [NODE_RED_CREDENTIAL_SECRET_ENV]: 'kort' })).toThrow(NODE_RED_CREDENTIAL_SECRET_ENV);
    expect(() => resolveCredentialSecret('config-secret-123456', { [NODE_RED_CREDENTIAL_SECRET_ENV]: 'b'.repeat(32) })).toThrow(/both/);
  });

  it('builds startEmbeddedNodeRed options from a parsed source and the environment', () => {
    const s = noderedSource(configWith({ host: '0.0.0.0', adminAuth: { users: [{ username: 'drift', passwordHash: HASH }] } }));
    expect(embeddedNodeRedSecurity(s, { [NODE_RED_CREDENTIAL_SECRET_ENV]: 'c'.repeat(20) })).toEqual({
      host: '0.0.0.0',
      adminAuth: { type: 'credentials', users: [{ username: 'drift', password: HASH, permissions: '*' }] },
      credentialSecret: 'c'.repeat(20),
    });
    expect(embeddedNodeRedSecurity(noderedSource(configWith({})), {})).toEqual({});
  });
});

/**
 * Embedded Node-RED reachable beyond loopback (as in a container): it starts only with adminAuth,
 * then answers on a non-loopback address and lets in only a user who logs in with the password
 * behind the configured bcrypt hash. Flow credentials are encrypted with the configured secret,
 * and no generated key is written next to them.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatformError } from '../../../devices/contract/errors.ts';
import { systemClock } from '../../../gateway/clock.ts';
import { buildNodeRedBundle } from '../../../gateway/node-red/build.mjs';
import { startEmbeddedNodeRed, type EmbeddedNodeRed, type EmbeddedNodeRedOptions } from '../../../gateway/node-red/embed.ts';
import { toNodeRedAdminAuth } from '../../../gateway/node-red/node-red-settings.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { freePort } from '../../support/services.ts';
import { otherAddress } from './other-address.ts';

const USER = 'drift';
const PASSWORD = 'riktig-hest-batteri-stift';
const SECRET = 'embed-admin-auth-test-credential-secret';
const BROKER_PASSWORD = 'mqtt-passord-som-skal-krypteres';

// bcryptjs as Node-RED itself ships it (node-red's dependency), so the hash is made independently of our code.
const bcrypt = createRequire(createRequire(import.meta.url).resolve('node-red'))('bcryptjs') as { hashSync(pw: string, rounds: number): string };


let dir: string;
let outbox: SqliteOutbox;
let red: EmbeddedNodeRed;
let base: Omit<EmbeddedNodeRedOptions, 'httpPort'>;

beforeAll(async () => {
  await buildNodeRedBundle();
  dir = mkdtempSync(join(tmpdir(), 'itorg-nodered-auth-'));
  writeFileSync(join(dir, 'flows.json'), '[]');
  const silent = pino({ level: 'silent' });
  outbox = new SqliteOutbox({
    path: join(dir, 'outbox.db'),
    bounds: { maxReadings: 100, maxBytes: 100_000, maxAgeMs: 86_400_000 },
    clock: systemClock,
    logger: silent,
  });
  base = { userDir: dir, outbox, uplinkState: () => 'offline', logger: silent, host: '0.0.0.0' };
});
afterAll(async () => {
  await red?.stop();
  await outbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function token(username: string, password: string): Promise<Response> {
  return fetch(`${red.url}auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username, password }),
  });
}

describe('embedded Node-RED beyond loopback', () => {
  it('refuses to listen on 0.0.0.0 without adminAuth, before opening the port', async () => {
    const port = await freePort();
    const err = await startEmbeddedNodeRed({ ...base, httpPort: port }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe('E_CONFIG_INVALID');
    expect((err as PlatformError).message).toContain('0.0.0.0');
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('starts with adminAuth and requires a login for the admin API', async () => {
    red = await startEmbeddedNodeRed({
      ...base,
      httpPort: 0,
      adminAuth: toNodeRedAdminAuth({ users: [{ username: USER, passwordHash: bcrypt.hashSync(PASSWORD, 8), permissions: '*' }] }),
      credentialSecret: SECRET,
    });
    expect((await fetch(`${red.url}flows`)).status).toBe(401);
    // A refused password grant is OAuth2 invalid_grant, which oauth2orize (Node-RED's token endpoint) answers with 403.
    expect((await token(USER, 'feil-passord')).status).toBe(403);
    const ok = await token(USER, PASSWORD);
    expect(ok.status).toBe(200);
    const { access_token: accessToken } = (await ok.json()) as { access_token: string };
    const flows = await fetch(`${red.url}flows`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(flows.status).toBe(200);
    expect(await flows.json()).toEqual([]);
  });

  it('answers on an address other than 127.0.0.1 (it is bound to every interface)', async () => {
    const res = await fetch(`http://${otherAddress}:${red.port}/flows`);
    // Reached (not refused), and still behind the login.
    expect(res.status).toBe(401);
  });

  it('encrypts flow credentials with the configured secret and stores no generated key', async () => {
    const login = (await (await token(USER, PASSWORD)).json()) as { access_token: string };
    const flows = [{ id: 'broker1', type: 'mqtt-broker', name: 'lns', broker: '127.0.0.1', port: '1', credentials: { user: 'lns-user', password: BROKER_PASSWORD } }];
    const post = await fetch(`${red.url}flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.access_token}`, 'content-type': 'application/json', 'node-red-api-version': 'v1' },
      body: JSON.stringify(flows),
    });
    expect(post.status).toBe(204);
    const stored = JSON.parse(readFileSync(join(dir, 'flows_cred.json'), 'utf8')) as { $: string };
    expect(JSON.stringify(stored)).not.toContain(BROKER_PASSWORD);
    // Node-RED's format: 32 hex chars of IV, then base64 AES-256-CTR under sha256(secret).
    const key = createHash('sha256').update(SECRET).digest();
    const decipher = createDecipheriv('aes-256-ctr', key, Buffer.from(stored.$.slice(0, 32), 'hex'));
    const plain = JSON.parse(decipher.update(stored.$.slice(32), 'base64', 'utf8') + decipher.final('utf8')) as unknown;
    expect(plain).toEqual({ broker1: { user: 'lns-user', password: BROKER_PASSWORD } });
    const runtimeConfig = join(dir, '.config.runtime.json');
    if (existsSync(runtimeConfig)) expect(readFileSync(runtimeConfig, 'utf8')).not.toContain('_credentialSecret');
  });
});

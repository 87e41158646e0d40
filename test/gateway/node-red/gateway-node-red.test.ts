/**
 * The gateway's composition root (gateway/main.ts) hands a `nodered` source's host, adminAuth and
 * credential secret (from GATEWAY_NODE_RED_CREDENTIAL_SECRET) to the embedded Node-RED, and a bad
 * secret stops start-up before anything is opened. Real central Mosquitto, real Node-RED.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatformError } from '../../../devices/contract/errors.ts';
import { parseGatewayConfig, type GatewayConfigInput } from '../../../gateway/config.ts';
import { startGateway, type GatewayHandle } from '../../../gateway/main.ts';
import { buildNodeRedBundle } from '../../../gateway/node-red/build.mjs';
import { NODE_RED_CREDENTIAL_SECRET_ENV } from '../../../gateway/node-red/node-red-settings.ts';
import { freePort, startMosquitto, type MosquittoHandle } from '../../support/services.ts';

const USER = 'drift';
const PASSWORD = 'torget-sitt-eget-passord';
const SECRET = 'f3a1c9e07b2d4e6f8a0b1c2d3e4f5a6b';
const LNS_PASSWORD = 'lns-passord-i-flyten';
const bcrypt = createRequire(createRequire(import.meta.url).resolve('node-red'))('bcryptjs') as { hashSync(pw: string, rounds: number): string };

let central: MosquittoHandle;
let dir: string;
let gateway: GatewayHandle | undefined;
let editorPort: number;

function config(name: string): GatewayConfigInput {
  return {
    gateway: 'gw-nodered',
    torg: 'tofte',
    devMode: true,
    central: { url: central.url },
    outbox: { path: join(dir, name, 'outbox.db') },
    http: { host: '127.0.0.1', port: 0 },
    sources: [
      {
        type: 'nodered',
        enabled: true,
        userDir: join(dir, name, 'node-red'),
        httpPort: editorPort,
        host: '0.0.0.0',
        adminAuth: { users: [{ username: USER, passwordHash: bcrypt.hashSync(PASSWORD, 8) }] },
      },
    ],
  };
}

beforeAll(async () => {
  await buildNodeRedBundle();
  central = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'itorg-gw-nodered-'));
  editorPort = await freePort();
});
afterAll(async () => {
  await gateway?.stop();
  await central?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('gateway with an embedded Node-RED beyond loopback', () => {
  it('refuses a too short GATEWAY_NODE_RED_CREDENTIAL_SECRET before opening its outbox', async () => {
    const err = await startGateway(parseGatewayConfig(config('short')), {
      logger: pino({ level: 'silent' }),
      defaultMetrics: false,
      env: { [NODE_RED_CREDENTIAL_SECRET_ENV]: 'kort' },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe('E_CONFIG_INVALID');
    expect((err as PlatformError).message).toContain(NODE_RED_CREDENTIAL_SECRET_ENV);
    expect(existsSync(join(dir, 'short', 'outbox.db'))).toBe(false);
  });

  it('serves the editor behind the login and encrypts flow credentials with the secret from the environment', async () => {
    gateway = await startGateway(parseGatewayConfig(config('ok')), {
      logger: pino({ level: 'silent' }),
      defaultMetrics: false,
      env: { [NODE_RED_CREDENTIAL_SECRET_ENV]: SECRET },
    });
    const editor = `http://127.0.0.1:${editorPort}/`;
    expect((await fetch(`${editor}flows`)).status).toBe(401);
    const login = await fetch(`${editor}auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: USER, password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const { access_token: accessToken } = (await login.json()) as { access_token: string };
    const flows = [{ id: 'lns1', type: 'mqtt-broker', name: 'lns', broker: '127.0.0.1', port: '1', credentials: { user: 'lns', password: LNS_PASSWORD } }];
    const post = await fetch(`${editor}flows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', 'node-red-api-version': 'v1' },
      body: JSON.stringify(flows),
    });
    expect(post.status).toBe(204);
    // Node-RED's format (@node-red/runtime/lib/nodes/credentials.js): hex IV (32 chars), then base64
    // AES-256-CTR under sha256(secret). Decrypting with the environment's secret proves it was used.
    const stored = JSON.parse(readFileSync(join(dir, 'ok', 'node-red', 'flows_cred.json'), 'utf8')) as { $: string };
    const decipher = createDecipheriv('aes-256-ctr', createHash('sha256').update(SECRET).digest(), Buffer.from(stored.$.slice(0, 32), 'hex'));
    expect(JSON.parse(decipher.update(stored.$.slice(32), 'base64', 'utf8') + decipher.final('utf8'))).toEqual({ lns1: { user: 'lns', password: LNS_PASSWORD } });
  });
});

/**
 * `httpNodeAuth` on the embedded Node-RED: the flows' http-in endpoints under /api want the
 * configured login (Basic, bcrypt hash), which adminAuth, guarding the editor only, does not give.
 * Node-RED applies the setting in its launcher (red.js), not in the runtime an embedder starts, so
 * without our middleware the endpoint would answer anyone. Checked over real HTTP, with a hash made
 * by Node-RED's own bcryptjs, independently of our code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNodeRedBundle } from '../../../gateway/node-red/build.mjs';
import { startEmbeddedNodeRed, type EmbeddedNodeRed } from '../../../gateway/node-red/embed.ts';
import { embeddedNodeRedSecurity } from '../../../gateway/node-red/node-red-settings.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { systemClock } from '../../../gateway/clock.ts';

const bcrypt = createRequire(createRequire(import.meta.url).resolve('node-red'))('bcryptjs') as { hashSync(pw: string, rounds: number): string };
const USER = 'sensorsky';
const PASSWORD = 'webhook-passord-2026';

const flows = [
  { id: 'tab1', type: 'tab', label: 'http' },
  { id: 'in1', type: 'http in', z: 'tab1', name: '', url: '/hei', method: 'post', upload: false, swaggerDoc: '', wires: [['out1']] },
  { id: 'out1', type: 'http response', z: 'tab1', name: '', statusCode: '201', headers: {}, wires: [] },
];

let dir: string;
let outbox: SqliteOutbox;
let red: EmbeddedNodeRed;
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const post = (authorization?: string): Promise<Response> =>
  fetch(`${red.url}api/hei`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: '{}' });

beforeAll(async () => {
  await buildNodeRedBundle();
  dir = mkdtempSync(join(tmpdir(), 'itorg-nodered-httpauth-'));
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  const silent = pino({ level: 'silent' });
  outbox = new SqliteOutbox({ path: join(dir, 'outbox.db'), bounds: { maxReadings: 100, maxBytes: 100_000, maxAgeMs: 86_400_000 }, clock: systemClock, logger: silent });
  // The gateway config's shape, through the same translation gateway/main.ts uses.
  const security = embeddedNodeRedSecurity({ httpNodeAuth: { username: USER, passwordHash: bcrypt.hashSync(PASSWORD, 8) }, credentialSecret: 'http-node-auth-test' }, {});
  red = await startEmbeddedNodeRed({ userDir: dir, httpPort: 0, outbox, uplinkState: () => 'offline', logger: silent, ...security });
  // Flows start after RED.start() resolves: wait until the route answers the right login.
  for (let tries = 0; tries < 50 && (await post(basic(USER, PASSWORD))).status === 404; tries++) await new Promise((r) => setTimeout(r, 100));
});
afterAll(async () => {
  await red?.stop();
  await outbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded Node-RED with httpNodeAuth', () => {
  it('answers the configured login', async () => {
    expect((await post(basic(USER, PASSWORD))).status).toBe(201);
    // Again: the remembered password is still checked against the user.
    expect((await post(basic(USER, PASSWORD))).status).toBe(201);
  });

  it('refuses no login, a wrong password and a wrong user with 401 and a Basic challenge', async () => {
    for (const authorization of [undefined, basic(USER, 'feil-passord'), basic('noen-andre', PASSWORD), 'Bearer abc', basic(`${USER}${PASSWORD}`, '')]) {
      const res = await post(authorization);
      expect(res.status, authorization ?? 'none').toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Authorization Required"');
    }
  });

  it('leaves the editor to adminAuth (none here): httpNodeAuth guards /api only', async () => {
    expect((await fetch(`${red.url}settings`, { headers: { 'node-red-api-version': 'v1' } })).status).toBe(200);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { addApiCommands } from '../../cli/api-commands.ts';
import { listen } from '../../ingest/api/app.ts';
import { runCli, runCommandsInProcess } from '../support/cli.ts';
import { startTestApi, type TestApi } from '../ingest/api/api-server.ts';

// 2026-11-24T08:00:00Z, computed outside the code under test (python datetime).
const NOW = 1_795_507_200_000;

function cli(args: string[], env: Record<string, string | undefined> = {}, lang: 'nb' | 'en' = 'en') {
  return runCommandsInProcess(addApiCommands, args, { env, lang, now: NOW });
}

/** A loopback URL where nothing listens. */
async function closedUrl(): Promise<string> {
  const s = await listen(express(), 0, '127.0.0.1');
  await s.close();
  return `http://127.0.0.1:${s.port}`;
}

describe('tokens commands against the real API (createApiApp + coreRoutes + SqliteTokenStore)', () => {
  let api: TestApi | undefined;
  let dir: string;
  afterEach(async () => {
    await api?.close();
    api = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('bootstrap writes the first admin token into a fresh file; the API then accepts it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-bootstrap-'));
    const db = join(dir, 'registry.sqlite');
    const boot = await cli(['tokens', 'bootstrap', '--db', db, '--name', 'oppsett']);
    expect(boot.code).toBe(0);
    const token = boot.stdout.trim();
    expect(token).toMatch(/^itorg_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    expect(boot.stderr).toContain('New API token "oppsett" (admin');

    // A second bootstrap is refused while an admin token is active; --force overrides.
    const again = await cli(['tokens', 'bootstrap', '--db', db, '--name', 'oppsett2']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already has 1 active admin token');
    expect((await cli(['tokens', 'bootstrap', '--db', db, '--name', 'oppsett2', '--force'])).code).toBe(0);

    api = await startTestApi({ dbPath: db, now: NOW });
    const list = await cli(['tokens', 'list', '--api', api.url], { ITORG_API_TOKEN: token });
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+role\s+created\s+expires\s+revoked\s+last used$/);
    // oppsett, oppsett2 and the three role tokens of the test server.
    expect(lines).toHaveLength(2 + 5);
    // Same creation instant for all: rows are in id order, so find the bootstrapped one by name. Used once just now.
    expect(lines.filter((l) => / oppsett /.test(l))).toEqual([expect.stringMatching(/^[a-z2-7]{12} {2}oppsett {11}admin {4}2026-11-24T08:00:00Z {2}- {8}- {8}2026-11-24T08:00:00Z$/)]);
    expect(list.stdout + list.stderr).not.toContain(token);
  });

  it('bootstrap refuses a folder that does not exist (usage, exit 2)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-bootstrap-'));
    const r = await cli(['tokens', 'bootstrap', '--db', join(dir, 'nope', 'registry.sqlite'), '--name', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not exist');
  });

  it('create prints the new token alone on stdout, and the store verifies it with the role asked for', async () => {
    api = await startTestApi({ now: NOW });
    const env = { ITORG_API_TOKEN: api.tokens.admin, ITORG_API_URL: api.url };
    const r = await cli(['tokens', 'create', '--name', 'skjerm 2. etasje', '--role', 'viewer', '--expires', '2027-01-01T01:00:00+01:00'], env);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(r.stdout).toBe(`${token}\n`);
    expect(await api.store.verify(token)).toMatchObject({ name: 'skjerm 2. etasje', role: 'viewer' });
    const rec = (await api.store.list()).find((t) => t.name === 'skjerm 2. etasje');
    expect(rec?.expiresAt).toBe(1_798_761_600_000);
    expect(r.stdout + r.stderr).not.toContain(api.tokens.admin);

    const j = await cli(['tokens', 'create', '--name', 'rapport', '--role', 'analyst', '--json'], env);
    expect(j.code).toBe(0);
    const parsed = z.object({ token: z.string(), record: z.object({ name: z.literal('rapport'), role: z.literal('analyst') }) }).parse(JSON.parse(j.stdout));
    expect(await api.store.verify(parsed.token)).toMatchObject({ role: 'analyst' });
  });

  it('revoke revokes; an unknown id is refused with the API code and message (exit 1)', async () => {
    api = await startTestApi({ now: NOW });
    const env = { ITORG_API_TOKEN: api.tokens.admin, ITORG_API_URL: api.url };
    const viewerId = api.tokens.viewer.slice(6, 18);
    const r = await cli(['tokens', 'revoke', viewerId], env);
    expect(r.code).toBe(0);
    expect(await api.store.verify(api.tokens.viewer)).toBeNull();
    const unknown = await cli(['tokens', 'revoke', 'bbbbbbbbbbbb'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('E_API_NOT_FOUND: not found');
    const nb = await cli(['tokens', 'revoke', 'bbbbbbbbbbbb'], env, 'nb');
    expect(nb.stderr).toContain('E_API_NOT_FOUND: finnes ikke');
  });

  it('prints a refusal for the wrong role in the language asked for', async () => {
    api = await startTestApi({ now: NOW });
    const env = { ITORG_API_TOKEN: api.tokens.viewer, ITORG_API_URL: api.url };
    const en = await cli(['tokens', 'list'], env);
    expect(en.code).toBe(1);
    expect(en.stderr).toContain('E_API_FORBIDDEN: the token does not have the role this needs');
    const nb = await cli(['tokens', 'list'], env, 'nb');
    expect(nb.stderr).toContain('E_API_FORBIDDEN: tokenet har ikke rollen som kreves');
    expect(en.stdout + en.stderr + nb.stdout + nb.stderr).not.toContain(api.tokens.viewer);
  });

  it('prints the field of a validation refusal', async () => {
    api = await startTestApi({ now: NOW });
    const r = await cli(['tokens', 'create', '--name', 'x', '--role', 'viewer', '--expires', '2026-11-24T07:00:00Z'], { ITORG_API_TOKEN: api.tokens.admin, ITORG_API_URL: api.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('E_API_INVALID_REQUEST');
    expect(r.stderr).toContain('  expiresAt: must be in the future');
  });

  it('usage errors exit 2: no token, an instant without offset, an unknown role', async () => {
    const url = await closedUrl();
    const none = await cli(['tokens', 'list', '--api', url]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('ITORG_API_TOKEN');
    expect((await cli(['tokens', 'create', '--name', 'x', '--role', 'viewer', '--expires', '2027-01-01T09:00'], { ITORG_API_TOKEN: 'x', ITORG_API_URL: url })).code).toBe(2);
    expect((await cli(['tokens', 'create', '--name', 'x', '--role', 'root'], { ITORG_API_TOKEN: 'x', ITORG_API_URL: url })).code).toBe(2);
  });

  it('an unreachable API exits 3', async () => {
    const r = await cli(['tokens', 'list', '--api', await closedUrl()], { ITORG_API_TOKEN: 'itorg_x' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('ECONNREFUSED');
  });

  it('--help never shows the token from the environment', async () => {
    const r = await cli(['tokens', 'list', '--help'], { ITORG_API_TOKEN: 'itorg_secret_in_env' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ITORG_API_TOKEN');
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 the API refused, 2 usage error, 3 the API could not be reached.');
    expect(r.stdout).not.toContain('itorg_secret_in_env');
  });
});

describe('device and key commands against a small server implementing the agreed paths', () => {
  const TOKEN = 'itorg_test_token';
  const seen: { method: string; path: string; query: Record<string, unknown>; body: unknown }[] = [];
  let url: string;
  let close: () => Promise<void>;
  const key = { id: 'kkkkkkkkkkkk', torg: 'asker-sentrum', status: 'active', createdAt: NOW, disabledAt: null };
  const devices = [
    {
      id: 'a840417eb1853b4b',
      torg: 'asker-sentrum',
      gateway: 'gw-1',
      model: 'milesight-vs133',
      status: 'active',
      lastSeenAt: 1_795_514_370_000,
      assignment: { place: { type: 'entrance', entrance: 'hovedinngang', line: 'dor-1' } },
      liveness: { state: 'online' },
    },
    { id: '24e124710c000001', torg: 'asker-sentrum', gateway: 'gw-1', model: 'milesight-am103', status: 'pending', lastSeenAt: 1_793_513_700_000, assignment: null, liveness: { state: 'stale' } },
  ];

  beforeAll(async () => {
    const app = express();
    app.use(express.json());
    app.use((req, res, next) => {
      seen.push({ method: req.method, path: req.path, query: { ...(req.query as Record<string, unknown>) }, body: req.body });
      if (req.get('authorization') !== `Bearer ${TOKEN}`) {
        res.status(401).json({ error: { code: 'E_API_UNAUTHENTICATED', message: 'a valid API token is required', retriable: false } });
        return;
      }
      next();
    });
    app.get('/api/v1/devices', (req, res) => {
      res.json({ devices: devices.filter((d) => (req.query['status'] === undefined || d.status === req.query['status']) && (req.query['torg'] === undefined || d.torg === req.query['torg'])) });
    });
    app.post('/api/v1/devices/:id/assign', (req, res) => {
      if (req.params.id === 'ffffffffffffffff') {
        res.status(404).json({ error: { code: 'E_REGISTRY_UNKNOWN_DEVICE', message: 'no device with this hardware id has been announced', retriable: false } });
        return;
      }
      res.json({ device: { ...devices[1], status: 'active' } });
    });
    app.post('/api/v1/devices/:id/decommission', (req, res) => void res.json({ device: { ...devices[0], status: 'decommissioned' } }));
    app.get('/api/v1/provisioning-keys', (_req, res) => void res.json({ keys: [key, { ...key, id: 'jjjjjjjjjjjj', status: 'disabled', disabledAt: NOW + 1000 }] }));
    app.post('/api/v1/provisioning-keys', (_req, res) => void res.status(201).json({ key: 'itorg_pk_secret', record: key }));
    app.post('/api/v1/provisioning-keys/rotate', (_req, res) => void res.status(201).json({ key: 'itorg_pk_secret2', record: { ...key, id: 'mmmmmmmmmmmm' }, disabled: ['kkkkkkkkkkkk'] }));
    app.post('/api/v1/provisioning-keys/:id/disable', (req, res) => void res.json({ ...key, id: req.params.id, status: 'disabled', disabledAt: NOW }));
    const s = await listen(app, 0, '127.0.0.1');
    url = `http://127.0.0.1:${s.port}`;
    close = s.close;
  });
  afterAll(async () => close());
  const env = () => ({ ITORG_API_TOKEN: TOKEN, ITORG_API_URL: url });
  const last = () => seen[seen.length - 1]!;

  it('devices list prints a table of the registry records with place, liveness and last seen', async () => {
    const r = await cli(['devices', 'list', '--torg', 'asker-sentrum'], env());
    expect(r.code).toBe(0);
    expect(last()).toMatchObject({ method: 'GET', path: '/api/v1/devices', query: { torg: 'asker-sentrum', lang: 'en' } });
    expect(r.stdout).toBe(
      [
        'id                torg           gateway  model            status   place                        liveness  last seen',
        '----------------  -------------  -------  ---------------  -------  ---------------------------  --------  --------------------',
        'a840417eb1853b4b  asker-sentrum  gw-1     milesight-vs133  active   entrance:hovedinngang/dor-1  online    2026-11-24T09:59:30Z',
        '24e124710c000001  asker-sentrum  gw-1     milesight-am103  pending  -                            stale     2026-11-01T06:15:00Z',
        '',
      ].join('\n'),
    );
  });

  it('devices pending asks for status=pending; --json gives the answer unchanged', async () => {
    const r = await cli(['devices', 'pending', '--json'], env());
    expect(r.code).toBe(0);
    expect(last().query).toEqual({ status: 'pending', lang: 'en' });
    expect(JSON.parse(r.stdout)).toEqual({ devices: [devices[1]] });
  });

  it('devices assign posts {torg, place, at} for a counting line and for a zone', async () => {
    const r = await cli(['devices', 'assign', '24e124710c000001', '--torg', 'asker-sentrum', '--entrance', 'hovedinngang', '--line', 'dor-1', '--at', '2026-11-24T08:30:00+01:00'], env());
    expect(r.code).toBe(0);
    expect(last()).toMatchObject({
      method: 'POST',
      path: '/api/v1/devices/24e124710c000001/assign',
      body: { torg: 'asker-sentrum', place: { type: 'entrance', entrance: 'hovedinngang', line: 'dor-1' }, at: 1_795_505_400_000 },
    });
    expect(r.stdout).toBe('Device 24e124710c000001 assigned to asker-sentrum entrance:hovedinngang/dor-1\n');
    const z1 = await cli(['devices', 'assign', '24e124710c000001', '--torg', 'asker-sentrum', '--zone', 'venteomrade'], env());
    expect(z1.code).toBe(0);
    expect(last().body).toEqual({ torg: 'asker-sentrum', place: { type: 'zone', zone: 'venteomrade' } });
  });

  it('devices assign --move-torg posts moveTorg: true, so the API may move the device to another torg', async () => {
    const r = await cli(['devices', 'assign', '24e124710c000001', '--torg', 'heggedal', '--zone', 'arbeid', '--move-torg'], env());
    expect(r.code).toBe(0);
    expect(last()).toMatchObject({ method: 'POST', path: '/api/v1/devices/24e124710c000001/assign' });
    expect(last().body).toEqual({ torg: 'heggedal', place: { type: 'zone', zone: 'arbeid' }, moveTorg: true });
  });

  it('devices assign without a place, or with both, is a usage error that sends nothing', async () => {
    const before = seen.length;
    expect((await cli(['devices', 'assign', '24e124710c000001', '--torg', 'asker-sentrum'], env())).code).toBe(2);
    expect((await cli(['devices', 'assign', '24e124710c000001', '--torg', 'asker-sentrum', '--entrance', 'hovedinngang'], env())).code).toBe(2);
    expect((await cli(['devices', 'assign', '24e124710c000001', '--torg', 'asker-sentrum', '--zone', 'a', '--entrance', 'b', '--line', 'c'], env())).code).toBe(2);
    expect(seen.length).toBe(before);
  });

  it('devices assign of an unknown device prints the registry code (exit 1)', async () => {
    const r = await cli(['devices', 'assign', 'ffffffffffffffff', '--torg', 'asker-sentrum', '--zone', 'venteomrade'], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('E_REGISTRY_UNKNOWN_DEVICE: no device with this hardware id has been announced\n');
  });

  it('devices decommission posts to the decommission path', async () => {
    const r = await cli(['devices', 'decommission', 'a840417eb1853b4b'], env());
    expect(r.code).toBe(0);
    expect(last()).toMatchObject({ method: 'POST', path: '/api/v1/devices/a840417eb1853b4b/decommission', body: {} });
  });

  it('keys list, create, rotate and disable use the agreed paths; the key alone goes to stdout', async () => {
    const list = await cli(['keys', 'list', '--torg', 'asker-sentrum'], env());
    expect(list.code).toBe(0);
    expect(last()).toMatchObject({ method: 'GET', path: '/api/v1/provisioning-keys', query: { torg: 'asker-sentrum' } });
    expect(list.stdout.split('\n').slice(2, 4)).toEqual([
      'kkkkkkkkkkkk  asker-sentrum  active    2026-11-24T08:00:00Z  -',
      'jjjjjjjjjjjj  asker-sentrum  disabled  2026-11-24T08:00:00Z  2026-11-24T08:00:01Z',
    ]);

    const created = await cli(['keys', 'create', '--torg', 'asker-sentrum'], env());
    expect(created.code).toBe(0);
    expect(last()).toMatchObject({ method: 'POST', path: '/api/v1/provisioning-keys', body: { torg: 'asker-sentrum' } });
    expect(created.stdout).toBe('itorg_pk_secret\n');

    const rotated = await cli(['keys', 'rotate', '--torg', 'asker-sentrum'], env());
    expect(rotated.code).toBe(0);
    expect(last()).toMatchObject({ method: 'POST', path: '/api/v1/provisioning-keys/rotate', body: { torg: 'asker-sentrum' } });
    expect(rotated.stdout).toBe('itorg_pk_secret2\n');
    expect(rotated.stderr).toContain('Disabled keys: kkkkkkkkkkkk');

    const disabled = await cli(['keys', 'disable', 'kkkkkkkkkkkk'], env());
    expect(disabled.code).toBe(0);
    expect(last()).toMatchObject({ method: 'POST', path: '/api/v1/provisioning-keys/kkkkkkkkkkkk/disable' });
    expect(disabled.stdout).toBe('Key kkkkkkkkkkkk disabled\n');
  });

  it('a wrong token is refused with the API code (exit 1)', async () => {
    const r = await cli(['keys', 'list'], { ITORG_API_TOKEN: 'nope', ITORG_API_URL: url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('E_API_UNAUTHENTICATED');
  });
});

describe('through the real entry point (cli/main.ts)', () => {
  it('exits 2 on a usage error and 3 when the API is unreachable', async () => {
    const url = await closedUrl();
    const usage = await runCli(['devices', 'assign', 'a840417eb1853b4b', '--torg', 'asker-sentrum', '--api', url, '--token', 'x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--zone <zone> or --entrance <entrance> --line <line> is required');
    const down = await runCli(['tokens', 'list', '--api', url, '--token', 'x']);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('ECONNREFUSED');
  });
});

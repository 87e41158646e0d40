/**
 * The provisioning routes over HTTP (express, real SQLite stores): admin only, keys shown once and
 * never listed with their secret, unknown torg and key refused. Gateway disable/enable against a real
 * broker is in provisioning-service.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { createApiApp, listen, openApiDocument } from '../../../ingest/api/app.ts';
import { SqliteTokenStore } from '../../../ingest/api/token-store.ts';
import { BrokerAuthSync, SqliteBrokerCredentialStore } from '../../../ingest/provisioning/broker-credentials.ts';
import { SqliteProvisioningKeyStore } from '../../../ingest/provisioning/key-store.ts';
import { provisioningRoutes } from '../../../ingest/provisioning/provisioning-routes.ts';
import { knownPlacesFromTorgConfig } from '../../../ingest/registry/registry.ts';
import { SqliteRegistry } from '../../../ingest/registry/sqlite-registry.ts';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
const knownPlaces = knownPlacesFromTorgConfig(loadTorgConfig(new URL('../../../config/torg.asker.sample.json', import.meta.url).pathname));
let dir: string;
let registry: SqliteRegistry;
let keys: SqliteProvisioningKeyStore;
let credentials: SqliteBrokerCredentialStore;
let tokens: SqliteTokenStore;
let api: { port: number; close: () => Promise<void> };
let routes: ReturnType<typeof provisioningRoutes>;
const token: Record<'viewer' | 'analyst' | 'admin', string> = { viewer: '', analyst: '', admin: '' };

async function http(method: string, path: string, body?: unknown, bearer: string | null = token.admin): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${api.port}${path}`, {
    method,
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'itorg-prov-routes-'));
  const db = join(dir, 'registry.db');
  const now = () => T0;
  registry = new SqliteRegistry({ path: db, knownPlaces, now });
  keys = new SqliteProvisioningKeyStore({ path: db, now });
  credentials = new SqliteBrokerCredentialStore({ path: db, now });
  tokens = new SqliteTokenStore({ path: db, now });
  for (const role of ['viewer', 'analyst', 'admin'] as const) token[role] = (await tokens.create({ name: role, role })).token;
  mkdirSync(join(dir, 'broker'));
  // Files only: these tests do not run a broker.
  const authSync = new BrokerAuthSync({ store: credentials, dir: join(dir, 'broker'), reload: { none: true } });
  routes = provisioningRoutes({ keys, credentials, authSync, registry, knownPlaces });
  api = await listen(createApiApp({ routes, tokens, logger: pino({ level: 'silent' }), authFailureLimit: { max: 1000, windowMs: 60_000 } }), 0, '127.0.0.1');
});

afterAll(async () => {
  await api?.close();
  await Promise.all([registry?.close(), keys?.close(), credentials?.close(), tokens?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('provisioning routes', () => {
  it('are exactly the agreed paths, all admin', () => {
    expect(routes.map((r) => `${r.method.toUpperCase()} ${r.path} ${r.access}`)).toEqual([
      'GET /api/v1/provisioning-keys admin',
      'POST /api/v1/provisioning-keys admin',
      'POST /api/v1/provisioning-keys/{id}/disable admin',
      'POST /api/v1/provisioning-keys/rotate admin',
      'POST /api/v1/gateways/{torg}/{id}/disable admin',
      'POST /api/v1/gateways/{torg}/{id}/enable admin',
    ]);
    const doc = openApiDocument(routes, { title: 't', version: '1' }) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/gateways/{torg}/{id}/disable',
      '/api/v1/gateways/{torg}/{id}/enable',
      '/api/v1/provisioning-keys',
      '/api/v1/provisioning-keys/rotate',
      '/api/v1/provisioning-keys/{id}/disable',
    ]);
  });

  it('every route refuses a missing token (401) and the viewer and analyst roles (403)', async () => {
    for (const r of routes) {
      const path = r.path.replace('{id}', 'aaaaaaaaaaaa').replace('{torg}', 'heggedal');
      const body = r.method === 'post' ? { torg: 'heggedal' } : undefined;
      expect([r.path, (await http(r.method, path, body, null)).status]).toEqual([r.path, 401]);
      expect([r.path, (await http(r.method, path, body, 'itorg_aaaaaaaaaaaa_wrongwrongwrongwrongwrongwrongwrongwrongwro')).status]).toEqual([r.path, 401]);
      expect([r.path, (await http(r.method, path, body, token.viewer)).status]).toEqual([r.path, 403]);
      expect([r.path, (await http(r.method, path, body, token.analyst)).status]).toEqual([r.path, 403]);
    }
    expect(await keys.list()).toEqual([]);
  });

  it('creates a key shown once, lists keys without secrets, disables and rotates', async () => {
    const created = await http('POST', '/api/v1/provisioning-keys', { torg: 'tofte' });
    expect(created.status).toBe(201);
    const key = created.body['key'] as string;
    const record = created.body['record'] as { id: string };
    expect(key).toMatch(/^itpk_tofte_[A-Za-z0-9_-]{43}$/);
    expect(record).toEqual({ id: expect.stringMatching(/^[a-z2-7]{12}$/), torg: 'tofte', status: 'active', createdAt: T0, disabledAt: null });

    const listed = await http('GET', '/api/v1/provisioning-keys?torg=tofte');
    expect(listed).toEqual({ status: 200, body: { keys: [record] } });
    expect(JSON.stringify(listed.body)).not.toContain(key.slice('itpk_tofte_'.length));
    expect((await http('GET', '/api/v1/provisioning-keys?torg=heggedal')).body).toEqual({ keys: [] });

    const disabled = await http('POST', `/api/v1/provisioning-keys/${record.id}/disable`);
    expect(disabled).toEqual({ status: 200, body: { ...record, status: 'disabled', disabledAt: T0 } });
    expect(await keys.verify('tofte', key)).toBe('disabled');

    const second = await http('POST', '/api/v1/provisioning-keys', { torg: 'tofte' });
    const rotated = await http('POST', '/api/v1/provisioning-keys/rotate', { torg: 'tofte' });
    expect(rotated.status).toBe(201);
    expect(rotated.body['disabled']).toEqual([(second.body['record'] as { id: string }).id]);
    expect(await keys.verify('tofte', rotated.body['key'] as string)).toBe('ok');
    expect(await keys.verify('tofte', second.body['key'] as string)).toBe('disabled');
  });

  it('refuses an unknown torg, an unknown key and a malformed body', async () => {
    expect(await http('POST', '/api/v1/provisioning-keys', { torg: 'oslo' })).toMatchObject({ status: 404, body: { error: { code: 'E_PROVISION_TORG_UNKNOWN' } } });
    expect(await http('POST', '/api/v1/provisioning-keys/rotate', { torg: 'oslo' })).toMatchObject({ status: 404 });
    expect(await http('POST', '/api/v1/provisioning-keys/aaaaaaaaaaaa/disable')).toMatchObject({ status: 404, body: { error: { code: 'E_API_NOT_FOUND' } } });
    expect(await http('POST', '/api/v1/provisioning-keys', { torg: 'tofte', extra: 1 })).toMatchObject({ status: 400, body: { error: { code: 'E_API_INVALID_REQUEST' } } });
    expect(await http('POST', '/api/v1/gateways/heggedal/gw-none/disable')).toMatchObject({ status: 404, body: { error: { code: 'E_REGISTRY_UNKNOWN_GATEWAY' } } });
  });

  it('disabling a gateway that never provisioned marks it disabled with no broker user to revoke', async () => {
    await registry.upsertGateway({ torg: 'heggedal', id: 'gw-manual' });
    expect(await http('POST', '/api/v1/gateways/heggedal/gw-manual/disable')).toMatchObject({
      status: 200,
      body: { gateway: { torg: 'heggedal', id: 'gw-manual', status: 'disabled', credentialsRef: null }, brokerAccess: 'none' },
    });
    expect((await registry.getGateway('heggedal', 'gw-manual'))?.status).toBe('disabled');
  });
});

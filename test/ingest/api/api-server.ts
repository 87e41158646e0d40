/**
 * A real API server for tests: createApiApp on a free loopback port, SqliteTokenStore in a temp dir,
 * one token per role, and the pino output captured line by line (to check what is logged).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createApiApp, listen } from '../../../ingest/api/app.ts';
import { coreRoutes } from '../../../ingest/api/core-routes.ts';
import type { AnyRoute, Role } from '../../../ingest/api/route.ts';
import { SqliteTokenStore } from '../../../ingest/api/token-store.ts';

export interface TestApi {
  url: string;
  dir: string;
  dbPath: string;
  store: SqliteTokenStore;
  tokens: Record<Role, string>;
  /** Every log line the app wrote (JSON text). */
  logs: string[];
  clock: { now: number };
  close(): Promise<void>;
}

export async function startTestApi(opts: {
  extraRoutes?: (store: SqliteTokenStore) => AnyRoute[];
  withCoreRoutes?: boolean;
  authFailureLimit?: { max: number; windowMs: number };
  secureCookies?: boolean;
  now?: number;
  /** An existing SQLite file (e.g. one `tokens bootstrap` wrote); default a new one in the temp dir. */
  dbPath?: string;
} = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const dbPath = opts.dbPath ?? join(dir, 'registry.sqlite');
  const clock = { now: opts.now ?? Date.parse('2026-11-24T08:00:00.000Z') };
  const store = new SqliteTokenStore({ path: dbPath, now: () => clock.now });
  const logs: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (s: string) => void logs.push(s) });
  const routes = [
    ...(opts.withCoreRoutes === false ? [] : coreRoutes({ tokens: store, secureCookies: opts.secureCookies ?? false })),
    ...(opts.extraRoutes?.(store) ?? []),
  ];
  const app = createApiApp({
    routes,
    tokens: store,
    logger,
    now: () => clock.now,
    authFailureLimit: opts.authFailureLimit ?? { max: 10_000, windowMs: 60_000 },
  });
  const server = await listen(app, 0, '127.0.0.1');
  const tokens = {
    viewer: (await store.create({ name: 'skjerm resepsjon', role: 'viewer' })).token,
    analyst: (await store.create({ name: 'prosjektleder', role: 'analyst' })).token,
    admin: (await store.create({ name: 'drift', role: 'admin' })).token,
  };
  return {
    url: `http://127.0.0.1:${server.port}`,
    dir,
    dbPath,
    store,
    tokens,
    logs,
    clock,
    close: async () => {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

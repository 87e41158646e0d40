import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coreRoutes } from '../../../ingest/api/core-routes.ts';
import { defineRoute } from '../../../ingest/api/route.ts';
import { checkRouteMatrix, dummyPath } from './route-matrix.ts';
import { startTestApi, type TestApi } from './api-server.ts';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('route matrix on the core routes', () => {
  it('every non-public core route refuses a missing token (401) and every lower role (403), and lets its role through', async () => {
    api = await startTestApi();
    const routes = coreRoutes({ tokens: api.store, secureCookies: false });
    const { checks, failures, publicRoutes } = await checkRouteMatrix({ baseUrl: api.url, routes, tokens: api.tokens });
    expect(failures).toEqual([]);
    expect(publicRoutes.sort()).toEqual(['DELETE /api/v1/session', 'POST /api/v1/session']);
    // Counted by hand: whoami (viewer): none + viewer allowed = 2; GET tokens (admin): none + viewer + analyst + admin allowed = 4;
    // POST tokens and DELETE tokens/{id} (admin, not GET): none + viewer + analyst = 3 each.
    expect(checks).toHaveLength(12);
    // The DELETE dummy passed the route's own id schema: nothing was revoked, the 403s came from the role check.
    expect((await api.store.list()).every((t) => t.revokedAt === null)).toBe(true);
  });

  it('reports a route whose server lets a lower role through than the table says', async () => {
    api = await startTestApi();
    // The table claims admin for GET /api/v1/whoami; the server (rightly, for whoami) lets a viewer in.
    const claimed = defineRoute({ method: 'get', path: '/api/v1/whoami', access: 'admin', tag: 'auth', summary: 's', response: z.object({}), handler: () => ({}) });
    const { failures } = await checkRouteMatrix({ baseUrl: api.url, routes: [claimed], tokens: api.tokens });
    expect(failures.map((f) => `${f.as} ${f.status}`).sort()).toEqual(['analyst 200', 'viewer 200']);
  });

  it('fills path parameters with a value the route schema accepts, or says which one it cannot fill', () => {
    const route = (params: z.ZodType) => defineRoute({ method: 'get', path: '/x/{torg}/{id}', access: 'viewer', tag: 't', summary: 's', params, response: z.object({}), handler: () => ({}) });
    expect(dummyPath(route(z.object({ torg: z.string().regex(/^[a-z-]+$/), id: z.string().regex(/^[a-z2-7]{12}$/) })))).toBe('/x/asker-sentrum/aaaaaaaaaaaa');
    expect(dummyPath(route(z.object({ torg: z.string(), id: z.string().regex(/^[0-9a-f]{16}$/) })))).toBe('/x/asker-sentrum/0123456789abcdef');
    expect(() => dummyPath(route(z.object({ torg: z.string(), id: z.string().regex(/^Z+$/) })))).toThrow(/"id"/);
    expect(dummyPath(route(z.object({ torg: z.string(), id: z.string().regex(/^Z+$/) })), { id: 'ZZ' })).toBe('/x/asker-sentrum/ZZ');
  });
});

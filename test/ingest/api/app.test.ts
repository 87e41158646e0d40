import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HANDLED, defineRoute, type AnyRoute } from '../../../ingest/api/route.ts';
import { coreRoutes } from '../../../ingest/api/core-routes.ts';
import { openApiDocument } from '../../../ingest/api/app.ts';
import { startTestApi, type TestApi } from './api-server.ts';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };
const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), retriable: z.boolean(), detail: z.unknown().optional() }) });
const issuesDetail = z.object({ in: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })) });

async function errorOf(res: Response) {
  return errorBody.parse(await res.json()).error;
}

describe('session cookie (live page sign-in)', () => {
  it('POST /api/v1/session sets an HttpOnly SameSite=Strict cookie that GET routes accept', async () => {
    api = await startTestApi();
    const res = await fetch(`${api.url}/api/v1/session`, { method: 'POST', headers: json, body: JSON.stringify({ token: api.tokens.viewer }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'skjerm resepsjon', role: 'viewer' });
    const cookie = res.headers.get('set-cookie') ?? '';
    const attrs = cookie.split(';').map((a) => a.trim());
    expect(attrs[0]).toBe(`itorg_token=${encodeURIComponent(api.tokens.viewer)}`);
    expect(attrs).toContain('HttpOnly');
    expect(attrs).toContain('SameSite=Strict');
    expect(attrs).toContain('Path=/');
    expect(attrs).toContain('Max-Age=43200');
    expect(attrs).not.toContain('Secure');

    const who = await fetch(`${api.url}/api/v1/whoami`, { headers: { cookie: attrs[0]! } });
    expect(who.status).toBe(200);
    expect(await who.json()).toMatchObject({ name: 'skjerm resepsjon', role: 'viewer' });
    // HEAD is answered by the GET route and is as safe as GET.
    expect((await fetch(`${api.url}/api/v1/whoami`, { method: 'HEAD', headers: { cookie: attrs[0]! } })).status).toBe(200);
  });

  it('marks the cookie Secure when configured', async () => {
    api = await startTestApi({ secureCookies: true });
    const res = await fetch(`${api.url}/api/v1/session`, { method: 'POST', headers: json, body: JSON.stringify({ token: api.tokens.viewer }) });
    expect((res.headers.get('set-cookie') ?? '').split(';').map((a) => a.trim())).toContain('Secure');
  });

  it('refuses a POST or DELETE that carries only the cookie, even an admin one (no CSRF surface)', async () => {
    api = await startTestApi();
    const cookie = `itorg_token=${encodeURIComponent(api.tokens.admin)}`;
    expect((await fetch(`${api.url}/api/v1/tokens`, { headers: { cookie } })).status).toBe(200);
    const post = await fetch(`${api.url}/api/v1/tokens`, { method: 'POST', headers: { ...json, cookie }, body: JSON.stringify({ name: 'x', role: 'admin' }) });
    expect(post.status).toBe(401);
    expect((await errorOf(post)).code).toBe('E_API_UNAUTHENTICATED');
    const viewerId = api.tokens.viewer.slice(6, 18);
    const del = await fetch(`${api.url}/api/v1/tokens/${viewerId}`, { method: 'DELETE', headers: { cookie } });
    expect(del.status).toBe(401);
    // Nothing changed: three tokens, none revoked.
    const list = await api.store.list();
    expect(list).toHaveLength(3);
    expect(list.every((t) => t.revokedAt === null)).toBe(true);
  });

  it('refuses a wrong token without setting a cookie, and DELETE clears the cookie', async () => {
    api = await startTestApi();
    const bad = await fetch(`${api.url}/api/v1/session`, { method: 'POST', headers: json, body: JSON.stringify({ token: 'itorg_aaaaaaaaaaaa_' + 'A'.repeat(43) }) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const out = await fetch(`${api.url}/api/v1/session`, { method: 'DELETE' });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^itorg_token=; .*Max-Age=0/);
  });
});

describe('authentication failures are rate-limited per address', () => {
  const WINDOW = 60_000;
  const wrong = 'itorg_aaaaaaaaaaaa_' + 'B'.repeat(43);

  it('answers 429 after max failures, never counts successes, and lifts at the end of the window', async () => {
    api = await startTestApi({ authFailureLimit: { max: 3, windowMs: WINDOW } });
    const who = (token: string) => fetch(`${api!.url}/api/v1/whoami`, { headers: bearer(token) });
    // Many successes first: they must not use up any of the allowance.
    for (let i = 0; i < 10; i++) expect((await who(api.tokens.viewer)).status).toBe(200);
    expect((await who(wrong)).status).toBe(401);
    expect((await who(wrong)).status).toBe(401);
    // A success between failures is not counted either, and a 403 (wrong role) is not an auth failure.
    expect((await who(api.tokens.viewer)).status).toBe(200);
    expect((await fetch(`${api.url}/api/v1/tokens`, { headers: bearer(api.tokens.viewer) })).status).toBe(403);
    expect((await fetch(`${api.url}/api/v1/tokens`)).status).toBe(401); // third failure (no token)
    const limited = await who(api.tokens.viewer);
    expect(limited.status).toBe(429);
    const err = await errorOf(limited);
    expect(err).toMatchObject({ code: 'E_API_RATE_LIMITED', retriable: true });
    expect(Number(limited.headers.get('retry-after'))).toBe(60);
    // Sign-in through the session route is refused too; a public route without a credential is not.
    expect((await fetch(`${api.url}/api/v1/session`, { method: 'POST', headers: json, body: JSON.stringify({ token: api.tokens.viewer }) })).status).toBe(429);
    expect((await fetch(`${api.url}/api/v1/session`, { method: 'DELETE' })).status).toBe(200);
    api.clock.now += 40_000;
    expect(Number((await who(api.tokens.viewer)).headers.get('retry-after'))).toBe(20);
    api.clock.now += 20_000;
    expect((await who(api.tokens.viewer)).status).toBe(200);
    expect((await who(wrong)).status).toBe(401);
  });

  it('counts a failed POST /api/v1/session', async () => {
    api = await startTestApi({ authFailureLimit: { max: 2, windowMs: WINDOW } });
    const signIn = (token: string) => fetch(`${api!.url}/api/v1/session`, { method: 'POST', headers: json, body: JSON.stringify({ token }) });
    expect((await signIn(wrong)).status).toBe(401);
    expect((await signIn(wrong)).status).toBe(401);
    expect((await signIn(api.tokens.viewer)).status).toBe(429);
  });

  it('never limits a screen that keeps reconnecting its event stream', async () => {
    // express-rate-limit counted such a request until the response finished, which a stream closed by the client never does.
    const stream = defineRoute({
      method: 'get',
      path: '/api/v1/test/stream',
      access: 'viewer',
      tag: 'test',
      summary: 'a stream that never ends by itself',
      response: { contentType: 'text/event-stream', description: 'events' },
      handler: ({ res }) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': hello\n\n');
        return HANDLED;
      },
    });
    api = await startTestApi({ authFailureLimit: { max: 2, windowMs: WINDOW }, extraRoutes: () => [stream] });
    for (let i = 0; i < 6; i++) {
      const ac = new AbortController();
      const res = await fetch(`${api.url}/api/v1/test/stream`, { headers: bearer(api.tokens.viewer), signal: ac.signal });
      expect(res.status).toBe(200);
      ac.abort();
      await res.body?.cancel().catch(() => undefined);
    }
    expect((await fetch(`${api.url}/api/v1/whoami`, { headers: bearer(api.tokens.viewer) })).status).toBe(200);
  });
});

describe('validation', () => {
  it('answers 400 E_API_INVALID_REQUEST naming the body field', async () => {
    api = await startTestApi();
    const res = await fetch(`${api.url}/api/v1/tokens?lang=en`, { method: 'POST', headers: { ...json, ...bearer(api.tokens.admin) }, body: JSON.stringify({ name: 'x', role: 'root' }) });
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('E_API_INVALID_REQUEST');
    expect(err.message).toBe('the request does not match the API schema');
    const detail = issuesDetail.parse(err.detail);
    expect(detail.in).toBe('body');
    expect(detail.issues.map((i) => i.path)).toEqual(['role']);
  });

  it('names a bad path parameter, in bokmål by default', async () => {
    api = await startTestApi();
    const res = await fetch(`${api.url}/api/v1/tokens/NOT-AN-ID`, { method: 'DELETE', headers: bearer(api.tokens.admin) });
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.message).toBe('forespørselen følger ikke API-skjemaet');
    expect(issuesDetail.parse(err.detail)).toMatchObject({ in: 'path', issues: [{ path: 'id' }] });
  });

  it('names expiresAt when it is in the past, and answers malformed JSON with 400', async () => {
    api = await startTestApi();
    const past = await fetch(`${api.url}/api/v1/tokens`, { method: 'POST', headers: { ...json, ...bearer(api.tokens.admin) }, body: JSON.stringify({ name: 'x', role: 'viewer', expiresAt: 1_795_000_000 }) });
    expect(past.status).toBe(400);
    expect(issuesDetail.parse((await errorOf(past)).detail).issues.map((i) => i.path)).toEqual(['expiresAt']);
    const bad = await fetch(`${api.url}/api/v1/tokens`, { method: 'POST', headers: { ...json, ...bearer(api.tokens.admin) }, body: '{"name": ' });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe('E_API_INVALID_REQUEST');
  });
});

describe('route mounting', () => {
  it('routes a literal segment to its own route even when a parameter route is listed first', async () => {
    const mk = (path: string, answer: string): AnyRoute =>
      defineRoute({ method: 'get', path, access: 'viewer', tag: 'test', summary: answer, params: z.object({ torg: z.string() }).partial(), response: z.object({ answer: z.string() }), handler: () => ({ answer }) });
    api = await startTestApi({ extraRoutes: () => [mk('/api/v1/test/{torg}', 'torg'), mk('/api/v1/test/stream', 'stream')] });
    const get = async (p: string) => ((await (await fetch(`${api!.url}${p}`, { headers: bearer(api!.tokens.viewer) })).json()) as { answer: string }).answer;
    expect(await get('/api/v1/test/stream')).toBe('stream');
    expect(await get('/api/v1/test/asker-sentrum')).toBe('torg');
  });
});

describe('/openapi.json', () => {
  const shared = z.object({ zone: z.string().default('hall') }).meta({ id: 'TestPlace' });
  const extra = (): AnyRoute[] => [
    defineRoute({
      method: 'post',
      path: '/api/v1/test/{torg}/places',
      access: 'analyst',
      tag: 'test',
      summary: 'a route whose named schema is both input and output',
      params: z.object({ torg: z.string() }),
      query: z.object({ dryRun: z.enum(['true', 'false']).optional() }).meta({ id: 'TestQuery' }),
      body: shared,
      response: z.object({ place: shared, all: z.array(shared) }),
      handler: ({ body }) => ({ place: body, all: [body] }),
    }),
  ];

  it('is a valid OpenAPI 3.1 document listing every route with its required role', async () => {
    api = await startTestApi({ extraRoutes: extra });
    const res = await fetch(`${api.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');

    const paths = doc['paths'] as Record<string, Record<string, { 'x-required-role': string; security?: unknown[]; parameters: { name: string; in: string; required: boolean }[]; responses: Record<string, unknown> }>>;
    const listed = Object.entries(paths).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => `${m.toUpperCase()} ${p} ${op['x-required-role']}`));
    expect(listed.sort()).toEqual(
      [
        'POST /api/v1/session public',
        'DELETE /api/v1/session public',
        'GET /api/v1/whoami viewer',
        'GET /api/v1/tokens admin',
        'POST /api/v1/tokens admin',
        'DELETE /api/v1/tokens/{id} admin',
        'POST /api/v1/test/{torg}/places analyst',
      ].sort(),
    );
    expect(paths['/api/v1/session']?.['post']?.security).toEqual([]);
    expect(Object.keys(paths['/api/v1/tokens']?.['get']?.responses ?? {}).sort()).toEqual(['200', '400', '401', '403', '429']);
    expect(paths['/api/v1/tokens']?.['post']?.responses['201']).toBeDefined();
    // Every {param} of a path is declared as a required path parameter.
    for (const [p, ops] of Object.entries(paths)) {
      const names = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops)) {
        expect(op.parameters.filter((x) => x.in === 'path' && x.required).map((x) => x.name).sort()).toEqual(names.sort());
      }
    }
    expect(paths['/api/v1/test/{torg}/places']?.['post']?.parameters).toContainEqual(expect.objectContaining({ name: 'dryRun', in: 'query', required: false }));
  });

  it('puts named schemas in components.schemas, and every $ref resolves from the document root', () => {
    const doc = openApiDocument([...coreRoutes({ tokens: {} as never, secureCookies: false }), ...extra()], { title: 't', version: '1' });
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.startsWith('#/')).toBe(true);
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), doc);
      expect(target, ref).toBeTypeOf('object');
    }
    const schemas = (doc['components'] as { schemas: Record<string, unknown> }).schemas;
    expect(Object.keys(schemas).sort()).toEqual(['ApiToken', 'Error', 'Principal', 'TestPlace', 'TestPlaceInput', 'TestQuery']);
    // Input: zone optional (it has a default); output: zone always present.
    expect(schemas['TestPlaceInput']).toMatchObject({ type: 'object', properties: { zone: { type: 'string', default: 'hall' } } });
    expect((schemas['TestPlaceInput'] as { required?: string[] }).required).toBeUndefined();
    expect(schemas['TestPlace']).toMatchObject({ required: ['zone'] });
  });
});

describe('logs', () => {
  it('never contain a token, a cookie or an Authorization header', async () => {
    const failing = defineRoute({
      method: 'get',
      path: '/api/v1/test/fail',
      access: 'viewer',
      tag: 'test',
      summary: 'a handler that throws',
      response: z.object({}),
      handler: () => {
        throw new Error('the store broke');
      },
    });
    const wrongShape = defineRoute({ method: 'get', path: '/api/v1/test/shape', access: 'viewer', tag: 'test', summary: 'bad response', response: z.object({ n: z.number() }), handler: () => ({ n: 'x' }) as unknown as { n: number } });
    api = await startTestApi({ authFailureLimit: { max: 2, windowMs: 60_000 }, extraRoutes: () => [failing, wrongShape] });
    const secrets = [api.tokens.viewer, api.tokens.analyst, api.tokens.admin];
    const wrong = 'itorg_aaaaaaaaaaaa_' + 'C'.repeat(43);
    const created = await fetch(`${api.url}/api/v1/tokens`, { method: 'POST', headers: { ...json, ...bearer(api.tokens.admin) }, body: JSON.stringify({ name: 'ny', role: 'viewer' }) });
    secrets.push(((await created.json()) as { token: string }).token);
    await fetch(`${api.url}/api/v1/session`, { method: 'POST', headers: json, body: JSON.stringify({ token: api.tokens.viewer }) });
    await fetch(`${api.url}/api/v1/whoami`, { headers: { cookie: `itorg_token=${encodeURIComponent(api.tokens.analyst)}` } });
    expect((await fetch(`${api.url}/api/v1/test/fail`, { headers: bearer(api.tokens.viewer) })).status).toBe(500);
    expect((await fetch(`${api.url}/api/v1/test/shape`, { headers: bearer(api.tokens.viewer) })).status).toBe(500);
    await fetch(`${api.url}/api/v1/tokens`, { method: 'POST', headers: { ...json, ...bearer(api.tokens.admin) }, body: `{"token": "${api.tokens.admin}"` });
    for (let i = 0; i < 3; i++) await fetch(`${api.url}/api/v1/whoami`, { headers: bearer(wrong) });
    // The scenario did log (the failing handler, the bad response, the limit): the check below has text to search.
    const text = api.logs.join('');
    expect(text).toContain('the store broke');
    expect(text).toContain('API response does not match its schema');
    expect(text).toContain('authentication failures reached the limit');
    for (const s of [...secrets, wrong]) {
      expect(text).not.toContain(s);
      expect(text).not.toContain(s.slice(19));
    }
    expect(text.toLowerCase()).not.toContain('authorization');
    expect(text.toLowerCase()).not.toContain('bearer');
    expect(text).not.toContain('itorg_token=');
  });
});

/**
 * The HTTP API and pages (express 5): authentication, roles, validation and the OpenAPI document,
 * driven by the route table (ingest/api/route.ts).
 *
 * Authentication: `Authorization: Bearer <token>`; for GET requests also the `itorg_token` cookie,
 * which the live page sets through POST /api/v1/session so that EventSource (which cannot send
 * headers) works. The cookie is HttpOnly and SameSite=Strict, and never accepted for a request that
 * changes anything, so a cross-site form cannot use it (no CSRF surface).
 *
 * Failed authentications are rate-limited per client address: only requests that ended in 401 are
 * counted (AuthFailureLimiter below), so a wall screen that polls or keeps a Server-Sent Events stream
 * open all day is never limited. Tokens and Authorization headers are never logged.
 */
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { RegistryError } from '../registry/registry-errors.ts';
import {
  API_ERROR_CODES,
  ApiError,
  HANDLED,
  apiErrorBodySchema,
  expressPath,
  isRawResponse,
  roleAllows,
  type AnyRoute,
  type Lang,
  type Principal,
} from './route.ts';
import type { TokenStore } from './token-store.ts';

export const TOKEN_COOKIE = 'itorg_token';

export interface ApiAppOptions {
  /**
   * express `trust proxy` (https://expressjs.com/en/guide/behind-proxies.html): behind a reverse proxy,
   * the hops or addresses to trust, so that req.ip — the key of the failed-auth limiter — is the
   * client's address and not the proxy's (which would lock every client out at once).
   */
  trustProxy?: string;
  routes: readonly AnyRoute[];
  tokens: TokenStore;
  logger: Logger;
  /** Failed authentications allowed per address per window before 429 (default 20 per 15 min). */
  authFailureLimit?: { max: number; windowMs: number; maxAddresses?: number };
  /** Clock of the failure windows (epoch ms); default Date.now. */
  now?: () => number;
  /** Extra handlers mounted before the API (static files of the live page, the widget). */
  mount?: (app: express.Express) => void;
  /** `info` of the OpenAPI document. */
  info?: { title: string; version: string; description?: string };
}

function langOf(req: Request): Lang {
  const q = req.query['lang'];
  if (q === 'en' || q === 'nb') return q;
  const accept = req.get('accept-language') ?? '';
  // Bokmål is the default; English only when it is preferred over any Norwegian tag.
  const first = accept.split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : 'nb';
}

function cookieToken(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
      // A malformed escape makes decodeURIComponent throw (ECMA-262 §19.2.6.2); it is a bad credential
      // (401, counted by the limiter), not a server error.
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return '';
      }
    }
  }
  return undefined;
}

/** The token a request presents (Bearer header, or the cookie on GET/HEAD); '' for a malformed one. */
export function presentedToken(req: Request): string | undefined {
  const auth = req.get('authorization');
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    return m ? m[1] : '';
  }
  // Express answers HEAD with the GET route; both are safe methods (RFC 9110 §9.2.1).
  return req.method === 'GET' || req.method === 'HEAD' ? cookieToken(req) : undefined;
}

function sendError(res: Response, err: ApiError, lang: Lang, retryAfterS = 30): void {
  const body: z.infer<typeof apiErrorBodySchema> = {
    error: { code: err.code, message: err.texts[lang], retriable: err.retriable, ...(err.detail !== undefined ? { detail: err.detail } : {}) },
  };
  if (err.status === 503 || err.status === 429) res.set('Retry-After', String(Math.max(1, Math.ceil(retryAfterS))));
  res.status(err.status).json(body);
}

/**
 * Counts failed authentications per client address in a fixed window and refuses the address once
 * `max` failures are reached, until the window ends. Only failures are ever counted, and counted when
 * the answer is known: express-rate-limit counts every request on arrival and takes successful ones
 * back on the response's `finish` event, which a Server-Sent Events stream closed by the client
 * never emits, so a wall screen that reconnects its stream would end up refused.
 * The table is bounded (`maxAddresses`); when it is full the oldest window is evicted and counted.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { failures: number; resetAt: number }>();
  /** Windows evicted because the table was full (an attack from many addresses). */
  evicted = 0;
  /** Requests refused with 429. */
  refused = 0;

  constructor(private readonly opts: { max: number; windowMs: number; maxAddresses: number; now: () => number }) {}

  /** Seconds until the address may try again, or null when it is not refused. */
  blockedFor(key: string): number | null {
    const w = this.windows.get(key);
    if (!w) return null;
    const now = this.opts.now();
    if (now >= w.resetAt) {
      this.windows.delete(key);
      return null;
    }
    if (w.failures < this.opts.max) return null;
    this.refused++;
    return (w.resetAt - now) / 1000;
  }

  /** Records a failed authentication; true when this failure reached the limit. */
  fail(key: string): boolean {
    const now = this.opts.now();
    let w = this.windows.get(key);
    if (w && now >= w.resetAt) {
      this.windows.delete(key);
      w = undefined;
    }
    if (!w) {
      if (this.windows.size >= this.opts.maxAddresses) this.evictOne(now);
      w = { failures: 0, resetAt: now + this.opts.windowMs };
      this.windows.set(key, w);
    }
    w.failures++;
    return w.failures === this.opts.max;
  }

  private evictOne(now: number): void {
    for (const [k, w] of this.windows) if (now >= w.resetAt) this.windows.delete(k);
    if (this.windows.size < this.opts.maxAddresses) return;
    // Map iteration is insertion order: the first key is the oldest window.
    const oldest = this.windows.keys().next();
    if (!oldest.done) {
      this.windows.delete(oldest.value);
      this.evicted++;
    }
  }
}

/**
 * Express matches routes in the order they are mounted, so `/api/v1/live/{torg}` mounted before
 * `/api/v1/live/stream` would swallow `stream` as a torg id. Literal segments win over parameters
 * at the first position where two paths differ; otherwise the table's order is kept.
 */
function routeMountOrder(routes: readonly AnyRoute[]): AnyRoute[] {
  const segs = (p: string) => p.split('/');
  const isParam = (s: string) => /^\{[A-Za-z0-9_]+\}$/.test(s);
  return routes
    .map((r, i) => ({ r, i }))
    .sort((a, b) => {
      const sa = segs(a.r.path);
      const sb = segs(b.r.path);
      for (let k = 0; k < Math.min(sa.length, sb.length); k++) {
        const x = sa[k]!;
        const y = sb[k]!;
        if (x === y) continue;
        const px = isParam(x);
        const py = isParam(y);
        if (px !== py) return px ? 1 : -1;
        break;
      }
      return a.i - b.i;
    })
    .map((e) => e.r);
}

/** Domain errors that cross the API with their own code and texts. */
function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof RegistryError) {
    const status =
      err.code === 'E_REGISTRY_UNAVAILABLE' || err.code === 'E_REGISTRY_CLOSED'
        ? 503
        : err.code === 'E_REGISTRY_UNKNOWN_DEVICE' || err.code === 'E_REGISTRY_UNKNOWN_GATEWAY'
          ? 404
          : err.code === 'E_REGISTRY_INVALID_INPUT' || err.code === 'E_REGISTRY_UNKNOWN_TORG' || err.code === 'E_REGISTRY_UNKNOWN_PLACE'
            ? 400
            : 409;
    return new ApiError(status, err.code, { en: err.describe('en'), nb: err.describe('nb') }, err.retriable);
  }
  return null;
}

function issues(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
}

export function createApiApp(opts: ApiAppOptions): express.Express {
  const { tokens, logger: log } = opts;
  const app = express();
  app.disable('x-powered-by');
  if (opts.trustProxy !== undefined) app.set('trust proxy', /^\d+$/.test(opts.trustProxy) ? Number(opts.trustProxy) : opts.trustProxy);
  app.use(express.json({ limit: '1mb' }));
  app.use((req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });

  const limit = opts.authFailureLimit ?? { max: 20, windowMs: 15 * 60_000 };
  const limiter = new AuthFailureLimiter({ max: limit.max, windowMs: limit.windowMs, maxAddresses: limit.maxAddresses ?? 10_000, now: opts.now ?? Date.now });
  // Behind a reverse proxy set `trust proxy` so that req.ip is the client's address.
  const clientKey = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

  opts.mount?.(app);

  for (const route of routeMountOrder(opts.routes)) {
    const checksCredential = route.access !== 'public' || route.authenticates === true;
    app[route.method](expressPath(route.path), async (req, res) => {
      const lang = langOf(req);
      const key = clientKey(req);
      try {
        if (checksCredential) {
          const wait = limiter.blockedFor(key);
          if (wait !== null) {
            sendError(res, ApiError.of('E_API_RATE_LIMITED'), lang, wait);
            return;
          }
        }
        let principal: Principal | null = null;
        if (route.access !== 'public') {
          const token = presentedToken(req);
          principal = token ? await tokens.verify(token) : null;
          if (!principal) throw ApiError.of('E_API_UNAUTHENTICATED');
          if (!roleAllows(principal.role, route.access)) throw ApiError.of('E_API_FORBIDDEN', { need: route.access, have: principal.role });
        }
        const parse = (schema: z.ZodType | undefined, value: unknown, where: string): unknown => {
          if (!schema) return value;
          const r = schema.safeParse(value);
          if (!r.success) throw ApiError.of('E_API_INVALID_REQUEST', { in: where, issues: issues(r.error) });
          return r.data;
        };
        const params = parse(route.params, req.params, 'path');
        // `lang` is the API's own parameter (langOf), valid on every route; each route validates the rest.
        const { lang: _lang, ...routeQuery } = req.query as Record<string, unknown>;
        const query = parse(route.query, routeQuery, 'query');
        const body = parse(route.body, req.body, 'body');
        const out = await route.handler({ params, query, body, principal, lang, req, res });
        if (out === HANDLED || res.headersSent) return;
        if (isRawResponse(route.response)) throw new Error(`route ${route.method} ${route.path} declared ${route.response.contentType} but returned a value`);
        const checked = route.response.safeParse(out);
        if (!checked.success) {
          log.error({ route: `${route.method} ${route.path}`, issues: issues(checked.error) }, 'API response does not match its schema');
          throw ApiError.of('E_API_INTERNAL');
        }
        res.status(route.status ?? 200).json(checked.data);
      } catch (err) {
        const apiErr = toApiError(err);
        if (apiErr) {
          if (apiErr.status === 401 && limiter.fail(key)) log.warn({ address: key, windowMs: limit.windowMs }, 'API authentication failures reached the limit; address refused until the window ends');
          if (apiErr.status >= 500) log.warn({ code: apiErr.code, route: route.path }, 'API request failed');
          sendError(res, apiErr, lang);
        } else {
          log.error({ err, route: `${route.method} ${route.path}` }, 'API handler failed');
          if (!res.headersSent) sendError(res, ApiError.of('E_API_INTERNAL'), lang);
          else res.end();
        }
      }
    });
  }

  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(opts.routes, opts.info ?? { title: 'Innbyggertorg sensor platform API', version: '1' }));
  });

  app.use('/api', (req, res) => sendError(res, ApiError.of('E_API_NOT_FOUND', { path: req.path }), langOf(req)));
  // Malformed JSON bodies and other express errors: answered in the API's error shape.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    if (status >= 400 && status < 500) sendError(res, ApiError.of('E_API_INVALID_REQUEST', { message: (err as Error).message }), langOf(req));
    else {
      log.error({ err }, 'HTTP error');
      sendError(res, ApiError.of('E_API_INTERNAL'), langOf(req));
    }
  });
  return app;
}

// ---------------------------------------------------------------------------------------------
// OpenAPI 3.1 (whose schemas are JSON Schema 2020-12, what zod 4's toJSONSchema emits)

/**
 * Named schemas (`.meta({ id })`) go to `components.schemas` and are referenced from there. zod's
 * toJSONSchema puts them in a `$defs` beside a `$ref: '#/$defs/Name'`; inside an OpenAPI 3.1
 * document a fragment reference resolves against the document root (OAS 3.1 §4.8.24 via JSON Schema
 * 2020-12 §8.2.3, an embedded schema without `$id` has the document's base URI), where no `$defs`
 * exists, so those references would dangle.
 */
class SchemaComponents {
  /** Definitions by id, per direction; refs inside them still carry the `#/$defs/` form. */
  private readonly defs = { input: new Map<string, unknown>(), output: new Map<string, unknown>() };

  /** The JSON Schema of `schema`; its named parts are collected and referenced by placeholder until `finish`. */
  convert(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
    const s = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
    delete s['$schema'];
    const defs = (s['$defs'] ?? {}) as Record<string, unknown>;
    delete s['$defs'];
    for (const [name, def] of Object.entries(defs)) if (!this.defs[io].has(name)) this.defs[io].set(name, tag(def, io));
    return tag(s, io) as Record<string, unknown>;
  }

  /** The definition a top-level placeholder points to (parameters need the object's properties). */
  resolve(s: Record<string, unknown>): Record<string, unknown> {
    const ref = s['$ref'];
    const m = typeof ref === 'string' ? PLACEHOLDER.exec(ref) : null;
    return m ? ((this.defs[m[1] as 'input' | 'output'].get(m[2]!) ?? s) as Record<string, unknown>) : s;
  }

  /**
   * Names the components and rewrites the placeholders in `doc`. An id converts to one component
   * when its input and output forms agree, else to `Name` (output) and `NameInput` (defaults and
   * transforms make them differ), whatever order the routes are in.
   */
  finish<T>(doc: T): { doc: T; schemas: Record<string, unknown> } {
    const nameOf = (io: 'input' | 'output', id: string): string => {
      const other = this.defs[io === 'input' ? 'output' : 'input'].get(id);
      if (io === 'output' || other === undefined) return id;
      return JSON.stringify(other) === JSON.stringify(this.defs.input.get(id)) ? id : `${id}Input`;
    };
    const rewrite = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(rewrite);
      if (v === null || typeof v !== 'object') return v;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const m = k === '$ref' && typeof x === 'string' ? PLACEHOLDER.exec(x) : null;
        out[k] = m ? `#/components/schemas/${nameOf(m[1] as 'input' | 'output', m[2]!)}` : rewrite(x);
      }
      return out;
    };
    const schemas: Record<string, unknown> = {};
    for (const io of ['output', 'input'] as const) for (const [id, def] of this.defs[io]) schemas[nameOf(io, id)] ??= rewrite(def);
    return { doc: rewrite(doc) as T, schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) };
  }
}

const PLACEHOLDER = /^#\/\$defs@(input|output)\/(.+)$/;
/** `#/$defs/Name` → a placeholder that remembers the direction it was converted in. */
function tag(v: unknown, io: 'input' | 'output'): unknown {
  if (Array.isArray(v)) return v.map((x) => tag(x, io));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/') ? `#/$defs@${io}/${x.slice('#/$defs/'.length)}` : tag(x, io);
  return out;
}

function parameters(components: SchemaComponents, schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const s = components.resolve(components.convert(schema, 'input'));
  const props = (s['properties'] ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((s['required'] ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: p,
    ...(typeof p['description'] === 'string' ? { description: p['description'] } : {}),
  }));
}

export function openApiDocument(routes: readonly AnyRoute[], info: { title: string; version: string; description?: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const components = new SchemaComponents();
  const errorSchema = components.convert(apiErrorBodySchema, 'output');
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: errorSchema } } });
  for (const r of routes) {
    const ok = isRawResponse(r.response)
      ? { description: r.response.description, content: { [r.response.contentType]: { schema: { type: 'string' } } } }
      : {
          description: 'OK',
          content: {
            'application/json': { schema: components.convert(r.response, 'output') },
            ...Object.fromEntries((r.alsoProduces ?? []).map((ct) => [ct, { schema: { type: 'string' } }])),
          },
        };
    const responses: Record<string, unknown> = { [String(r.status ?? 200)]: ok, '400': errorResponse(API_ERROR_CODES.E_API_INVALID_REQUEST.en) };
    if (r.access !== 'public' || r.authenticates === true) {
      responses['401'] = errorResponse(API_ERROR_CODES.E_API_UNAUTHENTICATED.en);
      responses['429'] = errorResponse(API_ERROR_CODES.E_API_RATE_LIMITED.en);
    }
    if (r.access !== 'public') responses['403'] = errorResponse(API_ERROR_CODES.E_API_FORBIDDEN.en);
    (paths[r.path] ??= {})[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      'x-required-role': r.access,
      ...(r.access === 'public' ? { security: [] } : {}),
      parameters: [...parameters(components, r.params, 'path'), ...parameters(components, r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: components.convert(r.body, 'input') } } } } : {}),
      responses,
    };
  }
  const done = components.finish(paths);
  return {
    openapi: '3.1.0',
    info,
    components: {
      schemas: done.schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API token (itorg_…); roles viewer < analyst < admin' },
        cookie: { type: 'apiKey', in: 'cookie', name: TOKEN_COOKIE, description: 'Set by POST /api/v1/session; GET requests only' },
      },
    },
    security: [{ bearer: [] }, { cookie: [] }],
    paths: done.doc,
  };
}

// ---------------------------------------------------------------------------------------------

export async function listen(app: express.Express, port: number, host: string): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr !== null ? addr.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Constant used by the session route: a cookie value is a token, so it is as secret as one. */
export function sessionCookie(token: string, maxAgeS: number, secure: boolean): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

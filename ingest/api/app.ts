/**
 * The HTTP API and pages (express 5): authentication, roles, validation and the OpenAPI document,
 * driven by the route table (ingest/api/route.ts).
 *
 * Authentication: `Authorization: Bearer <token>`; for GET requests also the `itorg_token` cookie,
 * which the live page sets through POST /api/v1/session so that EventSource (which cannot send
 * headers) works. The cookie is HttpOnly and SameSite=Strict, and never accepted for a request that
 * changes anything, so a cross-site form cannot use it (no CSRF surface).
 *
 * Failed authentications are rate-limited per client address (express-rate-limit counting only the
 * requests that ended in 401). Tokens and Authorization headers are never logged.
 */
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
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
  routes: readonly AnyRoute[];
  tokens: TokenStore;
  logger: Logger;
  /** Failed authentications allowed per address per window before 429 (default 20 per 15 min). */
  authFailureLimit?: { max: number; windowMs: number };
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
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function presentedToken(req: Request): string | undefined {
  const auth = req.get('authorization');
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    return m ? m[1] : '';
  }
  return req.method === 'GET' ? cookieToken(req) : undefined;
}

export function sendError(res: Response, err: ApiError, lang: Lang): void {
  const body: z.infer<typeof apiErrorBodySchema> = {
    error: { code: err.code, message: err.texts[lang], retriable: err.retriable, ...(err.detail !== undefined ? { detail: err.detail } : {}) },
  };
  if (err.status === 503 || err.status === 429) res.set('Retry-After', '30');
  res.status(err.status).json(body);
}

/** Domain errors that cross the API with their own code and texts. */
export function toApiError(err: unknown): ApiError | null {
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
  // Behind a reverse proxy set `trust proxy` in deployment so the limiter sees client addresses.
  app.use(express.json({ limit: '1mb' }));
  app.use((req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });

  const limit = opts.authFailureLimit ?? { max: 20, windowMs: 15 * 60_000 };
  const authLimiter = rateLimit({
    windowMs: limit.windowMs,
    limit: limit.max,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Count only failed authentications: a wall screen polling all day must never be limited.
    requestWasSuccessful: (_req, res) => res.statusCode !== 401,
    skipSuccessfulRequests: true,
    handler: (req, res) => sendError(res, ApiError.of('E_API_RATE_LIMITED'), langOf(req)),
  });

  opts.mount?.(app);

  for (const route of opts.routes) {
    const handlers: express.RequestHandler[] = [];
    // Every route: the limiter only counts requests that ended in 401 (public POST /api/v1/session too).
    handlers.push(authLimiter);
    handlers.push(async (req, res) => {
      const lang = langOf(req);
      try {
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
        const query = parse(route.query, { ...(req.query as Record<string, unknown>) }, 'query');
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
          if (apiErr.status >= 500) log.warn({ code: apiErr.code, route: route.path }, 'API request failed');
          sendError(res, apiErr, lang);
        } else {
          log.error({ err, route: `${route.method} ${route.path}` }, 'API handler failed');
          if (!res.headersSent) sendError(res, ApiError.of('E_API_INTERNAL'), lang);
          else res.end();
        }
      }
    });
    app[route.method](expressPath(route.path), ...handlers);
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

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete s['$schema'];
  return s;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input');
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
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: jsonSchema(apiErrorBodySchema, 'output') } } });
  for (const r of routes) {
    const ok = isRawResponse(r.response)
      ? { description: r.response.description, content: { [r.response.contentType]: { schema: { type: 'string' } } } }
      : {
          description: 'OK',
          content: {
            'application/json': { schema: jsonSchema(r.response, 'output') },
            ...Object.fromEntries((r.alsoProduces ?? []).map((ct) => [ct, { schema: { type: 'string' } }])),
          },
        };
    const responses: Record<string, unknown> = { [String(r.status ?? 200)]: ok, '400': errorResponse(API_ERROR_CODES.E_API_INVALID_REQUEST.en) };
    if (r.access !== 'public') {
      responses['401'] = errorResponse(API_ERROR_CODES.E_API_UNAUTHENTICATED.en);
      responses['403'] = errorResponse(API_ERROR_CODES.E_API_FORBIDDEN.en);
      responses['429'] = errorResponse(API_ERROR_CODES.E_API_RATE_LIMITED.en);
    }
    (paths[r.path] ??= {})[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      'x-required-role': r.access,
      ...(r.access === 'public' ? { security: [] } : {}),
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API token (itorg_…); roles viewer < analyst < admin' },
        cookie: { type: 'apiKey', in: 'cookie', name: TOKEN_COOKIE, description: 'Set by POST /api/v1/session; GET requests only' },
      },
    },
    security: [{ bearer: [] }, { cookie: [] }],
    paths,
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

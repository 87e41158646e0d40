/**
 * "Every API route refuses a missing token and a wrong role" (issue 4, Tests), driven by the route
 * table itself so a route added later is checked without anyone listing it.
 *
 * For each non-public route: no token → 401 E_API_UNAUTHENTICATED; a token of every role below the
 * required one → 403 E_API_FORBIDDEN; and, for the methods in `allowedMethods` (GET by default: it
 * changes nothing), the required role is let through (neither 401, 403 nor 429). Path parameters
 * are filled with a dummy that the route's own params schema accepts, so the request reaches the
 * authorization step of the real route instead of a 404 from express.
 *
 * Start the app with a high `authFailureLimit`: this sends one failed authentication per route.
 */
import { z } from 'zod';
import { ROLES, roleAllows, type AnyRoute, type Role } from '../../../ingest/api/route.ts';

export interface RouteMatrixOptions {
  baseUrl: string;
  routes: readonly AnyRoute[];
  tokens: Record<Role, string>;
  /** Dummy values by parameter name, tried before the built-in candidates. */
  dummies?: Record<string, string>;
  /** Methods for which the required role is sent too (default GET only). */
  allowedMethods?: readonly AnyRoute['method'][];
  /** Per request (default 10 s); routes that compute on request (recommendations over weeks) need more. */
  timeoutMs?: number;
}

export interface MatrixCheck {
  route: string;
  as: Role | 'no token';
  expected: string;
  status: number;
  code: string | undefined;
  ok: boolean;
}

/** Candidates covering the id shapes of the route table: slugs, token ids, DevEUIs, UUIDs, numbers. */
const CANDIDATES = [
  'asker-sentrum',
  'aaaaaaaaaaaa',
  '0123456789abcdef',
  '00000000-0000-4000-8000-000000000000',
  'gw-1',
  '1',
  'a',
];

export function dummyPath(route: AnyRoute, dummies: Record<string, string> = {}): string {
  const names = [...route.path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!);
  const shape = route.params instanceof z.ZodObject ? (route.params.shape as Record<string, z.ZodType>) : {};
  let path = route.path;
  for (const name of names) {
    const schema = shape[name];
    const tries = [...(dummies[name] !== undefined ? [dummies[name]] : []), ...CANDIDATES];
    const value = schema ? tries.find((v) => schema.safeParse(v).success) : tries[0];
    if (value === undefined) throw new Error(`${route.method.toUpperCase()} ${route.path}: no dummy value fits path parameter "${name}"; pass one in dummies`);
    path = path.replace(`{${name}}`, encodeURIComponent(value));
  }
  return path;
}

async function send(baseUrl: string, route: AnyRoute, path: string, token: string | undefined, timeoutMs = 10_000): Promise<{ status: number; code: string | undefined }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const hasBody = route.method !== 'get' && route.method !== 'delete';
  if (hasBody) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, baseUrl), { method: route.method.toUpperCase(), headers, ...(hasBody ? { body: '{}' } : {}), signal: AbortSignal.timeout(timeoutMs) });
  let code: string | undefined;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) {
    const parsed = z.object({ error: z.object({ code: z.string() }) }).safeParse(await res.json().catch(() => null));
    code = parsed.success ? parsed.data.error.code : undefined;
  } else {
    // A stream (text/event-stream) stays open: headers are all this check needs.
    await res.body?.cancel();
  }
  return { status: res.status, code };
}

export async function checkRouteMatrix(opts: RouteMatrixOptions): Promise<{ checks: MatrixCheck[]; failures: MatrixCheck[]; publicRoutes: string[] }> {
  const checks: MatrixCheck[] = [];
  const publicRoutes: string[] = [];
  const allowed = opts.allowedMethods ?? ['get'];
  for (const route of opts.routes) {
    const name = `${route.method.toUpperCase()} ${route.path}`;
    if (route.access === 'public') {
      publicRoutes.push(name);
      continue;
    }
    const path = dummyPath(route, opts.dummies);
    const none = await send(opts.baseUrl, route, path, undefined, opts.timeoutMs);
    checks.push({ route: name, as: 'no token', expected: '401 E_API_UNAUTHENTICATED', ...none, ok: none.status === 401 && none.code === 'E_API_UNAUTHENTICATED' });
    for (const role of ROLES) {
      const token = opts.tokens[role];
      if (!roleAllows(role, route.access)) {
        const r = await send(opts.baseUrl, route, path, token, opts.timeoutMs);
        checks.push({ route: name, as: role, expected: '403 E_API_FORBIDDEN', ...r, ok: r.status === 403 && r.code === 'E_API_FORBIDDEN' });
      } else if (role === route.access && allowed.includes(route.method)) {
        const r = await send(opts.baseUrl, route, path, token, opts.timeoutMs);
        checks.push({ route: name, as: role, expected: 'not 401/403/429', ...r, ok: r.status !== 401 && r.status !== 403 && r.status !== 429 });
      }
    }
  }
  return { checks, failures: checks.filter((c) => !c.ok), publicRoutes };
}

/**
 * One route table for the HTTP API (issue 4 "HTTP API"): every route declares its method, path,
 * the role it needs, and zod schemas for params, query, body and response. The same table mounts the
 * routes on express (validating input, checking the role, validating output) and generates the
 * OpenAPI document served at `/openapi.json`, so the document cannot drift from what is served, and
 * the test "every route refuses a missing token and a wrong role" iterates the table instead of a
 * hand-kept list.
 *
 * Feature modules (registry, provisioning, live state, metrics, reports) each export an array of
 * routes built with `defineRoute`; the composition root concatenates them.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';

export const ROLES = ['viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/**
 * viewer: facility staff, live data. analyst: prosjektleder, indicators and reports (and live data).
 * admin: provisioning, config, tokens (and everything else). Each role includes the ones before it.
 */
const RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };
export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}
/** `public`: no token (the citizens' "hvor travelt er det nå?" endpoint, the OpenAPI document). */
export type Access = Role | 'public';

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export type Lang = 'nb' | 'en';

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Null only on public routes. */
  principal: Principal | null;
  /** From `?lang=` or Accept-Language; bokmål unless English is asked for. */
  lang: Lang;
  req: Request;
  res: Response;
}

/** Returned by a handler that wrote the response itself (Server-Sent Events, CSV, HTML). */
export const HANDLED: unique symbol = Symbol('handled');
export type Handled = typeof HANDLED;

/** A response that is not JSON: documented by content type only. */
export interface RawResponseSpec {
  contentType: string;
  description: string;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> {
  method: Method;
  /** OpenAPI style: `/api/v1/devices/{id}`. */
  path: string;
  access: Access;
  /**
   * A public route that checks a credential itself (POST /api/v1/session): refused with 429 while
   * the client address is over its limit of failed authentications, like every non-public route.
   */
  authenticates?: boolean;
  summary: string;
  /** OpenAPI tag (groups routes in the document). */
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** A zod schema for a JSON body, or a raw content type (text/event-stream, text/csv, text/html). */
  response: R | RawResponseSpec;
  /** Success status; default 200. */
  status?: number;
  /** Extra content types the route can also answer with (e.g. `text/csv` via `?format=csv`). */
  alsoProduces?: string[];
  handler: (ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>) => Promise<z.input<R> | Handled> | z.input<R> | Handled;
}

/** A route with its types erased, for tables that mix routes. */
export type AnyRoute = Omit<RouteSpec<z.ZodType, z.ZodType, z.ZodType, z.ZodType>, 'handler'> & {
  handler: (ctx: RouteContext<unknown, unknown, unknown>) => Promise<unknown> | unknown;
};

export function defineRoute<
  P extends z.ZodType = z.ZodType<Record<string, never>>,
  Q extends z.ZodType = z.ZodType<Record<string, never>>,
  B extends z.ZodType = z.ZodType<undefined>,
  R extends z.ZodType = z.ZodType,
>(spec: RouteSpec<P, Q, B, R>): AnyRoute {
  return spec as unknown as AnyRoute;
}

export function isRawResponse(r: z.ZodType | RawResponseSpec): r is RawResponseSpec {
  return !(r instanceof z.ZodType);
}

/** `/api/v1/devices/{id}` → `/api/v1/devices/:id` (express 5 / path-to-regexp 8 syntax). */
export function expressPath(openApiPath: string): string {
  return openApiPath.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

// ---------------------------------------------------------------------------------------------
// Errors

export const API_ERROR_CODES = {
  E_API_UNAUTHENTICATED: { status: 401, retriable: false, en: 'a valid API token is required', nb: 'et gyldig API-token kreves' },
  E_API_FORBIDDEN: { status: 403, retriable: false, en: 'the token does not have the role this needs', nb: 'tokenet har ikke rollen som kreves' },
  E_API_RATE_LIMITED: { status: 429, retriable: true, en: 'too many failed sign-ins from this address; wait and try again', nb: 'for mange mislykkede innlogginger fra denne adressen; vent og prøv igjen' },
  E_API_TOO_MANY_STREAMS: {
    status: 429,
    retriable: true,
    en: 'this token has too many live streams open; close other tabs or screens using it, and try again',
    nb: 'dette tokenet har for mange åpne direktestrømmer; lukk andre faner eller skjermer som bruker det, og prøv igjen',
  },
  E_API_INVALID_REQUEST: { status: 400, retriable: false, en: 'the request does not match the API schema', nb: 'forespørselen følger ikke API-skjemaet' },
  E_API_NOT_FOUND: { status: 404, retriable: false, en: 'not found', nb: 'finnes ikke' },
  E_API_CONFLICT: { status: 409, retriable: false, en: 'the request conflicts with the current state', nb: 'forespørselen er i konflikt med gjeldende tilstand' },
  E_API_UNAVAILABLE: { status: 503, retriable: true, en: 'a store the API needs is unavailable; try again', nb: 'et lager API-et trenger er utilgjengelig; prøv igjen' },
  E_API_INTERNAL: { status: 500, retriable: true, en: 'internal error (logged)', nb: 'intern feil (logget)' },
} as const satisfies Record<string, { status: number; retriable: boolean; en: string; nb: string }>;
export type ApiErrorCode = keyof typeof API_ERROR_CODES;

/**
 * An error a handler throws to answer with a status and a stable code. `code` may also be a
 * domain code (E_REGISTRY_…, E_PROVISION_…) with its own texts, carried through unchanged.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly texts: { en: string; nb: string },
    readonly retriable: boolean,
    readonly detail?: unknown,
  ) {
    super(`${code}: ${texts.en}`);
    this.name = 'ApiError';
  }
  static of(code: ApiErrorCode, detail?: unknown): ApiError {
    const c = API_ERROR_CODES[code];
    return new ApiError(c.status, code, { en: c.en, nb: c.nb }, c.retriable, detail);
  }
}

export const apiErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      retriable: z.boolean(),
      detail: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ApiErrorBody = z.infer<typeof apiErrorBodySchema>;

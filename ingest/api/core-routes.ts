/**
 * Routes of the API itself: sessions for the live page, who am I, and API tokens (admin).
 */
import { z } from 'zod';
import { ApiError, ROLES, defineRoute, type AnyRoute } from './route.ts';
import { sessionCookie, TOKEN_COOKIE } from './app.ts';
import { tokenCreateSchema, tokenRecordSchema, type TokenStore } from './token-store.ts';

const whoamiSchema = z.object({ tokenId: z.string(), name: z.string(), role: z.enum(ROLES) }).meta({ id: 'Principal' });

export function coreRoutes(deps: { tokens: TokenStore; secureCookies: boolean; sessionMaxAgeS?: number }): AnyRoute[] {
  const maxAge = deps.sessionMaxAgeS ?? 12 * 3600;
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/session',
      access: 'public',
      authenticates: true,
      tag: 'auth',
      summary: 'Sign in to the live page: exchanges an API token for an HttpOnly cookie (GET requests only)',
      body: z.object({ token: z.string().min(1).max(200) }).strict(),
      response: whoamiSchema,
      handler: async ({ body, res }) => {
        const p = await deps.tokens.verify(body.token);
        if (!p) throw ApiError.of('E_API_UNAUTHENTICATED');
        res.setHeader('Set-Cookie', sessionCookie(body.token, maxAge, deps.secureCookies));
        return p;
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/v1/session',
      access: 'public',
      tag: 'auth',
      summary: 'Sign out of the live page (clears the cookie)',
      response: z.object({ ok: z.literal(true) }),
      handler: ({ res }) => {
        res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
        return { ok: true as const };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/whoami',
      access: 'viewer',
      tag: 'auth',
      summary: 'The token presented: its name and role',
      response: whoamiSchema,
      handler: ({ principal }) => principal!,
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/tokens',
      access: 'admin',
      tag: 'auth',
      summary: 'API tokens (never their secrets)',
      response: z.object({ tokens: z.array(tokenRecordSchema) }),
      handler: async () => ({ tokens: await deps.tokens.list() }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/tokens',
      access: 'admin',
      tag: 'auth',
      summary: 'Create an API token; the plaintext is in this response only',
      status: 201,
      body: tokenCreateSchema,
      response: z.object({ token: z.string(), record: tokenRecordSchema }),
      handler: ({ body }) => deps.tokens.create(body),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/v1/tokens/{id}',
      access: 'admin',
      tag: 'auth',
      summary: 'Revoke an API token (idempotent)',
      params: z.object({ id: z.string().regex(/^[a-z2-7]{12}$/) }),
      response: z.object({ revoked: z.literal(true) }),
      handler: async ({ params }) => {
        if (!(await deps.tokens.revoke(params.id))) throw ApiError.of('E_API_NOT_FOUND', { token: params.id });
        return { revoked: true as const };
      },
    }),
  ];
}

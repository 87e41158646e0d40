/**
 * Security review of the API framework (ingest/api/app.ts): inputs an attacker controls that must end
 * in the API's own refusals, counted by the failed-authentication limiter, never in a 500.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestApi, type TestApi } from './api-server.ts';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const errorBody = z.object({ error: z.object({ code: z.string() }) });

describe('session cookie from an attacker', () => {
  it('a cookie value that is not valid percent-encoding is an unauthenticated request (401), counted by the limiter', async () => {
    api = await startTestApi({ authFailureLimit: { max: 2, windowMs: 60_000 } });
    // `%E0%A4%A` is a truncated UTF-8 escape: decodeURIComponent throws URIError on it (ECMA-262 §19.2.6.2).
    const bad = { cookie: 'itorg_token=%E0%A4%A' };
    const first = await fetch(`${api.url}/api/v1/whoami`, { headers: bad });
    expect(first.status).toBe(401);
    expect(errorBody.parse(await first.json()).error.code).toBe('E_API_UNAUTHENTICATED');
    expect((await fetch(`${api.url}/api/v1/whoami`, { headers: bad })).status).toBe(401);
    // Two failures reached max = 2: the address is refused, even with a valid token, until the window ends.
    const third = await fetch(`${api.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${api.tokens.viewer}` } });
    expect(third.status).toBe(429);
    // Nothing was logged as an internal error.
    expect(api.logs.filter((l) => l.includes('API handler failed'))).toEqual([]);
  });
});

/**
 * Security review of the live routes (dashboards/live/live-routes.ts): an open Server-Sent Events
 * stream must not outlive the token it was opened with. A wall screen keeps its stream open all day,
 * so a token an admin revokes (a lost tablet) would otherwise keep receiving live data until the
 * connection happens to drop.
 */
import { describe, expect, it } from 'vitest';
import { liveRoutes } from '../../../dashboards/live/live-routes.ts';
import { startTestApi } from '../../ingest/api/api-server.ts';
import { clockedService, testTorg } from './live-fixture.ts';

/** Reads the stream until `until` holds for the text so far, or the stream ends; returns both. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, until: (text: string) => boolean): Promise<{ text: string; ended: boolean }> {
  const dec = new TextDecoder();
  let text = '';
  for (;;) {
    const r = await reader.read();
    if (r.done) return { text, ended: true };
    text += dec.decode(r.value, { stream: true });
    if (until(text)) return { text, ended: false };
  }
}

describe('GET /api/v1/live/stream after the token is revoked', () => {
  it('ends the open stream at the next heartbeat, and the reconnect is refused (401)', { timeout: 20_000 }, async () => {
    const { service } = clockedService([testTorg({ alwaysOpen: true })], { now: Date.parse('2026-11-24T10:00:00Z') }, () => Promise.reject(new Error('not queried')));
    const api = await startTestApi({ extraRoutes: (store) => liveRoutes({ live: service, tokens: store, heartbeatMs: 50 }) });
    try {
      const headers = { authorization: `Bearer ${api.tokens.viewer}`, accept: 'text/event-stream' };
      const res = await fetch(`${api.url}/api/v1/live/stream`, { headers });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const first = await readUntil(reader, (t) => t.includes('event: snapshot') && t.includes(': heartbeat'));
      expect(first.ended).toBe(false);

      // The token's id is the part between `itorg_` and the secret (ingest/api/token-store.ts).
      const id = /^itorg_([a-z2-7]{12})_/.exec(api.tokens.viewer)![1]!;
      expect(await api.store.revoke(id)).toBe(true);
      const rest = await readUntil(reader, () => false);
      expect(rest.ended).toBe(true);
      expect((await fetch(`${api.url}/api/v1/live/stream`, { headers })).status).toBe(401);
    } finally {
      await api.close();
    }
  });
});

describe('GET /api/v1/live/stream: streams per token', () => {
  it('refuses a token its streams beyond the per-token limit (429), leaving other tokens and a closed stream’s slot free', { timeout: 20_000 }, async () => {
    const { service } = clockedService([testTorg({ alwaysOpen: true })], { now: Date.parse('2026-11-24T10:00:00Z') }, () => Promise.reject(new Error('not queried')));
    const api = await startTestApi({ extraRoutes: (store) => liveRoutes({ live: service, tokens: store, maxStreams: 10, maxStreamsPerToken: 2 }) });
    const open: AbortController[] = [];
    const stream = async (token: string): Promise<Response> => {
      const abort = new AbortController();
      open.push(abort);
      return fetch(`${api.url}/api/v1/live/stream`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal });
    };
    try {
      expect((await stream(api.tokens.viewer)).status).toBe(200);
      expect((await stream(api.tokens.viewer)).status).toBe(200);
      const third = await stream(api.tokens.viewer);
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).not.toBeNull();
      expect(await third.json()).toMatchObject({ error: { code: 'E_API_TOO_MANY_STREAMS', retriable: true } });
      // Another token is not held back by the first one's streams.
      expect((await stream(api.tokens.analyst)).status).toBe(200);
      // A stream the client closes gives its slot back (the server sees the close asynchronously).
      open[0]!.abort();
      let again = await stream(api.tokens.viewer);
      for (let tries = 0; again.status === 429 && tries < 100; tries++) {
        await new Promise((r) => setTimeout(r, 20));
        again = await stream(api.tokens.viewer);
      }
      expect(again.status).toBe(200);
    } finally {
      for (const a of open) a.abort();
      await api.close();
    }
  });
});

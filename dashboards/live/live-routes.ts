/**
 * HTTP routes of the live state (issue 5 "API"): JSON for all torg and for one, a Server-Sent Events
 * stream of changes, the alerts, and the citizens' public "hvor travelt er det nå?".
 *
 * SSE follows the WHATWG HTML Living Standard §9.2 "Server-sent events": `retry:` sets the browser's
 * reconnection delay, a line starting with `:` is a comment (the heartbeat, which keeps proxies from
 * closing an idle connection), `event:` names the event, `data:` carries one line of JSON.
 */
import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { Counter, Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import { slugSchema } from '../../devices/contract/reading.schema.ts';
import { openingStatus } from '../../devices/torg/opening-hours.ts';
import { presentedToken } from '../../ingest/api/app.ts';
import { ApiError, HANDLED, defineRoute, type AnyRoute } from '../../ingest/api/route.ts';
import type { TokenStore } from '../../ingest/api/token-store.ts';
import { busyBand, UsualBusy } from './busy-history.ts';
import type { AlertsView } from './live-state.ts';
import type { LiveService } from './live-service.ts';
import { liveAlertSchema, liveOverviewSchema, publicBusySchema, torgLiveSchema, type LiveChange, type PublicBusy } from './live.schema.ts';

export interface LiveRoutesDeps {
  live: LiveService;
  alerts?: AlertsView;
  /** Default: built from the service's InfluxDB query and torg. */
  usual?: UsualBusy;
  registry?: Registry;
  /** Heartbeat comment interval; default 15 s. */
  heartbeatMs?: number;
  /** Bytes a client may have unsent before it is disconnected; default 1 MiB (a few hundred changes). */
  maxBufferedBytes?: number;
  /** Concurrent SSE connections; beyond it 503. Default 500. */
  maxStreams?: number;
  /**
   * Concurrent SSE connections of one API token; beyond it 429. Default 50: wall screens and staff
   * tabs sharing a token, well under `maxStreams`, so one leaked or looping token cannot take every
   * stream from the others.
   */
  maxStreamsPerToken?: number;
  /** How long one public busy answer is reused; default 15 s. */
  publicCacheMs?: number;
  /** Browser reconnection delay sent as `retry:`; default 5 s. */
  retryMs?: number;
  /**
   * When given, an open stream's token is verified again at every heartbeat and the stream ended once
   * it is revoked or expired: the route's role check runs only when the stream opens, and a wall
   * screen's stream stays open all day. The browser's reconnect then gets 401, and EventSource does
   * not retry a non-200 answer (HTML Living Standard §9.2.3).
   */
  tokens?: Pick<TokenStore, 'verify'>;
}

const torgParams = z.object({ torg: slugSchema });
const streamQuery = z.object({ torg: slugSchema.optional() }).strict();
const alertsSchema = z.object({ alerts: z.array(liveAlertSchema) }).meta({ id: 'LiveAlerts' });

/** Public answers: cached by browsers and the municipality's CDN for a minute. */
const PUBLIC_CACHE_CONTROL = 'public, max-age=60';

function sseFrame(event: string, data: unknown): string {
  // JSON.stringify never emits a raw newline, so one `data:` line carries the whole value.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function liveRoutes(deps: LiveRoutesDeps): AnyRoute[] {
  const { live } = deps;
  const usual = deps.usual ?? new UsualBusy({ query: live.query, torgs: live.torgs });
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const maxBuffered = deps.maxBufferedBytes ?? 1024 * 1024;
  const maxStreams = deps.maxStreams ?? 500;
  const maxPerToken = deps.maxStreamsPerToken ?? 50;
  /** Open streams by token id (principal.tokenId, never the token itself). */
  const perToken = new Map<string, number>();
  const registers = deps.registry ? [deps.registry] : [];
  const metrics = {
    streams: new Gauge({ name: 'live_sse_clients', help: 'Open live SSE connections', registers }),
    slowDropped: new Counter({ name: 'live_sse_slow_disconnects_total', help: 'SSE clients disconnected because their unsent data exceeded the bound', registers }),
    refused: new Counter({ name: 'live_sse_refused_total', help: 'SSE connections refused at the connection limit', registers }),
    refusedPerToken: new Counter({ name: 'live_sse_token_refused_total', help: 'SSE connections refused at the per-token connection limit', registers }),
  };
  let streams = 0;

  const refreshUsual = () => {
    const now = live.now();
    if (!usual.due(now)) return;
    usual.refresh(now).catch((err: unknown) => live.logger.warn({ err }, 'live: usual busy history could not be computed'));
  };

  let cached: { body: PublicBusy; etag: string; at: number } | null = null;
  const publicBusy = (): { body: PublicBusy; etag: string } => {
    const now = live.now();
    if (cached && now - cached.at < (deps.publicCacheMs ?? 15_000)) return cached;
    refreshUsual();
    const overview = live.overview();
    const torg = overview.torg.map((t) => {
      const cfg = live.torgs.find((c) => c.id === t.id)!;
      const open = openingStatus(cfg, now) !== 'closed';
      const people = t.occupancy.people;
      const usualPeople = open ? usual.usualPeople(t.id, now) : null;
      return {
        id: t.id,
        name: t.name,
        open,
        // Nothing rather than a guess: closed, or counters not fresh (live.schema.ts).
        now: open && t.occupancy.fresh && people !== null ? busyBand(people, t.occupancy.capacity) : null,
        usual: usualPeople !== null ? busyBand(usualPeople, t.occupancy.capacity) : null,
      };
    });
    // The ETag covers the bands only: a new generatedAt alone is not a new answer.
    const etag = `"${createHash('sha1').update(JSON.stringify(torg)).digest('base64url')}"`;
    cached = { body: { generatedAt: now, torg }, etag, at: now };
    return cached;
  };

  const sendPublic = (req: { get(h: string): string | undefined }, res: Response, body: PublicBusy, etag: string): PublicBusy | typeof HANDLED => {
    res.set('Cache-Control', PUBLIC_CACHE_CONTROL);
    res.set('ETag', etag);
    // The widget is embedded in the municipality's pages on another origin.
    res.set('Access-Control-Allow-Origin', '*');
    if (req.get('if-none-match') === etag) {
      res.status(304).end();
      return HANDLED;
    }
    return body;
  };

  const notFound = (torg: string) => ApiError.of('E_API_NOT_FOUND', { torg });

  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/live',
      access: 'viewer',
      tag: 'live',
      summary: 'Live state of every torg: occupancy, rooms, doors, climate, device health, alerts',
      response: liveOverviewSchema,
      handler: () => live.overview(),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/live/stream',
      access: 'viewer',
      tag: 'live',
      summary: 'Server-Sent Events: `snapshot` (LiveOverview) first, then `change` (LiveChange) per torg; `?torg=` limits to one',
      query: streamQuery,
      response: { contentType: 'text/event-stream', description: 'event: snapshot (LiveOverview), event: change (LiveChange), heartbeat comments' },
      handler: ({ query, req, res, principal }) => {
        if (query.torg !== undefined && !live.torgs.some((t) => t.id === query.torg)) throw notFound(query.torg);
        if (streams >= maxStreams) {
          metrics.refused.inc();
          throw ApiError.of('E_API_UNAVAILABLE', { reason: 'too many live streams' });
        }
        // The route wants a viewer token, so there is a principal; without one (a route table that
        // opened it to all) the global limit is the only one.
        const tokenId = principal?.tokenId;
        if (tokenId !== undefined && (perToken.get(tokenId) ?? 0) >= maxPerToken) {
          metrics.refusedPerToken.inc();
          throw ApiError.of('E_API_TOO_MANY_STREAMS', { limit: maxPerToken });
        }
        streams++;
        if (tokenId !== undefined) perToken.set(tokenId, (perToken.get(tokenId) ?? 0) + 1);
        metrics.streams.set(streams);
        res.status(200);
        res.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
        res.flushHeaders();
        let done = false;
        const end = () => {
          if (done) return;
          done = true;
          streams--;
          if (tokenId !== undefined) {
            const left = (perToken.get(tokenId) ?? 1) - 1;
            if (left > 0) perToken.set(tokenId, left);
            else perToken.delete(tokenId);
          }
          metrics.streams.set(streams);
          unsubscribe();
          clearInterval(heartbeat);
        };
        // A client that does not read (a sleeping tablet) would make us buffer without limit: past
        // the bound it is disconnected and reconnects itself (EventSource), starting from a snapshot.
        const write = (chunk: string) => {
          if (done) return;
          res.write(chunk);
          if (res.writableLength > maxBuffered) {
            metrics.slowDropped.inc();
            end();
            res.destroy();
          }
        };
        const unsubscribe = live.onChange((c: LiveChange) => {
          if (query.torg === undefined || c.torg.id === query.torg) write(sseFrame('change', c));
        });
        let checking = false;
        const recheck = (tokens: Pick<TokenStore, 'verify'>) => {
          if (checking || done) return;
          checking = true;
          tokens
            .verify(presentedToken(req) ?? '')
            .then(
              (p) => {
                if (p === null && !done) {
                  end();
                  res.end();
                }
              },
              // A token store that cannot answer now is not a revocation; the next heartbeat asks again.
              (err: unknown) => live.logger.warn({ err }, 'live: stream token could not be re-verified'),
            )
            .finally(() => (checking = false));
        };
        const heartbeat = setInterval(() => {
          write(': heartbeat\n\n');
          if (deps.tokens) recheck(deps.tokens);
        }, heartbeatMs);
        req.on('close', end);
        const overview = live.overview();
        write(`retry: ${deps.retryMs ?? 5_000}\n\n`);
        write(sseFrame('snapshot', query.torg === undefined ? overview : { ...overview, torg: overview.torg.filter((t) => t.id === query.torg) }));
        return HANDLED;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/live/{torg}',
      access: 'viewer',
      tag: 'live',
      summary: 'Live state of one torg',
      params: torgParams,
      response: torgLiveSchema,
      handler: ({ params }) => {
        const t = live.torg(params.torg);
        if (!t) throw notFound(params.torg);
        return t;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/alerts',
      access: 'viewer',
      tag: 'live',
      summary: 'Active alerts of every torg',
      response: alertsSchema,
      handler: () => ({ alerts: deps.alerts?.activeAlerts() ?? [] }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/public/busy',
      access: 'public',
      tag: 'public',
      summary: 'Hvor travelt er det nå? Coarse busy bands per torg, now and usually at this hour; never counts',
      response: publicBusySchema,
      handler: ({ req, res }) => {
        const { body, etag } = publicBusy();
        return sendPublic(req, res, body, etag);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/public/busy/{torg}',
      access: 'public',
      tag: 'public',
      summary: 'Hvor travelt er det nå? for one torg',
      params: torgParams,
      response: publicBusySchema,
      handler: ({ params, req, res }) => {
        const { body } = publicBusy();
        const one = body.torg.filter((t) => t.id === params.torg);
        if (one.length === 0) throw notFound(params.torg);
        const etag = `"${createHash('sha1').update(JSON.stringify(one)).digest('base64url')}"`;
        return sendPublic(req, res, { generatedAt: body.generatedAt, torg: one }, etag);
      },
    }),
  ];
}

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookingsConfigSchema, loadBookingsConfig, loadedBookingsSchema } from '../../../dashboards/bookings/bookings.schema.ts';
import type { FeedCache } from '../../../dashboards/bookings/feed-reader.ts';
import { loadBookings } from '../../../dashboards/bookings/load-bookings.ts';

const fixturesDir = fileURLToPath(new URL('../../fixtures/ics/', import.meta.url));
const skogenIcs = readFileSync(`${fixturesDir}moterom-skogen.ics`, 'utf8');
const period = { fromMs: Date.parse('2026-10-19T22:00:00Z'), toMs: Date.parse('2026-10-20T22:00:00Z') };

let server: Server;
let base = '';
let skogenMode: 'ok' | 'fail' = 'ok';
const skogenRequests: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/skogen.ics') {
      skogenRequests.push(req.headers);
      if (skogenMode === 'fail') {
        res.writeHead(503).end();
        return;
      }
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/calendar', etag: '"v1"', 'last-modified': 'Tue, 20 Oct 2026 06:00:00 GMT' }).end(skogenIcs);
    } else if (req.url === '/big.ics') {
      // Chunked without Content-Length: only the streaming limit can stop it.
      res.writeHead(200, { 'content-type': 'text/calendar' });
      res.write('BEGIN:VCALENDAR\r\n');
      res.end('X-PAD:' + 'x'.repeat(4000) + '\r\nEND:VCALENDAR\r\n');
    } else if (req.url === '/slow.ics') {
      // Never answers: the client's timeout has to end it.
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('loadBookings', () => {
  const config = () =>
    bookingsConfigSchema.parse({
      version: 1,
      feeds: {
        'asker-sentrum': { fjorden: 'moterom-fjorden.ics', skogen: `${base}/skogen.ics`, junk: 'not-a-calendar.ics' },
        heggedal: { missing: 'does-not-exist.ics', slow: `${base}/slow.ics`, big: `${base}/big.ics` },
      },
      localGroups: { field: 'organizer', values: ['Frivilligsentralen', 'Asker Sjakklubb'] },
      fetch: { timeoutMs: 500, maxBytes: 2048 },
    });
  const cache: FeedCache = new Map();

  it('loads good feeds and reports each bad one with its room, without stopping the others', async () => {
    const r = await loadBookings(config(), period, { cache, baseDir: fixturesDir });
    expect(loadedBookingsSchema.safeParse(r).success).toBe(true);
    // 2026-10-20: fjorden's weekly 10:00 CEST = 08:00Z; skogen 12:00Z (UTC in the feed).
    expect(r.slots.map((s) => [s.zone, new Date(s.startMs).toISOString(), new Date(s.endMs).toISOString(), s.bookingCategories])).toEqual([
      ['fjorden', '2026-10-20T08:00:00.000Z', '2026-10-20T10:00:00.000Z', ['lokal-gruppe']],
      ['skogen', '2026-10-20T12:00:00.000Z', '2026-10-20T13:00:00.000Z', ['lokal-gruppe']],
    ]);
    const errs = Object.fromEntries(r.errors.map((e) => [`${e.torg}/${e.zone}`, e]));
    expect(Object.keys(errs).sort()).toEqual(['asker-sentrum/junk', 'heggedal/big', 'heggedal/missing', 'heggedal/slow']);
    expect(errs['asker-sentrum/junk']).toMatchObject({ code: 'E_BOOKING_FEED_INVALID', retriable: false, servedFromCache: false });
    expect(errs['heggedal/missing']).toMatchObject({ code: 'E_BOOKING_FEED_UNAVAILABLE', retriable: true });
    expect(errs['heggedal/slow']!.message).toContain('500 ms');
    expect(errs['heggedal/big']!.message).toContain('2048 bytes');
    for (const e of r.errors) expect(e.message).toContain(`rom ${e.zone}`);
  });

  it('revalidates with If-None-Match / If-Modified-Since and reuses the cached body on 304', async () => {
    const before = skogenRequests.length;
    const r = await loadBookings(config(), period, { cache, baseDir: fixturesDir });
    const h = skogenRequests[before]!;
    expect(h['if-none-match']).toBe('"v1"');
    expect(h['if-modified-since']).toBe('Tue, 20 Oct 2026 06:00:00 GMT');
    expect(r.slots.filter((s) => s.zone === 'skogen')).toHaveLength(1);
  });

  it('serves the last good copy when a feed fails later, and says so', async () => {
    skogenMode = 'fail';
    try {
      const r = await loadBookings(config(), period, { cache, baseDir: fixturesDir });
      expect(r.slots.filter((s) => s.zone === 'skogen').map((s) => s.summary)).toEqual(['Leksehjelp']);
      expect(r.errors.find((e) => e.zone === 'skogen')).toMatchObject({ code: 'E_BOOKING_FEED_UNAVAILABLE', servedFromCache: true });
      expect(r.errors.find((e) => e.zone === 'skogen')!.message).toContain('HTTP 503');
    } finally {
      skogenMode = 'ok';
    }
  });

  it('rejects a config with an unknown key, naming it', () => {
    const r = bookingsConfigSchema.safeParse({ version: 1, feeds: {}, ghostMinute: 15 });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('ghostMinute');
  });
});

describe('config/bookings.sample.json', () => {
  it('parses, and its file feeds resolve against the config folder', async () => {
    const path = fileURLToPath(new URL('../../../config/bookings.sample.json', import.meta.url));
    const { config, baseDir } = loadBookingsConfig(path);
    expect(config.ghostMinutes).toBe(15);
    // Only the two file feeds; the URL one is an example address and is left out here.
    const files = { ...config, feeds: { 'asker-sentrum': Object.fromEntries(Object.entries(config.feeds['asker-sentrum'] ?? {}).filter(([, s]) => !s.startsWith('http'))) } };
    const r = await loadBookings(files, period, { cache: new Map(), baseDir });
    expect(r.errors).toEqual([]);
    expect(r.slots.map((s) => s.zone)).toEqual(['mote-1', 'mote-2']);
    expect(config.sample).toBe(true);
    expect(config.categories.map((c) => c.id)).toEqual(['lokal-gruppe', 'frivillighet', 'lokaldemokrati']);
    // 2026-10-20: styremøte (Lag og foreninger) in mote-1, leksehjelp (organiser Frivilligsentralen) in mote-2.
    expect(r.slots.map((s) => s.bookingCategories)).toEqual([['lokal-gruppe'], ['frivillighet']]);
    // Thu 2026-10-22 18:00–20:00 Oslo (CEST): the local committee's open meeting.
    const thu = await loadBookings(files, { fromMs: Date.parse('2026-10-21T22:00:00Z'), toMs: Date.parse('2026-10-22T22:00:00Z') }, { cache: new Map(), baseDir });
    expect(thu.slots.map((s) => [s.zone, new Date(s.startMs).toISOString(), new Date(s.endMs).toISOString(), s.bookingCategories])).toEqual([
      ['mote-2', '2026-10-22T16:00:00.000Z', '2026-10-22T18:00:00.000Z', ['lokaldemokrati']],
    ]);
  });
});

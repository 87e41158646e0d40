/**
 * The live page and widget against a fixture server that speaks the agreed API (live.schema.ts):
 * texts built from values (unit), the HTTP headers of serve.ts, and the page's rendering of stale,
 * unknown and banded values in Debian's Chromium. Expected texts are written out by hand from the
 * fixture values.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Response } from 'express';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveOverviewSchema, torgLiveSchema, type LiveOverview, type TorgLive } from '../../../dashboards/live/live.schema.ts';
import { age, seriesPath, since } from '../../../dashboards/live/web/client/format.ts';
import { en } from '../../../dashboards/live/web/client/i18n/en.ts';
import { nb } from '../../../dashboards/live/web/client/i18n/nb.ts';
import { buildLiveAssets } from '../../../dashboards/live/web/assets.ts';
import { LIVE_PAGE_CSP, mountLivePage } from '../../../dashboards/live/web/serve.ts';
import { parsePublicBusy, widgetLines } from '../../../dashboards/live/web/widget/widget.ts';

const NOW = Date.parse('2026-11-24T10:00:00Z'); // 11:00 Oslo
const MIN = 60_000;

describe('texts from values', () => {
  it('ages round down to whole minutes and switch to hours and days', () => {
    expect(age('nb', NOW - 59_999, NOW)).toBe('akkurat nå');
    expect(age('nb', NOW - 25 * MIN - 59_000, NOW)).toBe('for 25 min siden');
    expect(age('en', NOW - 25 * MIN, NOW)).toBe('25 min ago');
    expect(age('nb', NOW - 119 * MIN, NOW)).toBe('for 119 min siden');
    expect(age('nb', NOW - 3 * 60 * MIN, NOW)).toBe('for 3 t siden');
    expect(age('nb', NOW - 50 * 60 * MIN, NOW)).toBe('for 2 d siden');
  });

  it('"since" is an Oslo clock time today, with the day otherwise, and "ukjent" for null', () => {
    // 09:20Z is 10:20 in Oslo (UTC+1 in November).
    expect(since('nb', NOW - 40 * MIN, NOW)).toBe('siden 10:20');
    expect(since('en', NOW - 40 * MIN, NOW)).toBe('since 10:20');
    // 2026-11-23T22:30Z is Monday 23:30 in Oslo: a different Oslo day.
    expect(since('nb', Date.parse('2026-11-23T22:30:00Z'), NOW)).toMatch(/^siden man\.? 23\. nov\.? 23:30$/);
    expect(since('nb', null, NOW)).toBe('ukjent');
  });

  it('the day chart is a step line scaled to max(capacity, highest value)', () => {
    // x: 0..100 ms onto 0..100 px; y: 0..10 people onto 10..0 px.
    expect(seriesPath([[0, 0], [50, 10]], { width: 100, height: 10, now: 100, capacity: 10 })).toBe('M0.0,10.0 L50.0,10.0 L50.0,0.0 L100.0,0.0');
    // Highest value 20 above capacity 10: 20 is the top, 5 is three quarters down.
    expect(seriesPath([[0, 5], [100, 20]], { width: 100, height: 40, now: 100, capacity: 10 })).toBe('M0.0,30.0 L100.0,30.0 L100.0,0.0');
    expect(seriesPath([], { width: 100, height: 10, now: 100, capacity: 10 })).toBeNull();
  });

  it('both dictionaries have the same keys and no empty text', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(nb).sort());
    for (const v of [...Object.values(nb), ...Object.values(en)]) expect(v.trim()).not.toBe('');
  });

  it('the widget shows a band, "ingen data nå" when open without data, "stengt nå" when closed', () => {
    const base = { id: 'x', name: 'X torg', open: true, now: null, usual: null } as const;
    expect(widgetLines({ ...base, now: 'litt-travelt', usual: 'travelt' }, 'nb')).toEqual({ name: 'X torg', now: 'Litt travelt', band: 'litt-travelt', usual: 'Vanligvis travelt nå' });
    expect(widgetLines(base, 'nb')).toEqual({ name: 'X torg', now: 'Ingen data nå', band: null, usual: null });
    expect(widgetLines({ ...base, open: false }, 'en')).toEqual({ name: 'X torg', now: 'Closed now', band: null, usual: null });
    expect(widgetLines(undefined, 'nb').now).toBe('Ingen data nå');
    // A band the widget does not know is no data, not a guess; a malformed entry is dropped.
    expect(parsePublicBusy({ generatedAt: 1, torg: [{ id: 'a', name: 'A', open: true, now: 'kaos', usual: 'ledig' }, { id: 'b' }] })).toEqual({
      generatedAt: 1,
      torg: [{ id: 'a', name: 'A', open: true, now: null, usual: 'ledig' }],
    });
    expect(parsePublicBusy('nonsense')).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Fixture server

const alfa: TorgLive = torgLiveSchema.parse({
  id: 'alfa',
  name: 'Alfa innbyggertorg',
  openingStatus: 'staffed',
  occupancy: {
    people: 12,
    capacity: 50,
    visitsToday: 30,
    lines: [{ entrance: 'hoved', line: 'line-1', in: 30, out: 18, share: 1 }],
    driftToday: [{ at: NOW - 3 * 60 * MIN, cause: 'below_zero', size: 2 }],
    series: [
      [NOW - 120 * MIN, 5],
      [NOW - 60 * MIN, 12],
    ],
    at: NOW - MIN,
    fresh: true,
  },
  zones: [
    {
      id: 'mote-1', name: 'Møterom 1', module: 'møterom', capacity: 8, fireMax: 10, occupied: true, count: 3, since: NOW - 40 * MIN,
      climate: { temperature: 21.5, humidity: 40, co2: 1200, co2Band: 'act', at: NOW - 2 * MIN, fresh: true }, at: NOW - MIN, fresh: true,
    },
    {
      id: 'lobby', name: 'Lobby', module: 'innbyggerservice', capacity: 20, fireMax: 30, occupied: false, count: null, since: NOW - 90 * MIN,
      climate: { temperature: 20, humidity: 35, co2: 900, co2Band: 'watch', at: NOW - 25 * MIN, fresh: false }, at: NOW - 2 * MIN, fresh: true,
    },
    { id: 'lager', name: 'Lager', module: 'arbeidsplasser', capacity: 2, fireMax: 4, occupied: null, count: null, since: null, climate: null, at: null, fresh: false },
  ],
  doors: [{ device: 'd1', zone: 'mote-1', name: 'Dør møterom', open: true, since: NOW - 5 * MIN, at: NOW - 5 * MIN, fresh: true }],
  devices: [
    { device: 'dev-online', model: 'milesight-vs133', place: 'hoved/line-1', state: 'online', lastSeenAt: NOW - MIN, battery: null },
    { device: 'dev-offline', model: 'milesight-am307', place: 'lobby', state: 'offline', lastSeenAt: NOW - 3 * 60 * MIN, battery: 12 },
  ],
  alerts: [{ id: 'al-1', rule: 'co2', torg: 'alfa', subject: 'mote-1', severity: 'warning', since: NOW - 10 * MIN, message: { nb: 'CO₂ over 1000 ppm', en: 'CO₂ above 1000 ppm' } }],
});

const beta: TorgLive = torgLiveSchema.parse({
  id: 'beta',
  name: 'Beta innbyggertorg',
  openingStatus: 'meraapent',
  occupancy: { people: 9, capacity: 40, visitsToday: 11, lines: [], driftToday: [], series: [], at: NOW - 25 * MIN, fresh: false },
  zones: [],
  doors: [],
  devices: [],
  alerts: [],
});

let overview: LiveOverview = liveOverviewSchema.parse({ generatedAt: NOW, torg: [alfa, beta] });

let server: Server;
let base: string;
let browser: Browser | undefined;
const streams: Response[] = [];

beforeAll(async () => {
  const app = express();
  mountLivePage(app, { assets: buildLiveAssets() });
  app.get('/api/v1/whoami', (_req, res) => {
    res.json({ tokenId: 'aaaaaaaaaaaa', name: 'fixture', role: 'viewer' });
  });
  app.get('/api/v1/live/stream', (_req, res) => {
    res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    res.flushHeaders();
    // A short reconnection delay (HTML §9.2 `retry:`) keeps the reconnect test quick.
    res.write('retry: 200\n\n');
    res.write(`event: snapshot\ndata: ${JSON.stringify(overview)}\n\n`);
    streams.push(res);
  });
  app.get('/api/v1/public/busy', (_req, res) => {
    res.json({ generatedAt: NOW, torg: [] });
  });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (existsSync('/usr/bin/chromium')) browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  for (const s of streams) s.end();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('serve.ts headers', () => {
  it('serves the page with a strict CSP, content types and ETag revalidation', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(LIVE_PAGE_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    // No inline script or style for the CSP to refuse.
    expect(html).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|style=/);
    const etag = page.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${base}/`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);

    const js = await fetch(`${base}/assets/live.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // Gzipped for clients that accept it (fetch decompresses), the same bytes as the identity form.
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect(js.headers.get('vary')).toBe('Accept-Encoding');
    const plain = await fetch(`${base}/assets/live.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await js.text()).toBe(await plain.text());
    expect(js.headers.get('etag')).not.toBe(plain.headers.get('etag'));
    const css = await fetch(`${base}/assets/live.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('serves the widget cacheable and cross-origin, and lets pages elsewhere read the public endpoint', async () => {
    const w = await fetch(`${base}/widget.js`);
    expect(w.status).toBe(200);
    expect(w.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(w.headers.get('cache-control')).toBe('public, max-age=300');
    expect(w.headers.get('access-control-allow-origin')).toBe('*');
    expect(w.headers.get('set-cookie')).toBeNull();
    const pre = await fetch(`${base}/api/v1/public/busy`, { method: 'OPTIONS', headers: { origin: 'https://www.asker.kommune.no', 'access-control-request-method': 'GET' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    const busy = await fetch(`${base}/api/v1/public/busy`);
    expect(busy.headers.get('access-control-allow-origin')).toBe('*');
    const demo = await fetch(`${base}/widget-demo.html`);
    expect(demo.status).toBe(200);
    expect(await demo.text()).toContain('<script src="/widget.js" async></script>');
  });
});

describe.runIf(existsSync('/usr/bin/chromium'))('rendering in Chromium (fixture stream)', () => {
  it('marks stale values stale with their age, unknown as "ukjent", CO₂ bands in words', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${base}/`);
    await expect.poll(() => page.locator('article.card').count()).toBe(2);

    // Alfa: fresh, 12 people; Beta: 9 people last seen 25 min before generatedAt → stale, not current.
    expect(await page.getByTestId('people-alfa').textContent()).toBe('12');
    const betaPeople = page.getByTestId('people-beta');
    expect(await betaPeople.textContent()).toBe('9 utdatert · for 25 min siden');
    expect(await betaPeople.locator('.big').getAttribute('class')).toContain('stale');
    expect(await page.locator('article[data-torg="alfa"] .alerts').textContent()).toContain('CO₂ over 1000 ppm');
    expect(await page.locator('article[data-torg="beta"]').textContent()).toContain('Meråpent');

    await page.getByRole('link', { name: 'Vis Alfa innbyggertorg' }).click();
    await expect.poll(() => page.locator('.torg-page h1').textContent()).toBe('Alfa innbyggertorg');
    const rows = page.locator('section[aria-labelledby="rooms-h"] tbody tr');
    const cells = async (i: number) => (await rows.nth(i).locator('th, td').allTextContents()).map((s) => s.replace(/\u00a0|\u202f/g, ' '));
    // Møterom 1: occupied, 3 people, since 09:20Z = 10:20 Oslo, 1200 ppm → "Luft ut" (above 1000).
    expect(await cells(0)).toEqual(['Møterom 1', 'Opptatt', '3', 'siden 10:20', '21,5 °C', '40 %', '1 200 ppm Luft ut']);
    // Lobby: free since 08:30Z = 09:30 Oslo; its climate 25 min old → every climate value stale; 900 ppm → "Følg med".
    expect(await cells(1)).toEqual([
      'Lobby',
      'Ledig',
      '–',
      'siden 09:30',
      '20,0 °C utdatert · for 25 min siden',
      '35 % utdatert · for 25 min siden',
      '900 ppm utdatert · for 25 min siden Følg med',
    ]);
    // Lager: nothing known.
    expect(await cells(2)).toEqual(['Lager', 'ukjent', 'ukjent', 'ukjent', '–', '–', 'Ingen klimasensor']);
    const doors = await page.locator('section[aria-labelledby="doors-h"] tbody tr').first().locator('th, td').allTextContents();
    expect(doors).toEqual(['Dør møterom', 'Åpen', 'siden 10:55']);
    const devices = page.locator('section[aria-labelledby="devices-h"] tbody tr');
    expect((await devices.nth(1).locator('th, td').allTextContents()).map((s) => s.replace(/\u00a0/g, ' '))).toEqual([
      'dev-offline',
      'milesight-am307',
      'lobby',
      'Frakoblet',
      '08:00 (for 3 t siden)',
      '12 %',
    ]);
    // Drift: +2 at 07:00Z = 08:00 Oslo.
    expect(await page.locator('ul.drift').textContent()).toBe('08:00: under null – satt til 0 (+2)');

    // A change event replaces one torg without reload: Beta fresh again with 10.
    await page.goto(`${base}/#/`);
    await expect.poll(() => page.locator('article.card').count()).toBe(2);
    const change = { at: NOW + MIN, torg: { ...beta, occupancy: { ...beta.occupancy, people: 10, at: NOW + MIN, fresh: true } } };
    for (const s of streams) s.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`);
    await expect.poll(() => page.getByTestId('people-beta').textContent()).toBe('10');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('reconnects after the stream drops and takes the new snapshot', async () => {
    const page = await browser!.newPage();
    await page.goto(`${base}/`);
    await expect.poll(() => page.getByTestId('people-alfa').textContent()).toBe('12');
    const before = streams.length;
    overview = liveOverviewSchema.parse({ generatedAt: NOW + 2 * MIN, torg: [{ ...alfa, occupancy: { ...alfa.occupancy, people: 13, at: NOW + 2 * MIN } }, beta] });
    for (const s of streams.splice(0)) s.end();
    await expect.poll(() => page.getByTestId('people-alfa').textContent(), { timeout: 10_000 }).toBe('13');
    expect(streams.length).toBeGreaterThanOrEqual(1);
    expect(before).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#conn').textContent()).toBe('Tilkoblet – oppdateres fortløpende');
    await page.close();
  });
});

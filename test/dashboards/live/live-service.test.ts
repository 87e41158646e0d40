/**
 * The live service against REAL Mosquitto and REAL InfluxDB (test/support/services.ts): rebuild at
 * start from InfluxDB, live readings over MQTT, the JSON API and the SSE stream over real HTTP.
 * Runs on the wall clock (MQTT validation refuses readings far from now), with a torg open all day.
 */
import { connect } from 'node:net';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RP_RAW } from '../../../devices/contract/influx-layout.ts';
import { topics } from '../../../devices/contract/mqtt-topics.ts';
import { readingSchema, SCHEMA_VERSION, type ReadingInput } from '../../../devices/contract/reading.schema.ts';
import { busyBand, UsualBusy } from '../../../dashboards/live/busy-history.ts';
import { influxQuery } from '../../../dashboards/influx-query.ts';
import { liveRoutes } from '../../../dashboards/live/live-routes.ts';
import { startLiveService, type LiveService } from '../../../dashboards/live/live-service.ts';
import { liveChangeSchema, liveOverviewSchema, publicBusySchema, torgLiveSchema, type LiveChange } from '../../../dashboards/live/live.schema.ts';
import { readingToLine } from '../../../ingest/line-protocol.ts';
import { startStack, type Stack } from '../../support/services.ts';
import { startTestApi, type TestApi } from '../../ingest/api/api-server.ts';
import { clockedService, testDevices, testTorg } from './live-fixture.ts';

const torg = testTorg({ alwaysOpen: true });
let stack: Stack;
let seq = 0;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.dispose();
});

async function writeToInflux(readings: ReadingInput[], torgId = 'testtorg'): Promise<void> {
  const lines = readings.map((r) => {
    const parsed = readingSchema.parse(r);
    return readingToLine(torgId, parsed, Date.parse(parsed.time));
  });
  const res = await fetch(`${stack.influx.url}/write?db=${stack.influx.db}&rp=${RP_RAW}&precision=ms`, { method: 'POST', body: lines.join('\n') });
  expect(res.status).toBe(204);
}

async function publish(readings: ReadingInput[]): Promise<void> {
  const client = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5 });
  const envelope = { v: SCHEMA_VERSION, gateway: 'gw-1', torg: 'testtorg', sentAt: new Date().toISOString(), seq: seq++, readings };
  await client.publishAsync(topics.readings('testtorg', 'gw-1'), JSON.stringify(envelope), { qos: 1 });
  await client.endAsync();
}

function startService(registry?: Registry): LiveService {
  return startLiveService({
    ...(registry ? { registry } : {}),
    mqttUrl: stack.mqtt.url,
    influx: { url: stack.influx.url, db: stack.influx.db },
    torgs: [torg],
    places: (d) => testDevices[d],
    logger: pino({ level: 'silent' }),
    debounceMs: 20,
  });
}

/** Reads `event:`/`data:` frames off a fetch body (WHATWG HTML §9.2 framing). */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  return {
    async next(): Promise<{ event: string; data: unknown }> {
      for (;;) {
        const end = buf.indexOf('\n\n');
        if (end >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const lines = frame.split('\n');
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
          if (event !== undefined && data !== undefined) return { event, data: JSON.parse(data) };
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('SSE stream ended');
        buf += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('live service with Mosquitto and InfluxDB', () => {
  let api: TestApi;
  let live: LiveService;
  let liveOnly: ReadingInput[] = [];

  afterAll(async () => {
    await api?.close();
    await live?.close();
  });

  it('rebuilds today from InfluxDB, then counts a reading seen in both once', async () => {
    const now = Date.now();
    const t1 = new Date(now - 3000).toISOString();
    const t2 = new Date(now - 2000).toISOString();
    const t3 = new Date(now - 1000).toISOString();
    // Written by "the ingest" before the service starts.
    await writeToInflux([
      { kind: 'counter', device: 'c1', time: t1, line: 'line-1', periodIn: 7, periodOut: 2, periodSeconds: 60 },
      { kind: 'counter', device: 'c1', time: t2, line: 'line-2', periodIn: 3, periodOut: 1, periodSeconds: 60 },
      { kind: 'presence', device: 'p1', time: t2, occupied: true, count: 4 },
      { kind: 'health', device: 'k1', time: t2, battery: 62 },
    ]);
    const registry = new Registry();
    live = startService(registry);
    await live.ready;
    api = await startTestApi({ extraRoutes: () => liveRoutes({ live }) });
    const get = async (path: string) => {
      const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${api.tokens.viewer}` } });
      expect(res.status).toBe(200);
      return res.json() as Promise<unknown>;
    };

    // 7 − 2 + 3 − 1 = 7 people; 10 visits.
    let t = torgLiveSchema.parse(await get('/api/v1/live/testtorg'));
    expect(t.occupancy).toMatchObject({ people: 7, visitsToday: 10, fresh: true });
    expect(t.zones.find((z) => z.id === 'mote-1')).toMatchObject({ occupied: true, count: 4, fresh: true });
    expect(t.devices.find((d) => d.device === 'k1')?.battery).toBe(62);

    // The t1 reading again (a redelivery) and a new one: 7 + 2 = 9, visits 10 + 2 = 12.
    liveOnly = [{ kind: 'counter', device: 'c1', time: t3, line: 'line-1', periodIn: 2, periodOut: 0, periodSeconds: 60 }];
    await publish([{ kind: 'counter', device: 'c1', time: t1, line: 'line-1', periodIn: 7, periodOut: 2, periodSeconds: 60 }, ...liveOnly]);
    await expect.poll(async () => torgLiveSchema.parse(await get('/api/v1/live/testtorg')).occupancy.people, { timeout: 10_000 }).toBe(9);
    t = torgLiveSchema.parse(await get('/api/v1/live/testtorg'));
    expect(t.occupancy.visitsToday).toBe(12);
    expect(live.state.stats.duplicates).toBe(1);
    expect((await registry.getSingleMetric('live_counter_duplicates_total')!.get()).values[0]?.value).toBe(1);
    const all = liveOverviewSchema.parse(await get('/api/v1/live'));
    expect(all.torg.map((x) => x.id)).toEqual(['testtorg']);
  });

  it('streams a published reading as an SSE change after the snapshot', async () => {
    const res = await fetch(`${api.url}/api/v1/live/stream`, { headers: { authorization: `Bearer ${api.tokens.viewer}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const sse = sseReader(res.body!);
    const first = await sse.next();
    expect(first.event).toBe('snapshot');
    expect(liveOverviewSchema.parse(first.data).torg[0]?.occupancy.people).toBe(9);

    await publish([
      { kind: 'presence', device: 'p1', time: new Date().toISOString(), occupied: false, count: 0 },
      { kind: 'door', device: 'd1', time: new Date().toISOString(), open: true },
    ]);
    let change: LiveChange;
    do {
      const ev = await sse.next();
      expect(ev.event).toBe('change');
      change = liveChangeSchema.parse(ev.data);
    } while (change.torg.doors.length === 0);
    expect(change.torg.zones.find((z) => z.id === 'mote-1')).toMatchObject({ occupied: false, count: 0 });
    expect(change.torg.doors[0]).toMatchObject({ device: 'd1', open: true, zone: 'mote-1' });
    await sse.cancel();
  });

  it('public busy: bands only, never a count, cacheable with an ETag', async () => {
    const res = await fetch(`${api.url}/api/v1/public/busy`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    const body = publicBusySchema.parse(await res.json());
    // 9 people of capacity 50 = 18 % < 40 %: ledig. No usual: no history in InfluxDB.
    expect(body.torg).toEqual([{ id: 'testtorg', name: 'Test innbyggertorg', open: true, now: 'ledig', usual: null }]);
    for (const t of body.torg) expect(Object.values(t).some((v) => typeof v === 'number')).toBe(false);
    const again = await fetch(`${api.url}/api/v1/public/busy`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    const one = await fetch(`${api.url}/api/v1/public/busy/testtorg`);
    expect(publicBusySchema.parse(await one.json()).torg).toHaveLength(1);
    expect((await fetch(`${api.url}/api/v1/public/busy/nowhere`)).status).toBe(404);
  });

  it('refuses the live API without a token', async () => {
    expect((await fetch(`${api.url}/api/v1/live`)).status).toBe(401);
    expect((await fetch(`${api.url}/api/v1/live/stream`)).status).toBe(401);
  });

  it('a restart rebuilds the same occupancy from InfluxDB (what the ingest wrote)', async () => {
    expect(live.state.torg('testtorg')!.occupancy.people).toBe(9);
    await live.close();
    // What the ingest stores of the live envelope: the t3 reading (the t1 redelivery lands on its own point).
    await writeToInflux(liveOnly);
    expect(await stack.influx.count(`"${RP_RAW}"."counter"`, 'periodIn')).toBe(3);
    live = startService();
    await live.ready;
    // 7 − 2 + 3 − 1 + 2 − 0 = 9, all of it from InfluxDB.
    expect(live.torg('testtorg')!.occupancy).toMatchObject({ people: 9, visitsToday: 12 });
  });

  it('after a broker outage, rebuilds what the ingest stored meanwhile (a clean session gets no backlog)', async () => {
    await stack.mqtt.stop();
    // Stored by an ingest instance while the live service was cut off from the broker.
    await writeToInflux([{ kind: 'counter', device: 'c1', time: new Date().toISOString(), line: 'line-2', periodIn: 5, periodOut: 0, periodSeconds: 60 }]);
    const rebuildsBefore = live.stats.rebuilds;
    await stack.mqtt.start();
    // 9 + 5 = 14, visits 12 + 5 = 17; the earlier points are not counted again.
    await expect.poll(() => live.stats.rebuilds, { timeout: 30_000 }).toBeGreaterThan(rebuildsBefore);
    expect(live.torg('testtorg')!.occupancy).toMatchObject({ people: 14, visitsToday: 17 });
  });
});

describe('hvor travelt er det nå? (public busy)', () => {
  it('bands: below 40 % ledig, 40–75 % litt travelt, above 75 % travelt', () => {
    expect(busyBand(19, 50)).toBe('ledig'); // 38 %
    expect(busyBand(20, 50)).toBe('litt-travelt'); // 40 %
    expect(busyBand(37.5, 50)).toBe('litt-travelt'); // 75 %
    expect(busyBand(38, 50)).toBe('travelt'); // 76 %
  });

  it('usual: median people at this weekday and hour over past weeks, from InfluxDB; null with fewer than 3 days', async () => {
    const hist = { ...testTorg({ alwaysOpen: true }), id: 'histtorg' };
    const c = (time: string, periodIn: number, periodOut: number): ReadingInput => ({ kind: 'counter', device: 'h1', time, line: 'main', periodIn, periodOut, periodSeconds: 300 });
    await writeToInflux(
      [
        // Three Tuesdays; Oslo is UTC+1 in November. 09:30 local: 10 in.
        // 12:xx local: start 10; Nov 17 +20 → end 30, mean 20; Nov 10 +40 → 50, mean 30; Nov 3 −4 → 6, mean 8.
        c('2026-11-17T08:30:00Z', 10, 0), c('2026-11-17T11:30:00Z', 20, 0),
        c('2026-11-10T08:30:00Z', 10, 0), c('2026-11-10T11:30:00Z', 40, 0),
        c('2026-11-03T08:30:00Z', 10, 0), c('2026-11-03T11:20:00Z', 0, 3), c('2026-11-03T11:40:00Z', 0, 1),
        // Two Wednesdays only.
        c('2026-11-18T11:30:00Z', 30, 0), c('2026-11-11T11:30:00Z', 30, 0),
        // Today: not history.
        c('2026-11-24T10:00:00Z', 1000, 0),
      ],
      'histtorg',
    );
    const usual = new UsualBusy({ query: influxQuery({ url: stack.influx.url, db: stack.influx.db }), torgs: [hist] });
    const tuesdayNoon = Date.parse('2026-11-24T11:30:00Z');
    expect(usual.due(tuesdayNoon)).toBe(true);
    await usual.refresh(tuesdayNoon);
    expect(usual.due(tuesdayNoon + 59 * 60_000)).toBe(false);
    // Median of 20, 30, 8 = 20 → 20 / 50 = 40 %: litt travelt.
    expect(usual.usualPeople('histtorg', tuesdayNoon)).toBe(20);
    expect(usual.usualPeople('histtorg', Date.parse('2026-11-25T11:30:00Z'))).toBeNull();
    // 10:xx local on Tuesdays: 10 people the whole hour on all three days.
    expect(usual.usualPeople('histtorg', Date.parse('2026-11-24T09:10:00Z'))).toBe(10);
  });

  it('is null when the counters are stale or the torg is closed, and never carries a count', async () => {
    const torg = testTorg(); // open 07:00Z–15:00Z
    const clock = { now: Date.parse('2026-11-24T09:00:00Z') };
    const { service, state } = clockedService([torg], clock, influxQuery({ url: stack.influx.url, db: stack.influx.db }));
    const api = await startTestApi({ extraRoutes: () => liveRoutes({ live: service, publicCacheMs: 0 }) });
    try {
      const busy = async () => publicBusySchema.parse(await (await fetch(`${api.url}/api/v1/public/busy`)).json()).torg[0]!;
      // No counter yet today: unknown, so nothing is shown.
      expect(await busy()).toMatchObject({ open: true, now: null });
      state.apply('testtorg', readingSchema.parse({ kind: 'counter', device: 'c1', time: '2026-11-24T08:58:00Z', line: 'line-1', periodIn: 40, periodOut: 0, periodSeconds: 300 }), Date.parse('2026-11-24T08:58:00Z'));
      // 40 of 50 = 80 %.
      expect(await busy()).toMatchObject({ open: true, now: 'travelt' });
      // c1 stale after 750 s without a reading.
      clock.now = Date.parse('2026-11-24T09:10:30Z');
      const stale = await busy();
      expect(stale.now).toBeNull();
      expect(JSON.stringify(stale)).not.toMatch(/\b40\b|people|count/);
      clock.now = Date.parse('2026-11-24T15:00:00Z');
      state.tick(clock.now);
      expect(await busy()).toMatchObject({ open: false, now: null, usual: null });
    } finally {
      await api.close();
    }
  });
});

describe('SSE stream bound', () => {
  it('disconnects a client that does not read instead of buffering without limit, and counts it', async () => {
    const torg = testTorg({ alwaysOpen: true });
    const clock = { now: Date.now() };
    const { service, state, listeners } = clockedService([torg], clock, influxQuery({ url: stack.influx.url, db: stack.influx.db }));
    const registry = new Registry();
    const api = await startTestApi({ extraRoutes: () => liveRoutes({ live: service, registry, maxBufferedBytes: 64 * 1024 }) });
    try {
      const port = Number(new URL(api.url).port);
      const socket = connect(port, '127.0.0.1');
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      await new Promise<void>((resolve) => {
        socket.once('data', () => {
          // From here on nothing is read: the kernel buffers fill, then the server's own buffer.
          socket.pause();
          resolve();
        });
        socket.write(`GET /api/v1/live/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${api.tokens.viewer}\r\n\r\n`);
      });
      expect(listeners.size).toBe(1);
      const change: LiveChange = { at: clock.now, torg: state.torg('testtorg', clock.now)! };
      const frameBytes = JSON.stringify(change).length;
      // 32 MiB: more than any loopback socket buffer plus the 64 KiB bound.
      for (let sent = 0; sent < 32 * 1024 * 1024 && listeners.size > 0; sent += frameBytes) for (const l of [...listeners]) l(change);
      expect(listeners.size).toBe(0);
      socket.resume();
      await closed;
      const dropped = await registry.getSingleMetric('live_sse_slow_disconnects_total')!.get();
      expect(dropped.values[0]?.value).toBe(1);
      expect((await registry.getSingleMetric('live_sse_clients')!.get()).values[0]?.value).toBe(0);
    } finally {
      await api.close();
    }
  });
});

/**
 * The ingest end to end against real Mosquitto and InfluxDB: readings in, points out, refusals
 * dead-lettered, a kill -9 mid-stream losing nothing.
 */
import { WRITER_ONLY_ENV } from './ingest-helpers.ts';
import { spawn } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filters, topics } from '../../devices/contract/mqtt-topics.ts';
import { defaultIngestConfig, type IngestConfig } from '../../ingest/config.ts';
import { startIngest, type IngestHandle } from '../../ingest/main.ts';
import { freePort, startStack, type Stack } from '../support/services.ts';

const logger = pino({ level: 'silent' });
let stack: Stack;
let pub: MqttClient;
beforeAll(async () => {
  stack = await startStack();
  pub = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5, clientId: 'test-publisher' });
});
afterAll(async () => {
  await pub?.endAsync();
  await stack?.dispose();
});

function configFor(clientId: string): IngestConfig {
  return defaultIngestConfig({ INGEST_MQTT_URL: stack.mqtt.url, INGEST_INFLUX_URL: stack.influx.url, INGEST_HTTP_PORT: 0, INGEST_CLIENT_ID: clientId, INGEST_FLUSH_MS: 50 });
}

function envelope(torg: string, gateway: string, seq: number, readings: unknown[]): string {
  return JSON.stringify({ v: 1, torg, gateway, sentAt: new Date().toISOString(), seq, readings });
}

async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('ingest (in-process)', () => {
  let ingest: IngestHandle;
  beforeAll(async () => {
    ingest = await startIngest(configFor('ingest-it-1'), { logger, defaultMetrics: false });
  });
  afterAll(async () => {
    await ingest?.stop();
  });

  it('stores every reading of every kind with its values, tags and time', async () => {
    const torg = 'heggedal';
    const base = Date.now() - 3_600_000;
    const t = (i: number) => new Date(base + i * 1000).toISOString();
    const batched = [
      { kind: 'counter', device: 'vs133-a', time: t(1), line: 'inngang', periodIn: 7, periodOut: 2, periodSeconds: 300 },
      { kind: 'counter', device: 'vs133-a', time: t(2), totalIn: 1001, totalOut: 990 },
      { kind: 'presence', device: 'vs121-b', time: t(3), occupied: true, count: 4 },
      { kind: 'door', device: '0x00158d0001a2b3c4', time: t(4), open: true },
      { kind: 'climate', device: 'am307-c', time: t(5), temperature: 21.5, humidity: 38, co2: 612 },
      { kind: 'health', device: 'am307-c', time: t(6), battery: 93, rssi: -101.5, snr: 7.25 },
    ];
    await pub.publishAsync(topics.readings(torg, 'gw-a'), envelope(torg, 'gw-a', 1, batched), { qos: 1 });
    // 40 single-reading messages
    for (let i = 0; i < 40; i++) {
      await pub.publishAsync(topics.readings(torg, 'gw-b'), envelope(torg, 'gw-b', i, [{ kind: 'climate', device: `ers-${i % 4}`, time: t(100 + i), temperature: 18 + i / 4 }]), { qos: 1 });
    }
    const rows = await waitFor(() => stack.influx.select(`SELECT * FROM raw.climate WHERE torg='${torg}'`), (r) => r.length >= 41);
    expect(rows.length).toBe(41);
    const single = rows.filter((r) => String(r.device).startsWith('ers-'));
    expect(single.length).toBe(40);
    for (let i = 0; i < 40; i++) {
      const row = single.find((r) => r.time === base + (100 + i) * 1000);
      expect(row, `reading ${i}`).toMatchObject({ device: `ers-${i % 4}`, temperature: 18 + i / 4 });
    }
    expect(rows.find((r) => r.device === 'am307-c')).toMatchObject({ time: base + 5000, temperature: 21.5, humidity: 38, co2: 612 });
    const counters = await stack.influx.select(`SELECT * FROM raw.counter WHERE torg='${torg}'`);
    expect(counters).toEqual([
      expect.objectContaining({ time: base + 1000, device: 'vs133-a', line: 'inngang', periodIn: 7, periodOut: 2, periodSeconds: 300 }),
      expect.objectContaining({ time: base + 2000, device: 'vs133-a', line: 'main', totalIn: 1001, totalOut: 990 }),
    ]);
    expect(await stack.influx.select(`SELECT occupied, "count" FROM raw.presence WHERE torg='${torg}'`)).toEqual([{ time: base + 3000, occupied: true, count: 4 }]);
    expect(await stack.influx.select(`SELECT "open" FROM raw.door WHERE torg='${torg}'`)).toEqual([{ time: base + 4000, open: true }]);
    expect(await stack.influx.select(`SELECT battery, rssi, snr FROM raw.health WHERE torg='${torg}'`)).toEqual([{ time: base + 6000, battery: 93, rssi: -101.5, snr: 7.25 }]);
  });

  it('dead-letters each kind of invalid message with its reason and stores the valid ones around them', async () => {
    const dl = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5 });
    const letters: { topic: string; body: { reason: string; payload: string; payloadEncoding: string; envelope?: { index: number } } }[] = [];
    dl.on('message', (topic, payload) => letters.push({ topic, body: JSON.parse(payload.toString()) }));
    await dl.subscribeAsync(filters.allDeadLetters, { qos: 1 });
    const torg = 'slemmestad';
    const topic = topics.readings(torg, 'gw-1');
    const now = Date.now() - 60_000;
    const good = (i: number) => ({ kind: 'door', device: `door-${i}`, time: new Date(now + i).toISOString(), openings: i });
    await pub.publishAsync(topic, envelope(torg, 'gw-1', 1, [good(1)]), { qos: 1 });
    await pub.publishAsync(topic, '{"v":1, not json', { qos: 1 });
    await pub.publishAsync(topic, Buffer.from([0xff, 0xfe, 0x00]), { qos: 1 });
    await pub.publishAsync(topic, JSON.stringify({ v: 2, torg, gateway: 'gw-1', sentAt: new Date().toISOString(), seq: 1, readings: [good(9)] }), { qos: 1 });
    await pub.publishAsync(topic, JSON.stringify({ v: 1, torg, gateway: 'gw-1', seq: 1, readings: [good(9)] }), { qos: 1 });
    await pub.publishAsync(topic, envelope('asker-sentrum', 'gw-1', 1, [good(9)]), { qos: 1 });
    await pub.publishAsync(topic, 'x'.repeat(3 * 1024 * 1024), { qos: 1 });
    // One batch: good, out of range, invalid, too old, future, good.
    await pub.publishAsync(topic, envelope(torg, 'gw-1', 2, [
      good(2),
      { kind: 'climate', device: 'c1', time: new Date(now).toISOString(), temperature: 120 },
      { kind: 'climate', device: 'c1', time: new Date(now).toISOString(), temperatur: 20 },
      { ...good(3), time: new Date(Date.now() - 40 * 86_400_000).toISOString() },
      { ...good(4), time: new Date(Date.now() + 3_600_000).toISOString() },
      good(5),
    ]), { qos: 1 });
    await pub.publishAsync(topic, envelope(torg, 'gw-1', 3, [good(6)]), { qos: 1 });

    const expected = ['E_PAYLOAD_NOT_JSON', 'E_PAYLOAD_NOT_JSON', 'E_SCHEMA_VERSION', 'E_ENVELOPE_INVALID', 'E_TOPIC_MISMATCH', 'E_PAYLOAD_TOO_LARGE', 'E_READING_OUT_OF_RANGE', 'E_READING_INVALID', 'E_READING_TIME_TOO_OLD', 'E_READING_TIME_FUTURE'];
    await waitFor(async () => letters.length, (n) => n >= expected.length);
    await dl.endAsync();
    expect(letters.map((l) => l.body.reason).sort()).toEqual([...expected].sort());
    for (const l of letters) expect(l.topic).toBe(topics.deadLetter(l.body.reason));
    const bin = letters.find((l) => l.body.payloadEncoding === 'base64');
    expect(bin?.body.payload).toBe(Buffer.from([0xff, 0xfe, 0x00]).toString('base64'));
    expect(letters.find((l) => l.body.reason === 'E_READING_OUT_OF_RANGE')?.body.envelope?.index).toBe(1);
    expect(letters.find((l) => l.body.reason === 'E_PAYLOAD_NOT_JSON' && l.body.payloadEncoding === 'utf8')?.body.payload).toBe('{"v":1, not json');

    const doors = await waitFor(() => stack.influx.select(`SELECT openings FROM raw.door WHERE torg='${torg}'`), (r) => r.length >= 4);
    expect(doors.map((r) => r.openings).sort()).toEqual([1, 2, 5, 6]);
    const stored = await waitFor(() => stack.influx.select(`SELECT reason, detail FROM raw.deadletter WHERE torg='${torg}' OR torg='unknown'`), (r) => r.length >= expected.length);
    expect(stored.map((r) => r.reason).sort()).toEqual([...expected].sort());
  });
});

describe('ingest on hostile and changed input', () => {
  it('survives a reading nested deeper than JSON.stringify can go: it is dead-lettered, the rest stored', async () => {
    const ingest = await startIngest(configFor('ingest-it-deep'), { logger, defaultMetrics: false });
    try {
      const torg = 'saetre';
      const topic = topics.readings(torg, 'gw-d');
      const now = Date.now() - 60_000;
      const door = (i: number) => ({ kind: 'door', device: `door-${i}`, time: new Date(now + i).toISOString(), openings: i });
      const deep = '['.repeat(200_000) + ']'.repeat(200_000);
      // A valid header; reading 1 is a door with an unknown, hugely nested field.
      const poison = `{"v":1,"torg":"${torg}","gateway":"gw-d","sentAt":"${new Date().toISOString()}","seq":1,"readings":[${JSON.stringify(door(1))},{"kind":"door","device":"d9","time":"${new Date(now).toISOString()}","x":${deep}}]}`;
      await pub.publishAsync(topic, poison, { qos: 1 });
      await pub.publishAsync(topic, `{"v":${deep}}`, { qos: 1 });
      await pub.publishAsync(topic, envelope(torg, 'gw-d', 2, [door(2)]), { qos: 1 });
      const doors = await waitFor(() => stack.influx.select(`SELECT openings FROM raw.door WHERE torg='${torg}'`), (r) => r.length >= 2);
      expect(doors.map((r) => r.openings).sort()).toEqual([1, 2]);
      const letters = await waitFor(() => stack.influx.select(`SELECT reason, detail FROM raw.deadletter WHERE torg='${torg}'`), (r) => r.length >= 2);
      expect(letters.map((r) => r.reason).sort()).toEqual(['E_READING_INVALID', 'E_SCHEMA_VERSION']);
    } finally {
      await ingest.stop();
    }
  });

  it('answers /healthz with 503 and influxReachable false when an https InfluxDB is unreachable', async () => {
    const port = await freePort();
    const ingest = await startIngest({ ...configFor('ingest-it-https'), INGEST_INFLUX_URL: `https://127.0.0.1:${port}` }, { logger, defaultMetrics: false });
    try {
      const res = await fetch(`http://127.0.0.1:${ingest.httpPort}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ healthy: false, mqttConnected: true, influxReachable: false });
    } finally {
      await ingest.stop();
    }
  });

  it('subscribes to the configured filter when it resumes a session made with another filter', async () => {
    const clientId = 'ingest-it-refilter';
    const first = await startIngest({ ...configFor(clientId), INGEST_FILTER: 'itorg/v1/aaa/+/readings' }, { logger, defaultMetrics: false });
    await first.stop();
    const torg = 'spikkestad';
    const second = await startIngest({ ...configFor(clientId), INGEST_FILTER: `itorg/v1/${torg}/+/readings` }, { logger, defaultMetrics: false });
    try {
      const base = Date.now() - 60_000;
      // A message published before the SUBSCRIBE reached the broker reaches no session, so keep
      // publishing distinct readings until one is stored (or the wait gives up and the test fails).
      let n = 0;
      const stored = await waitFor(
        async () => {
          n++;
          await pub.publishAsync(topics.readings(torg, 'gw-r'), envelope(torg, 'gw-r', n, [{ kind: 'door', device: 'door-r', time: new Date(base + n).toISOString(), openings: n }]), { qos: 1 });
          return stack.influx.select(`SELECT openings FROM raw.door WHERE torg='${torg}'`);
        },
        (r) => r.length >= 1,
        15_000,
      );
      expect(stored.length).toBeGreaterThanOrEqual(1);
      for (const r of stored) expect(r.openings).toBe((r.time as number) - base);
    } finally {
      await second.stop();
    }
  });
});

describe('ingest as a child process', () => {
  it('loses nothing and counts nothing twice when killed with SIGKILL mid-stream', async () => {
    const env = { ...process.env, ...WRITER_ONLY_ENV, INGEST_MQTT_URL: stack.mqtt.url, INGEST_INFLUX_URL: stack.influx.url, INGEST_HTTP_PORT: '0', INGEST_CLIENT_ID: 'ingest-kill9', INGEST_LOG_LEVEL: 'warn' };
    const spawnIngest = () => spawn(process.execPath, ['--import', 'tsx', 'ingest/main.ts'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const statePub = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5 });
    const online = async () => {
      const s = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5 });
      await new Promise<void>((resolve) => {
        s.on('message', (_t, p) => {
          if (p.toString().includes('"online":true')) resolve();
        });
        void s.subscribeAsync(topics.ingestState('ingest-kill9'), { qos: 1 });
      });
      await s.endAsync();
    };
    let child = spawnIngest();
    await online();
    const torg = 'royken';
    const perMessage = 50;
    const messages = 400;
    const base = Date.now() - 7_200_000;
    let killed = false;
    for (let m = 0; m < messages; m++) {
      const readings = [];
      for (let i = 0; i < perMessage; i++) {
        const n = m * perMessage + i;
        readings.push({ kind: 'presence', device: `p${n % 10}`, time: new Date(base + n).toISOString(), occupied: n % 2 === 0, count: n % 7 });
      }
      await statePub.publishAsync(topics.readings(torg, 'gw-k'), envelope(torg, 'gw-k', m, readings), { qos: 1 });
      if (m === 150) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        killed = true;
      }
      if (m === 300) {
        child = spawnIngest();
      }
    }
    expect(killed).toBe(true);
    const total = messages * perMessage;
    const countRows = () => stack.influx.select(`SELECT COUNT("occupied") FROM raw.presence WHERE torg='${torg}'`);
    const rows = await waitFor(countRows, (r) => r[0]?.count === total);
    expect(rows[0]?.count).toBe(total);
    // Every stored value is the one published for its (device, time): n encodes both.
    const sample = await stack.influx.select(`SELECT "count", occupied FROM raw.presence WHERE torg='${torg}' AND device='p3'`);
    expect(sample.length).toBe(total / 10);
    for (const r of sample) {
      const n = (r.time as number) - base;
      expect(r).toMatchObject({ count: n % 7, occupied: n % 2 === 0 });
    }
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    await statePub.endAsync();
  });
});

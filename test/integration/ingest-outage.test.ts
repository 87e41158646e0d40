/**
 * Issue 2: "InfluxDB stopped for 30 s mid-stream, then started → no loss, ingest memory bounded
 * meanwhile". The ingest runs as a child process (as deployed); a publisher streams numbered readings
 * at a steady pace while the real InfluxDB is stopped (SIGTERM) for 30 s and started again on the
 * same data dir.
 *
 * What must hold, each observed from outside the ingest:
 *  - at the end InfluxDB holds exactly the published points, each with its published values;
 *  - during the outage the ingest writes nothing (ingest_points_written_total flat), so it cannot
 *    have acknowledged the messages published meanwhile (README "Delivery guarantees": a PUBACK
 *    leaves only after the points are stored), and it takes no more messages than its in-flight byte
 *    budget allows: the rest stays with the broker;
 *  - its RSS stays below a bound derived from that budget;
 *  - /healthz answers 503 with influxReachable false during the outage, 200 afterwards.
 */
import { WRITER_ONLY_ENV } from './ingest-helpers.ts';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/services.ts';
import {
  envelope,
  health,
  killQuietly,
  metricsText,
  numberedReading,
  publishStream,
  rssBytes,
  sample,
  sleep,
  spawnIngest,
  storedCount,
  storedNumbers,
  waitFor,
  type Health,
  type IngestChild,
} from './ingest-helpers.ts';

const TORG = 'hvalstad';
const TOTAL = 60_000;
const PER_MESSAGE = 50;
const MESSAGES = TOTAL / PER_MESSAGE;
/** 1200 messages over 45 s. */
const INTERVAL_MS = 45_000 / MESSAGES;
const OUTAGE_AT_READING = 10_000;
const OUTAGE_MS = 30_000;
/** The smallest budget the config allows is 64 KiB; 256 KiB holds ~45 of these ~5.7 KB messages. */
const MAX_INFLIGHT_BYTES = 256 * 1024;
/**
 * RSS allowance during the outage over the pre-outage baseline: the held payloads, their parsed
 * readings and line protocol (a few copies of MAX_INFLIGHT_BYTES), plus 150 MB for V8 heap growth and
 * GC timing, which the process does not control.
 */
const RSS_ALLOWANCE = 4 * MAX_INFLIGHT_BYTES + 150 * 1024 * 1024;

let stack: Stack;
let pub: MqttClient;
let ingest: IngestChild | undefined;

beforeAll(async () => {
  stack = await startStack();
  pub = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5, clientId: 'outage-publisher' });
});
afterAll(async () => {
  await killQuietly(ingest);
  await pub?.endAsync();
  await stack?.dispose();
});

describe('ingest during an InfluxDB outage', () => {
  it('stores every reading once InfluxDB is back, holds nothing beyond its budget and reports 503 meanwhile', async () => {
    ingest = await spawnIngest({
      INGEST_MQTT_URL: stack.mqtt.url,
      ...WRITER_ONLY_ENV,
      INGEST_INFLUX_URL: stack.influx.url,
      INGEST_CLIENT_ID: 'ingest-outage',
      INGEST_FLUSH_MS: '50',
      INGEST_MAX_INFLIGHT_BYTES: String(MAX_INFLIGHT_BYTES),
      // Short backoff so the first write after the restart is not parked behind a 15 s retry delay.
      INGEST_RETRY_BASE_MS: '100',
      INGEST_RETRY_MAX_MS: '1000',
      INGEST_WRITE_TIMEOUT_MS: '5000',
    });
    const child = ingest;

    // Subscription live: a sentinel on another torg was received.
    const sentinelBase = Date.now() - 60_000;
    await waitFor(
      async () => {
        await pub.publishAsync('itorg/v1/sentinel/gw-s/readings', envelope('sentinel', 'gw-s', 0, [numberedReading(sentinelBase, 0)]), { qos: 1 });
        return (await health(child))?.status === 200 && (await storedCount(stack.influx, 'sentinel')) > 0;
      },
      (ok) => ok,
      30_000,
      300,
    );

    const base = Date.now() - 7_200_000;
    let published = 0;
    const stream = publishStream(pub, {
      torg: TORG,
      gateway: 'gw-o',
      base,
      from: 0,
      to: TOTAL,
      perMessage: PER_MESSAGE,
      intervalMs: INTERVAL_MS,
      onProgress: (next) => {
        published = next;
      },
    });

    // --- the outage -------------------------------------------------------------------------------
    await waitFor(async () => published, (n) => n >= OUTAGE_AT_READING, 60_000, 50);
    const baselineRss = rssBytes(child.pid);
    expect(baselineRss).not.toBeNull();
    await stack.influx.stop();
    const publishedAtStop = published;
    // A write whose 204 was already on the wire when influxd exited is counted a moment later.
    await sleep(1000);
    const before = await metricsText(child);
    const writtenAtStart = sample(before, 'ingest_points_written_total');
    const messagesAtStart = sample(before, 'ingest_messages_total');
    const outageHealth: { status: number; body: Health }[] = [];
    let peakRss = 0;
    let peakInflightBytes = 0;
    const outageEnds = Date.now() + OUTAGE_MS - 1000;
    while (Date.now() < outageEnds) {
      const rss = rssBytes(child.pid);
      if (rss !== null) peakRss = Math.max(peakRss, rss);
      const h = await health(child);
      if (h !== null) {
        outageHealth.push(h);
        peakInflightBytes = Math.max(peakInflightBytes, h.body.inflightBytes);
      }
      await sleep(500);
    }
    const after = await metricsText(child);
    const writtenAtEnd = sample(after, 'ingest_points_written_total');
    const messagesAtEnd = sample(after, 'ingest_messages_total');
    const publishedAtRestart = published;
    await stack.influx.start();

    // --- recovery -----------------------------------------------------------------------------------
    expect(await stream).toBe(MESSAGES);
    const stored = await waitFor(() => storedCount(stack.influx, TORG), (n) => n >= TOTAL, 60_000, 500);
    const healthAfter = await waitFor(() => health(child), (h) => h?.status === 200, 10_000);

    const messageBytes = Buffer.byteLength(envelope(TORG, 'gw-o', MESSAGES, Array.from({ length: PER_MESSAGE }, (_, i) => numberedReading(base, TOTAL - PER_MESSAGE + i))));
    console.log(
      `[ingest-outage] baseline RSS ${(baselineRss! / 2 ** 20).toFixed(1)} MiB, peak during outage ${(peakRss / 2 ** 20).toFixed(1)} MiB ` +
        `(bound ${((baselineRss! + RSS_ALLOWANCE) / 2 ** 20).toFixed(1)} MiB); peak in-flight ${peakInflightBytes} B of budget ${MAX_INFLIGHT_BYTES} B; ` +
        `messages taken during outage ${messagesAtEnd - messagesAtStart}, published meanwhile ${(publishedAtRestart - publishedAtStop) / PER_MESSAGE}; ` +
        `message ~${messageBytes} B; ${outageHealth.length} health probes`,
    );

    // Nothing written, hence nothing acknowledged, while InfluxDB was down.
    expect(writtenAtEnd).toBe(writtenAtStart);
    // The messages published meanwhile stayed with the broker: the ingest took at most what fits its
    // byte budget (the message that crosses the budget is still taken, hence + 1).
    expect((publishedAtRestart - publishedAtStop) / PER_MESSAGE).toBeGreaterThan(500);
    expect(messagesAtEnd - messagesAtStart).toBeLessThanOrEqual(Math.floor(MAX_INFLIGHT_BYTES / (messageBytes - 200)) + 1);
    expect(peakInflightBytes).toBeLessThanOrEqual(MAX_INFLIGHT_BYTES + messageBytes + 200);
    expect(peakRss).toBeGreaterThan(0);
    expect(peakRss).toBeLessThan(baselineRss! + RSS_ALLOWANCE);
    // Every probe during the outage: 503, MQTT still up, InfluxDB unreachable.
    expect(outageHealth.length).toBeGreaterThan(20);
    for (const h of outageHealth) expect({ status: h.status, mqtt: h.body.mqttConnected, influx: h.body.influxReachable }).toEqual({ status: 503, mqtt: true, influx: false });
    expect(healthAfter?.body).toMatchObject({ healthy: true, mqttConnected: true, influxReachable: true });

    // Exactly the published points, each with the values reading n carried.
    expect(stored).toBe(TOTAL);
    const numbers = await storedNumbers(stack.influx, TORG, base);
    expect(numbers.size).toBe(TOTAL);
    expect(Math.min(...numbers)).toBe(0);
    expect(Math.max(...numbers)).toBe(TOTAL - 1);

    child.child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });
});

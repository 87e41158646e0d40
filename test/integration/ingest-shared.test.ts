/**
 * Issue 2: "two ingest instances in one shared-subscription group → everything stored once in
 * effect; killing one mid-stream loses nothing". Two child-process ingests with distinct client ids
 * and the same INGEST_SHARE_GROUP consume one stream from the real Mosquitto 2.0.11.
 *
 * "Once in effect": a redelivered message rewrites the same points (README "Data model": why a redelivered reading never counts twice),
 * so the distinct stored points must equal the published readings, and both members' /metrics must
 * show they each wrote part of the stream (the group really split the work).
 *
 * Finding (measured here, Mosquitto 2.0.11, MQTT 5 clients with clean start false and a session
 * expiry of days): a member of `$share/<group>/…` that is disconnected but whose session persists
 * STAYS in the group. Mosquitto keeps choosing it in its round-robin and queues its share of new
 * messages in its session (src/subs.c `subs__shared_process` picks the next member without looking
 * at whether it is connected; `db__message_insert` then queues for an offline persistent client),
 * and the messages it had received but not acknowledged stay in its session as well. The surviving
 * member does NOT receive them. Nothing is lost: all of it is delivered when a client with the dead
 * member's id reconnects, or discarded when its session expires (INGEST_SESSION_EXPIRY_S, default 7
 * days). So an operator must restart a failed member under the same INGEST_CLIENT_ID (or let a
 * replacement take that id); scaling down means stopping a member and bringing it back once with
 * INGEST_SESSION_EXPIRY_S=0 after draining, never simply removing it.
 * Test (b) therefore asserts what an operator can rely on: stored ∪ (held in the dead member's
 * session) == published, with the held part observed directly by connecting as the dead member.
 */
import { WRITER_ONLY_ENV } from './ingest-helpers.ts';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filters } from '../../devices/contract/mqtt-topics.ts';
import { startStack, type Stack } from '../support/services.ts';
import { awaitSubscribed, health, killQuietly, metricsText, publishStream, sample, sleep, spawnIngest, storedCount, storedNumbers, waitFor, type IngestChild } from './ingest-helpers.ts';

const GROUP = 'itest';
const TOTAL = 20_000;
const PER_MESSAGE = 50;
/** 400 messages over ~12 s. */
const INTERVAL_MS = 30;
const SESSION_EXPIRY_S = 3600;

let stack: Stack;
let pub: MqttClient;
let a: IngestChild | undefined;
let b: IngestChild | undefined;

const envFor = (clientId: string) => ({
  INGEST_MQTT_URL: stack.mqtt.url,
  ...WRITER_ONLY_ENV,
  INGEST_INFLUX_URL: stack.influx.url,
  INGEST_CLIENT_ID: clientId,
  INGEST_SHARE_GROUP: GROUP,
  INGEST_SESSION_EXPIRY_S: String(SESSION_EXPIRY_S),
  INGEST_FLUSH_MS: '50',
});

const written = async (c: IngestChild) => sample(await metricsText(c), 'ingest_points_written_total');
const messagesIn = async (c: IngestChild | undefined) => {
  if (c === undefined) return 0;
  try {
    return sample(await metricsText(c), 'ingest_messages_total');
  } catch {
    return 0;
  }
};

async function kill9(c: IngestChild): Promise<void> {
  c.child.kill('SIGKILL');
  await c.exited;
}

beforeAll(async () => {
  stack = await startStack();
  pub = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5, clientId: 'shared-publisher' });
  a = await spawnIngest(envFor('ingest-share-a'));
  b = await spawnIngest(envFor('ingest-share-b'));
  // Both members subscribed: round-robin hands each at least one sentinel.
  await awaitSubscribed(pub, async () => (await messagesIn(a)) >= 1 && (await messagesIn(b)) >= 1);
});
afterAll(async () => {
  await killQuietly(a);
  await killQuietly(b);
  await pub?.endAsync();
  await stack?.dispose();
});

describe('two ingest instances in one shared-subscription group', () => {
  it('(a) split the stream, and a member killed with SIGKILL and restarted loses nothing', async () => {
    const torg = 'vollen';
    const base = Date.now() - 7_200_000;
    const writtenBefore = [await written(a!), await written(b!)];
    let published = 0;
    const stream = publishStream(pub, { torg, gateway: 'gw-s', base, from: 0, to: TOTAL, perMessage: PER_MESSAGE, intervalMs: INTERVAL_MS, onProgress: (n) => void (published = n) });

    await waitFor(async () => published, (n) => n >= 6000, 30_000, 20);
    // Both members took part before the kill.
    const writtenAtKill = [await written(a!), await written(b!)];
    await kill9(b!);
    await waitFor(async () => published, (n) => n >= 12_000, 30_000, 20);
    const storedWhileDown = await storedCount(stack.influx, torg);
    const publishedWhileDown = published;
    b = await spawnIngest(envFor('ingest-share-b'));
    expect(await stream).toBe(TOTAL / PER_MESSAGE);

    const stored = await waitFor(() => storedCount(stack.influx, torg), (n) => n >= TOTAL, 60_000, 300);
    const restartedWrote = await written(b);
    console.log(
      `[ingest-shared a] points written before kill: a ${writtenAtKill[0]! - writtenBefore[0]!}, b ${writtenAtKill[1]! - writtenBefore[1]!}; ` +
        `with b down: ${storedWhileDown} stored of ${publishedWhileDown} published; restarted b wrote ${restartedWrote}`,
    );
    expect(writtenAtKill[0]! - writtenBefore[0]!).toBeGreaterThan(0);
    expect(writtenAtKill[1]! - writtenBefore[1]!).toBeGreaterThan(0);
    expect(stored).toBe(TOTAL);
    const numbers = await storedNumbers(stack.influx, torg, base);
    expect(numbers.size).toBe(TOTAL);
    // The restarted member resumed its session and wrote what the broker held for it.
    expect(restartedWrote).toBeGreaterThan(0);
  });

  it('(b) with a member killed and not restarted, nothing is lost: the survivor stores its share, the rest waits in the dead member session', async () => {
    const torg = 'royken';
    const base = Date.now() - 7_200_000;
    // b is the restarted member of (a); make sure it is back in the group before the stream starts.
    await waitFor(() => health(b!), (h) => h?.body.mqttConnected === true, 30_000);
    let published = 0;
    const stream = publishStream(pub, { torg, gateway: 'gw-s', base, from: 0, to: TOTAL, perMessage: PER_MESSAGE, intervalMs: INTERVAL_MS, onProgress: (n) => void (published = n) });
    await waitFor(async () => published, (n) => n >= 5000, 30_000, 20);
    await kill9(b!);
    expect(await stream).toBe(TOTAL / PER_MESSAGE);

    // The survivor drains what it was given: stored stops growing and it holds nothing in flight.
    let last = -1;
    const stored = await waitFor(
      async () => {
        await sleep(1500);
        const now = await storedCount(stack.influx, torg);
        const h = await health(a!);
        const stable = now === last && h?.body.inflightMessages === 0;
        last = now;
        return stable ? now : -1;
      },
      (n) => n >= 0,
      60_000,
      0,
    );
    const storedSet = await storedNumbers(stack.influx, torg, base);
    expect(storedSet.size).toBe(stored);

    // Connect as the dead member (same client id, clean start false): the broker delivers what its
    // session holds, queued messages and unacknowledged ones [MQTT-4.4.0-1]. MQTT.js acknowledges
    // them; this client is the "replacement" an operator would start.
    const held = new Set<number>();
    let heldMessages = 0;
    // The listener must be in place before CONNACK: MQTT.js handles the queued PUBLISHes that follow
    // it in the same socket read before an awaited connectAsync() resumes, and acknowledges them.
    const inspector = mqtt.connect(stack.mqtt.url, {
      protocolVersion: 5,
      clientId: 'ingest-share-b',
      clean: false,
      reconnectPeriod: 0,
      properties: { sessionExpiryInterval: SESSION_EXPIRY_S },
    });
    let redelivered = 0;
    inspector.on('message', (topic, payload, packet) => {
      if (!topic.startsWith(`itorg/v1/${torg}/`)) return;
      heldMessages++;
      if (packet.dup) redelivered++;
      const env = JSON.parse(payload.toString()) as { readings: { time: string }[] };
      for (const r of env.readings) held.add(Date.parse(r.time) - base);
    });
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
      inspector.once('connect', resolve);
      inspector.once('error', reject);
    });
    expect(connack.sessionPresent).toBe(true);
    await waitFor(
      async () => {
        const n = heldMessages;
        await sleep(1000);
        return heldMessages === n;
      },
      (quiet) => quiet,
      30_000,
      0,
    );
    // Leave the group for good: unsubscribe and let the session end with the connection.
    await inspector.unsubscribeAsync(filters.shared(GROUP, filters.allReadings));
    await inspector.endAsync(false, { properties: { sessionExpiryInterval: 0 } });

    const union = new Set([...storedSet, ...held]);
    console.log(
      `[ingest-shared b] published ${TOTAL}; survivor stored ${stored}; held in the dead member's session: ${held.size} readings in ${heldMessages} messages (${redelivered} redelivered with DUP); ` +
        `overlap (written by b before its PUBACK left) ${storedSet.size + held.size - union.size}`,
    );
    expect(union.size).toBe(TOTAL);
    expect([...union].filter((n) => !(Number.isInteger(n) && n >= 0 && n < TOTAL))).toEqual([]);
  });
});

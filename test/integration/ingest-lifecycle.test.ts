/**
 * The ingest child process over its life: a graceful stop on SIGTERM or SIGINT in the middle of a
 * stream (README "Delivery guarantees", shutdown: flush, PUBACK, DISCONNECT keeping the session, exit 0), a
 * restart that picks up what the broker held meanwhile, the documented /healthz and /metrics, and a
 * start-up refused for a bad INGEST_* variable.
 */
import { WRITER_ONLY_ENV } from './ingest-helpers.ts';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { startStack, type Stack } from '../support/services.ts';
import {
  awaitSubscribed,
  envelope,
  health,
  killQuietly,
  metricsText,
  publishStream,
  sample,
  sleep,
  spawnIngest,
  storedCount,
  storedNumbers,
  waitFor,
  type IngestChild,
} from './ingest-helpers.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;
/**
 * After the drain (bounded by INGEST_SHUTDOWN_TIMEOUT_MS) main.ts waits at most 5 s for DISCONNECT
 * (ingest/main.ts, stop()); 3 s more for process start-up noise on a 2-core machine.
 */
const EXIT_DEADLINE_MS = SHUTDOWN_TIMEOUT_MS + 5_000 + 3_000;

let stack: Stack;
let pub: MqttClient;
const children: IngestChild[] = [];

beforeAll(async () => {
  stack = await startStack();
  pub = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5, clientId: 'lifecycle-publisher' });
});
afterAll(async () => {
  for (const c of children) await killQuietly(c);
  await pub?.endAsync();
  await stack?.dispose();
});

async function start(clientId: string, extra: Record<string, string> = {}): Promise<IngestChild> {
  const c = await spawnIngest({
    INGEST_MQTT_URL: stack.mqtt.url,
    ...WRITER_ONLY_ENV,
    INGEST_INFLUX_URL: stack.influx.url,
    INGEST_CLIENT_ID: clientId,
    INGEST_FLUSH_MS: '50',
    INGEST_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    ...extra,
  });
  children.push(c);
  return c;
}

const messagesIn = async (c: IngestChild) => {
  try {
    return sample(await metricsText(c), 'ingest_messages_total');
  } catch {
    return 0;
  }
};

/** The exit code, or 'still running' when the child did not exit within `ms`. */
async function exitWithin(c: IngestChild, ms: number): Promise<number | string> {
  return Promise.race([c.exited, sleep(ms).then(() => 'still running')]);
}

describe('ingest child process lifecycle', () => {
  it.each([
    ['SIGTERM', 'nesbru'],
    ['SIGINT', 'bleiker'],
  ] as const)('%s mid-stream: exits 0 within the shutdown timeout, and after a restart every reading is stored once', async (signal, torg) => {
    const clientId = `ingest-life-${signal.toLowerCase()}`;
    const first = await start(clientId);
    await awaitSubscribed(pub, async () => (await messagesIn(first)) >= 1);

    const total = 10_000;
    const base = Date.now() - 7_200_000;
    let published = 0;
    // 200 messages over ~5 s.
    const stream = publishStream(pub, { torg, gateway: 'gw-l', base, from: 0, to: total, perMessage: 50, intervalMs: 25, onProgress: (n) => void (published = n) });

    await waitFor(async () => published, (n) => n >= 3000, 30_000, 10);
    const signalledAt = Date.now();
    first.child.kill(signal);
    expect(await exitWithin(first, EXIT_DEADLINE_MS)).toBe(0);
    console.log(`[ingest-lifecycle] ${signal}: exit 0 after ${Date.now() - signalledAt} ms`);
    // Readings published while no ingest runs must wait in the persistent session.
    const publishedAtExit = published;
    await waitFor(async () => published, (n) => n >= 7000, 30_000, 10);
    const publishedAtRestart = published;
    const second = await start(clientId);
    expect(await stream).toBe(total / 50);

    const stored = await waitFor(() => storedCount(stack.influx, torg), (n) => n >= total, 60_000, 300);
    expect(publishedAtRestart).toBeGreaterThan(publishedAtExit);
    expect(stored).toBe(total);
    const numbers = await storedNumbers(stack.influx, torg, base);
    expect(numbers.size).toBe(total);

    second.child.kill('SIGTERM');
    expect(await exitWithin(second, EXIT_DEADLINE_MS)).toBe(0);
    expect(second.stderr()).toBe('');
  });

  it('serves the documented /healthz fields and /metrics names with values that match what was sent', async () => {
    const c = await start('ingest-life-http');
    await awaitSubscribed(pub, async () => (await messagesIn(c)) >= 1);
    // Let the sentinels settle so the deltas below are ours alone.
    await waitFor(() => health(c), (h) => h?.body.inflightMessages === 0 && h.body.lastWriteOkAt !== null, 10_000);
    const testStart = Date.now();
    const m0 = await metricsText(c);

    const torg = 'dikemark';
    const time = (i: number) => new Date(testStart - 60_000 + i).toISOString();
    const climate = (i: number) => ({ kind: 'climate', device: `am307-${i}`, time: time(i), temperature: 20 + i });
    // 2 valid envelopes of 3 readings each, and 1 message that is not JSON.
    await pub.publishAsync(topics.readings(torg, 'gw-h'), envelope(torg, 'gw-h', 1, [climate(1), climate(2), climate(3)]), { qos: 1 });
    await pub.publishAsync(topics.readings(torg, 'gw-h'), envelope(torg, 'gw-h', 2, [climate(4), climate(5), climate(6)]), { qos: 1 });
    await pub.publishAsync(topics.readings(torg, 'gw-h'), 'ikke json', { qos: 1 });

    // 6 reading points + 1 dead-letter point.
    const m1 = await waitFor(() => metricsText(c), (t) => sample(t, 'ingest_points_written_total') - sample(m0, 'ingest_points_written_total') >= 7, 20_000);
    const delta = (name: string) => sample(m1, name) - sample(m0, name);
    expect(delta('ingest_messages_total')).toBe(3);
    expect(delta('ingest_readings_total')).toBe(6);
    expect(delta('ingest_points_written_total')).toBe(7);
    expect(m1).toContain('ingest_dead_lettered_total{reason="E_PAYLOAD_NOT_JSON"} 1');
    for (const family of [
      'ingest_messages_total counter',
      'ingest_readings_total counter',
      'ingest_points_written_total counter',
      'ingest_dead_lettered_total counter',
      'ingest_batch_write_seconds histogram',
      'ingest_batch_lines histogram',
      'ingest_inflight_messages gauge',
      'ingest_inflight_bytes gauge',
      'ingest_influx_errors_total counter',
      // Default process metrics (prom-client collectDefaultMetrics) are on in the service.
      'process_resident_memory_bytes gauge',
    ]) {
      expect(m1, family).toContain(`# TYPE ${family}\n`);
    }
    expect(sample(m1, 'ingest_batch_write_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(m1, 'ingest_inflight_messages')).toBe(0);

    const h = await health(c);
    expect(h?.status).toBe(200);
    const raw = (await (await fetch(`http://127.0.0.1:${c.httpPort}/healthz`)).json()) as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual(['healthy', 'inflightBytes', 'inflightMessages', 'influxReachable', 'lastWriteOkAt', 'mqttConnected']);
    expect(h?.body).toMatchObject({ healthy: true, mqttConnected: true, influxReachable: true, inflightMessages: 0, inflightBytes: 0 });
    const lastWrite = Date.parse(h!.body.lastWriteOkAt!);
    expect(lastWrite).toBeGreaterThanOrEqual(testStart);
    expect(lastWrite).toBeLessThanOrEqual(Date.now());

    c.child.kill('SIGTERM');
    expect(await exitWithin(c, EXIT_DEADLINE_MS)).toBe(0);
  });

  it.each([
    ['INGEST_BATCH_LINES', 'abc'],
    ['INGEST_INFLUX_URL', 'not-a-url'],
    ['INGEST_MAX_INFLIGHT_BYTES', '1000'],
  ])('refuses to start with %s=%s: non-zero exit, stderr names the variable', async (name, value) => {
    const c = await start('ingest-life-badenv', { [name]: value });
    const code = await exitWithin(c, 20_000);
    expect(typeof code === 'number' && code !== 0, `exit ${String(code)}`).toBe(true);
    expect(c.stderr()).toContain('E_CONFIG_INVALID');
    expect(c.stderr()).toContain(name);
  });
});

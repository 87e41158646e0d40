/**
 * The DT webhook source on a real HTTP port with a real SQLite outbox: 200 only once durable,
 * 503 when the outbox is full (DT retries), 401 for a body that does not match its signature.
 * Fixture: a genuine signed Data Connector push (disruptive-technologies/python-integrations
 * tests/events.py, MIT; secret "test-secret"), verified at its own time by an injected clock.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGatewayMetrics } from '../../../gateway/metrics.ts';
import { DEFAULT_CLOCK_PLAUSIBILITY } from '../../../gateway/normalize.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { OutboxSink } from '../../../gateway/reading-sink.ts';
import { RejectedStore } from '../../../gateway/rejected-store.ts';
import { DtWebhookSource } from '../../../gateway/sources/dt-webhook-source.ts';
import { freePort } from '../../support/services.ts';
import { ManualClock } from '../outbox/outbox.contract.ts';

const sample = JSON.parse(readFileSync(new URL('../fixtures/dt-webhook-temperature.json', import.meta.url), 'utf8')) as {
  headers: Record<string, string>;
  body_str_exact_bytes_signed: string;
};
const silent = pino({ level: 'silent' });

describe('DtWebhookSource', () => {
  let dir: string;
  let outbox: SqliteOutbox;
  let source: DtWebhookSource;
  let rejected: RejectedStore;
  let url: string;
  // 2024-05-29T10:34:30Z: after the token's iat (10:34:03) and before its exp (11:34:03).
  const clock = new ManualClock(Date.parse('2024-05-29T10:34:30.000Z'));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dt-source-'));
    outbox = new SqliteOutbox({ path: join(dir, 'o.db'), bounds: { maxReadings: 1, maxBytes: 1_000_000, maxAgeMs: 86_400_000 }, clock, logger: silent });
    rejected = new RejectedStore();
    const metrics = createGatewayMetrics({ defaultMetrics: false, outbox: () => outbox, uplinkState: () => 'offline' });
    const sink = new OutboxSink({ outbox, rejected, metrics, logger: silent, clock, limits: DEFAULT_CLOCK_PLAUSIBILITY });
    const port = await freePort();
    source = new DtWebhookSource({ name: 'dt', host: '127.0.0.1', port, path: '/dt', secret: 'test-secret', clock, logger: silent });
    await source.start(sink);
    url = `http://127.0.0.1:${port}/dt`;
  });
  afterEach(async () => {
    await source.stop();
    await outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...sample.headers }, body });

  it('answers 200 after the reading is in the outbox, then 503 E_OUTBOX_FULL when it is full', async () => {
    const ok = await post(sample.body_str_exact_bytes_signed);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ accepted: 1, rejected: 0 });
    const [entry] = await outbox.claim(10);
    // The event: temperature 27 °C at 2024-05-29T10:34:03.970415Z (µs truncated to ms).
    expect(entry?.reading).toMatchObject({ kind: 'climate', device: 'emucdd6ef2eu277bo8f52vg', temperature: 27, time: '2024-05-29T10:34:03.970Z' });
    outbox.release();

    const full = await post(sample.body_str_exact_bytes_signed);
    expect(full.status).toBe(503);
    expect(await full.json()).toEqual({ code: 'E_OUTBOX_FULL', retriable: true });
    expect(outbox.dropped().refused_full).toBe(1);
  });

  it('answers 401 for a body altered after signing and keeps it at /rejected', async () => {
    const res = await post(sample.body_str_exact_bytes_signed.replace('"value":27', '"value":28'));
    expect(res.status).toBe(401);
    expect(outbox.depth()).toBe(0);
    expect(rejected.list().entries.map((e) => e.reason)).toEqual(['E_SIGNATURE_BODY_MISMATCH']);
  });
});

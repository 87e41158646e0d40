import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlertMetrics, type AlertMetrics } from '../../../dashboards/alerts/alert-metrics.ts';
import { verifyWebhookSignature, WebhookAlertSink } from '../../../dashboards/alerts/webhook-alert-sink.ts';
import { FIRING, RESOLVED } from './event-fixture.ts';

const SECRET = 'test-secret-0123456789';
const NOW = 1_800_000_000_123;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver that answers with the given statuses in turn (the last one repeats). */
async function receiver(statuses: number[]): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server };
}

async function value(metrics: AlertMetrics, name: 'deliveries' | 'dropped', labels: Record<string, string>): Promise<number> {
  const m = await metrics[name].get();
  return m.values.find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))?.value ?? 0;
}

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

function sink(url: string, extra: Partial<ConstructorParameters<typeof WebhookAlertSink>[0]> = {}) {
  const metrics = createAlertMetrics(new Registry());
  const delays: number[] = [];
  const s = new WebhookAlertSink({
    webhook: { name: 'vaktsentral', url, secret: SECRET },
    metrics,
    clock: () => NOW,
    retryBaseMs: 100,
    random: () => 0.5,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...extra,
  });
  return { s, metrics, delays };
}

describe('WebhookAlertSink', () => {
  it('signs the body with HMAC-SHA256 over "<t>.<body>" and retries after a 500', async () => {
    const r = await receiver([500, 204]);
    servers.push(r.server);
    const { s, metrics, delays } = sink(r.url);
    s.send(FIRING);
    await s.drain();

    expect(r.received).toHaveLength(2);
    for (const { headers, body } of r.received) {
      expect(JSON.parse(body)).toEqual(FIRING);
      expect(headers['content-type']).toBe('application/json');
      expect(headers['x-itorg-delivery']).toBe('0123456789abcdef:firing');
      // NOW is 1_800_000_000.123 s; the timestamp is whole seconds.
      const expected = createHmac('sha256', SECRET).update(`1800000000.${body}`).digest('hex');
      expect(headers['x-itorg-signature']).toBe(`t=1800000000,v1=${expected}`);
    }
    // One retry after the first attempt: 0.5 × min(30 000, 100 × 2^0) = 50 ms.
    expect(delays).toEqual([50]);
    expect(await value(metrics, 'deliveries', { sink: 'webhook:vaktsentral', outcome: 'retried' })).toBe(1);
    expect(await value(metrics, 'deliveries', { sink: 'webhook:vaktsentral', outcome: 'delivered' })).toBe(1);
  });

  it('gives up after maxAttempts on persistent 503, with doubling backoff', async () => {
    const r = await receiver([503]);
    servers.push(r.server);
    const { s, metrics, delays } = sink(r.url, { maxAttempts: 4 });
    s.send(FIRING);
    await s.drain();
    expect(r.received).toHaveLength(4);
    expect(delays).toEqual([50, 100, 200]);
    expect(await value(metrics, 'dropped', { reason: 'retries_exhausted' })).toBe(1);
  });

  it('does not retry a 400 and keeps delivering the next event', async () => {
    const r = await receiver([400, 200]);
    servers.push(r.server);
    const { s, metrics, delays } = sink(r.url);
    s.send(FIRING);
    s.send(RESOLVED);
    await s.drain();
    expect(r.received.map((x) => (JSON.parse(x.body) as { state: string }).state)).toEqual(['firing', 'resolved']);
    expect(delays).toEqual([]);
    expect(await value(metrics, 'dropped', { reason: 'rejected' })).toBe(1);
    expect(await value(metrics, 'deliveries', { outcome: 'delivered' })).toBe(1);
  });

  it('retries a refused connection', async () => {
    const r = await receiver([200]);
    const url = r.url;
    await new Promise((done) => r.server.close(done));
    const { s, metrics } = sink(url, { maxAttempts: 2 });
    s.send(FIRING);
    await s.drain();
    expect(await value(metrics, 'deliveries', { outcome: 'retried' })).toBe(1);
    expect(await value(metrics, 'dropped', { reason: 'retries_exhausted' })).toBe(1);
  });

  it('bounds its queue and counts what it drops; filters by torg', async () => {
    const r = await receiver([200]);
    servers.push(r.server);
    const { s, metrics } = sink(r.url, { maxQueue: 2 });
    s.send({ ...FIRING, torg: 'sydby' }); // taken by the worker at once
    for (let i = 0; i < 5; i++) s.send({ ...FIRING, at: FIRING.at + i }); // 5 queued behind it; 3 oldest dropped
    await s.drain();
    expect(r.received).toHaveLength(3);
    expect(r.received.slice(1).map((x) => (JSON.parse(x.body) as { at: number }).at)).toEqual([FIRING.at + 3, FIRING.at + 4]);
    expect(await value(metrics, 'dropped', { reason: 'queue_full' })).toBe(3);

    const only = sink(r.url, { webhook: { name: 'bare-nordby', url: r.url, secret: SECRET, torg: ['nordby'] } });
    only.s.send({ ...FIRING, torg: 'sydby' });
    only.s.send(FIRING);
    await only.s.drain();
    expect(r.received).toHaveLength(4);
    expect((JSON.parse(r.received[3]!.body) as { torg: string }).torg).toBe('nordby');
  });

  it('verifyWebhookSignature accepts a fresh valid signature only', () => {
    const body = JSON.stringify(FIRING);
    const mac = createHmac('sha256', SECRET).update(`1800000000.${body}`).digest('hex');
    const header = `t=1800000000,v1=${mac}`;
    expect(verifyWebhookSignature(header, body, SECRET, NOW)).toBe(true);
    expect(verifyWebhookSignature(header, body + ' ', SECRET, NOW)).toBe(false);
    expect(verifyWebhookSignature(header, body, 'another-secret-0000', NOW)).toBe(false);
    expect(verifyWebhookSignature(header, body, SECRET, NOW + 301_000)).toBe(false);
    expect(verifyWebhookSignature(undefined, body, SECRET, NOW)).toBe(false);
  });
});

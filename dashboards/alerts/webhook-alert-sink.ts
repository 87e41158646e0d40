/**
 * POSTs alert events as JSON to configured webhooks, signed, retried, bounded.
 *
 * Signature: `X-Itorg-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the
 * scheme Stripe documents for its webhooks (https://docs.stripe.com/webhooks#verify-manually): the
 * timestamp is inside the MAC, so a receiver that rejects old timestamps also rejects replays, and it
 * compares in constant time (`verifyWebhookSignature` does both). `X-Itorg-Delivery` is
 * `<alert id>:<state>`, the same on every retry, so a receiver can drop duplicates.
 *
 * Retries: network errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and full
 * jitter (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/), at most
 * `maxAttempts` attempts; other 4xx are the receiver refusing the request and are not retried. Each
 * webhook has its own bounded queue and delivers in order, so a dead receiver delays only itself.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookConfig } from './alert-config.schema.ts';
import type { AlertEvent } from './alert-event.ts';
import type { AlertMetrics } from './alert-metrics.ts';
import type { AlertSink } from './alert-sink.ts';
import { DeliveryQueue } from './delivery-queue.ts';

export const SIGNATURE_HEADER = 'x-itorg-signature';
export const DELIVERY_HEADER = 'x-itorg-delivery';

export function signWebhook(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** For receivers: true when the header is a valid signature of `body` no older than `toleranceS`. */
export function verifyWebhookSignature(header: string | undefined, body: string, secret: string, nowMs: number, toleranceS = 300): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowMs / 1000 - t) > toleranceS) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  const given = Buffer.from(m[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface WebhookAlertSinkOptions {
  webhook: WebhookConfig;
  metrics: Pick<AlertMetrics, 'deliveries' | 'dropped'>;
  /** ms since epoch, for the signature timestamp. */
  clock: () => number;
  /** Attempts per event including the first; default 6 (about a minute of retrying with the defaults). */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  timeoutMs?: number;
  /** Events waiting per webhook; default 500. */
  maxQueue?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onGiveUp?: (event: AlertEvent, reason: string) => void;
}

type Attempt = { ok: true } | { ok: false; retry: boolean; reason: string };

export class WebhookAlertSink implements AlertSink {
  readonly name: string;
  private readonly queue: DeliveryQueue<AlertEvent>;
  private readonly maxAttempts: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly timeoutMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: WebhookAlertSinkOptions) {
    this.name = `webhook:${opts.webhook.name}`;
    this.maxAttempts = opts.maxAttempts ?? 6;
    this.baseMs = opts.retryBaseMs ?? 1000;
    this.maxMs = opts.retryMaxMs ?? 30_000;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.queue = new DeliveryQueue<AlertEvent>({
      maxItems: opts.maxQueue ?? 500,
      maxBatch: 1,
      handle: async ([event]) => this.deliver(event!),
      onDrop: (n, reason) => opts.metrics.dropped.inc({ sink: this.name, reason }, n),
      onError: (error, [event]) => this.giveUp(event!, 'failed', String(error)),
    });
  }

  send(event: AlertEvent): void {
    const only = this.opts.webhook.torg;
    if (only !== undefined && !only.includes(event.torg)) return;
    this.queue.push(event);
  }

  private async deliver(event: AlertEvent): Promise<void> {
    const body = JSON.stringify(event);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const r = await this.attempt(event, body);
      if (r.ok) {
        this.opts.metrics.deliveries.inc({ sink: this.name, outcome: 'delivered' });
        return;
      }
      if (!r.retry) return this.giveUp(event, 'rejected', r.reason);
      if (attempt + 1 < this.maxAttempts) {
        this.opts.metrics.deliveries.inc({ sink: this.name, outcome: 'retried' });
        // Full jitter: uniform in [0, min(max, base·2^attempt)].
        await this.sleep(Math.floor(this.random() * Math.min(this.maxMs, this.baseMs * 2 ** attempt)));
      } else {
        return this.giveUp(event, 'retries_exhausted', r.reason);
      }
    }
  }

  private giveUp(event: AlertEvent, reason: 'rejected' | 'retries_exhausted' | 'failed', detail: string): void {
    this.opts.metrics.deliveries.inc({ sink: this.name, outcome: 'failed' });
    this.opts.metrics.dropped.inc({ sink: this.name, reason });
    this.opts.onGiveUp?.(event, `${reason}: ${detail}`);
  }

  private async attempt(event: AlertEvent, body: string): Promise<Attempt> {
    // Signed per attempt: a receiver's timestamp tolerance must not fail a late retry.
    const signature = signWebhook(this.opts.webhook.secret, Math.floor(this.opts.clock() / 1000), body);
    try {
      const res = await fetch(this.opts.webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature, [DELIVERY_HEADER]: `${event.id}:${event.state}` },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
      // Read the body so the keep-alive socket is reused.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true };
      const retry = res.status >= 500 || res.status === 408 || res.status === 429;
      return { ok: false, retry, reason: `HTTP ${res.status}` };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      return { ok: false, retry: true, reason: e.cause?.code ?? e.name ?? 'network error' };
    }
  }

  drain(): Promise<void> {
    return this.queue.drain();
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

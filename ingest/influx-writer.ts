/**
 * PointWriter for InfluxDB's v1 write API (`POST /write?db=&rp=&precision=ms`), also served by
 * InfluxDB 2/3 as v1 compatibility (https://docs.influxdata.com/influxdb/v2/api-guide/influxdb-1x/write/).
 *
 * Retry policy. Retriable: network errors, timeouts, 5xx, 429, and 404/401/403 (database missing or
 * credentials wrong are configuration, not data: the points are fine and will be accepted once an
 * operator fixes it). Backoff is exponential with full jitter, capped at `retryMaxMs`
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/), and honours
 * Retry-After on 429/503. Attempts do NOT stop while the writer is open: giving up would drop data
 * that the broker already considers ours. What is bounded is delay per attempt, concurrency (the
 * caller's) and memory (the caller holds at most its in-flight budget, since nothing is acknowledged
 * to MQTT until written). close() ends the retrying with E_INFLUX_UNAVAILABLE; those messages were
 * never acknowledged, so the broker redelivers them.
 *
 * Permanent refusals: InfluxDB 1.x answers 400 for unparsable lines and for "partial write" (field
 * type conflict, points beyond retention) after storing the points it could. The body names the
 * cause but not reliably which lines, so the batch is bisected until each refused line stands alone;
 * re-writing accepted points is harmless because writes are idempotent (influx-layout.ts). 413
 * (request too large) halves the batch.
 */
import http from 'node:http';
import https from 'node:https';
import { PlatformError } from '../devices/contract/errors.ts';
import type { PointWriter, RejectedPoint, WriteOutcome } from './point-writer.ts';

export interface InfluxWriterOptions {
  url: string;
  db: string;
  rp?: string;
  precision?: 'ms' | 's' | 'u' | 'ns';
  token?: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Sockets kept open; set to at least the caller's write concurrency. */
  maxSockets?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called for every failed attempt that will be retried. */
  onRetry?: (info: { kind: InfluxErrorKind; status?: number; attempt: number; delayMs: number; message: string }) => void;
  /** Called for every request sent, with its outcome kind ('ok' or an error kind). */
  onAttempt?: (kind: 'ok' | InfluxErrorKind) => void;
}

export type InfluxErrorKind = 'network' | 'timeout' | 'server' | 'throttled' | 'not_found' | 'auth' | 'rejected' | 'too_large';

type AttemptResult =
  | { kind: 'ok' }
  | { kind: 'rejected'; reason: string }
  | { kind: 'too_large'; reason: string }
  | { kind: 'retry'; error: InfluxErrorKind; status?: number; retryAfterMs?: number; message: string };

/** Full-jitter backoff: uniform in [0, min(max, base·2^attempt)]. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - nowMs);
}

function errorReason(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: use the text as is
  }
  return body.slice(0, 1000);
}

export class InfluxWriter implements PointWriter {
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private readonly sleepFn: (ms: number) => Promise<void>;
  private closed = false;
  private readonly wakers = new Set<() => void>();

  constructor(private readonly opts: InfluxWriterOptions) {
    const base = new URL(opts.url);
    this.transport = base.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 4 });
    const u = new URL('write', base.href.endsWith('/') ? base.href : base.href + '/');
    u.searchParams.set('db', opts.db);
    if (opts.rp) u.searchParams.set('rp', opts.rp);
    u.searchParams.set('precision', opts.precision ?? 'ms');
    this.url = u;
    this.headers = { 'content-type': 'text/plain; charset=utf-8' };
    // Credentials in a header, not the query string, where proxies and access logs would keep them.
    // InfluxDB 1.x accepts Basic auth as well as u/p parameters (docs: "Authenticate with Basic
    // authentication"); 2.x/3.x take the token (`Token`), or Basic with the token as password.
    if (opts.token !== undefined) this.headers.authorization = `Token ${opts.token}`;
    else if (opts.password !== undefined) this.headers.authorization = `Basic ${Buffer.from(`${opts.username ?? ''}:${opts.password}`).toString('base64')}`;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.baseMs = opts.retryBaseMs ?? 200;
    this.maxMs = opts.retryMaxMs ?? 15_000;
    this.random = opts.random ?? Math.random;
    this.sleepFn = opts.sleep ?? ((ms) => this.interruptibleSleep(ms));
  }

  async write(lines: readonly string[]): Promise<WriteOutcome> {
    const rejected: RejectedPoint[] = [];
    if (lines.length > 0) await this.writeRange(lines, 0, lines.length, rejected);
    rejected.sort((a, b) => a.index - b.index);
    return { rejected };
  }

  /** Writes lines[from, to), bisecting on permanent refusal; appends refused lines to `rejected`. */
  private async writeRange(lines: readonly string[], from: number, to: number, rejected: RejectedPoint[]): Promise<void> {
    const body = (to - from === lines.length ? lines : lines.slice(from, to)).join('\n');
    const result = await this.writeWithRetry(body);
    if (result.kind === 'ok') return;
    if (to - from === 1) {
      rejected.push({ index: from, line: lines[from]!, reason: result.reason });
      return;
    }
    const mid = from + Math.ceil((to - from) / 2);
    await this.writeRange(lines, from, mid, rejected);
    await this.writeRange(lines, mid, to, rejected);
  }

  private async writeWithRetry(body: string): Promise<Exclude<AttemptResult, { kind: 'retry' }>> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new PlatformError('E_INFLUX_UNAVAILABLE', 'writer closed while the write was pending');
      const r = await this.attempt(body);
      this.opts.onAttempt?.(r.kind === 'ok' ? 'ok' : r.kind === 'retry' ? r.error : r.kind);
      if (r.kind !== 'retry') return r;
      const jittered = backoffDelay(attempt, this.baseMs, this.maxMs, this.random);
      const delayMs = r.retryAfterMs !== undefined ? Math.min(Math.max(r.retryAfterMs, jittered), this.maxMs) : jittered;
      this.opts.onRetry?.({ kind: r.error, status: r.status, attempt, delayMs, message: r.message });
      await this.sleepFn(delayMs);
    }
  }

  private attempt(body: string): Promise<AttemptResult> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: AttemptResult) => {
        if (!settled) {
          settled = true;
          resolve(r);
        }
      };
      const req = this.transport.request(
        this.url,
        { method: 'POST', agent: this.agent, headers: { ...this.headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status === 204 || status === 200) {
            res.resume();
            res.on('end', () => done({ kind: 'ok' }));
            res.on('error', () => done({ kind: 'ok' }));
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => done({ kind: 'retry', error: 'network', message: e.message }));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const reason = errorReason(text);
            const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
            if (status === 400) done({ kind: 'rejected', reason });
            else if (status === 413) done({ kind: 'too_large', reason: reason || 'request entity too large' });
            else if (status === 429) done({ kind: 'retry', error: 'throttled', status, retryAfterMs, message: reason });
            else if (status === 404) done({ kind: 'retry', error: 'not_found', status, message: reason });
            else if (status === 401 || status === 403) done({ kind: 'retry', error: 'auth', status, message: reason });
            else done({ kind: 'retry', error: 'server', status, retryAfterMs, message: `HTTP ${status}: ${reason}` });
          });
        },
      );
      req.setTimeout(this.timeoutMs, () => {
        done({ kind: 'retry', error: 'timeout', message: `no answer in ${this.timeoutMs} ms` });
        req.destroy();
      });
      req.on('error', (e: NodeJS.ErrnoException) => done({ kind: 'retry', error: 'network', message: e.code ?? e.message }));
      req.end(body);
    });
  }

  private interruptibleSleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.wakers]) wake();
    this.agent.destroy();
  }
}

/**
 * Reads one ICS feed — an http(s) URL or a file — bounded in time and size, with HTTP conditional
 * requests (RFC 9110 §13.1.2 If-None-Match, §13.1.3 If-Modified-Since; a 304 reuses the cached
 * body). The cache holds the last good body per source, so a feed that fails later is served from
 * it (and the error is still reported).
 */
import { open } from 'node:fs/promises';
import { PlatformError } from '../../devices/contract/errors.ts';
import type { ResolvedSource } from './bookings.schema.ts';

export interface CachedFeed {
  text: string;
  etag: string | null;
  lastModified: string | null;
}

/** Last good body per source key; one entry per configured feed, so bounded by the config. */
export type FeedCache = Map<string, CachedFeed>;

export interface FeedReadOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface FeedReadResult extends CachedFeed {
  /** true when the server answered 304 Not Modified. */
  notModified: boolean;
}

export const sourceKey = (s: ResolvedSource): string => (s.kind === 'url' ? s.url : `file:${s.path}`);

async function readBounded(body: ReadableStream<Uint8Array>, maxBytes: number, label: string): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new PlatformError('E_BOOKING_FEED_UNAVAILABLE', `${label}: larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readUrl(url: string, cache: FeedCache, o: FeedReadOptions, label: string): Promise<FeedReadResult> {
  const cached = cache.get(url);
  const headers: Record<string, string> = { accept: 'text/calendar' };
  if (cached?.etag) headers['if-none-match'] = cached.etag;
  if (cached?.lastModified) headers['if-modified-since'] = cached.lastModified;
  const doFetch = o.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, { headers, signal: AbortSignal.timeout(o.timeoutMs), redirect: 'follow' });
  } catch (err) {
    throw new PlatformError('E_BOOKING_FEED_UNAVAILABLE', `${label}: ${(err as Error).name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : (err as Error).message}`, { cause: err });
  }
  try {
    if (res.status === 304 && cached) {
      await res.body?.cancel();
      return { text: cached.text, notModified: true, etag: cached.etag, lastModified: cached.lastModified };
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new PlatformError('E_BOOKING_FEED_UNAVAILABLE', `${label}: HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > o.maxBytes) {
      await res.body?.cancel();
      throw new PlatformError('E_BOOKING_FEED_UNAVAILABLE', `${label}: Content-Length ${declared} exceeds ${o.maxBytes} bytes`);
    }
    const text = res.body ? await readBounded(res.body, o.maxBytes, label) : '';
    return { text, notModified: false, etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') };
  } catch (err) {
    if (err instanceof PlatformError) throw err;
    // The timeout signal also covers reading the body.
    throw new PlatformError('E_BOOKING_FEED_UNAVAILABLE', `${label}: ${(err as Error).message}`, { cause: err });
  }
}

async function readFileBounded(path: string, maxBytes: number, label: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new PlatformError('E_BOOKING_FEED_UNAVAILABLE', `${label}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new PlatformError('E_BOOKING_FEED_UNAVAILABLE', `${label}: file is ${size} bytes, limit ${maxBytes}`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * The feed's text and validators. The caller stores a body in the cache only once it parsed, so
 * the cache always holds a usable copy; a 304 answers from it.
 */
export async function readFeed(source: ResolvedSource, cache: FeedCache, o: FeedReadOptions, label: string): Promise<FeedReadResult> {
  if (source.kind === 'url') return readUrl(source.url, cache, o, label);
  return { text: await readFileBounded(source.path, o.maxBytes, label), notModified: false, etag: null, lastModified: null };
}

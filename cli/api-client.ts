/**
 * The CLI's client of the platform's HTTP API (ingest/api): one request, its error in the API's own
 * shape (`{ error: { code, message, retriable, detail } }`, ingest/api/route.ts), and a clear line
 * between "the API refused" and "no API answered", which the CLI turns into different exit codes.
 */
import { z } from 'zod';

export type Lang = 'nb' | 'en';

const apiErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), retriable: z.boolean(), detail: z.unknown().optional() }),
});

/** The API answered and refused (4xx, or 5xx in its own error shape). */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly apiMessage: string,
    readonly retriable: boolean,
    readonly detail: unknown,
  ) {
    super(`${code}: ${apiMessage}`);
    this.name = 'ApiRefusal';
  }
}

/** No API answered: connection refused, timeout, DNS, or a proxy's 502/503/504 page instead of the API. */
export class ApiUnreachable extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${url}: ${reason}`, options);
    this.name = 'ApiUnreachable';
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; never part of an error message. */
  token: string | undefined;
  lang: Lang;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class ApiClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: ApiClientOptions) {
    this.fetch = opts.fetch ?? fetch;
  }

  async request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, opts: { query?: Record<string, string | undefined>; body?: unknown } = {}): Promise<unknown> {
    const base = this.opts.baseUrl.endsWith('/') ? this.opts.baseUrl : `${this.opts.baseUrl}/`;
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    url.searchParams.set('lang', this.opts.lang);
    const headers: Record<string, string> = { accept: 'application/json', 'accept-language': this.opts.lang };
    if (this.opts.token !== undefined) headers['authorization'] = `Bearer ${this.opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const shown = `${method} ${url.origin}${url.pathname}`;
    let res: Response;
    try {
      res = await this.fetch(url, {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
    } catch (err) {
      // undici wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED', … } }).
      const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
      const reason =
        (err as Error).name === 'TimeoutError'
          ? 'timeout'
          : typeof cause?.code === 'string'
            ? cause.code
            : typeof cause?.message === 'string'
              ? cause.message
              : (err as Error).message;
      throw new ApiUnreachable(shown, reason, { cause: err });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok) {
      if (body === undefined) throw new ApiUnreachable(shown, `HTTP ${res.status} without a JSON body (is ${base} the platform API?)`);
      return body;
    }
    const err = apiErrorBody.safeParse(body);
    if (err.success) throw new ApiRefusal(res.status, err.data.error.code, err.data.error.message, err.data.error.retriable, err.data.error.detail);
    // Not the API's error shape: a reverse proxy or another server answered.
    if (res.status === 502 || res.status === 503 || res.status === 504) throw new ApiUnreachable(shown, `HTTP ${res.status} from a proxy, not the API`);
    throw new ApiRefusal(res.status, `HTTP_${res.status}`, res.statusText || 'unexpected answer', res.status >= 500, undefined);
  }
}

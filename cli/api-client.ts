/**
 * The CLI's client of the platform's HTTP API (ingest/api): one request, its error in the API's own
 * shape (`{ error: { code, message, retriable, detail } }`, ingest/api/route.ts), and a clear line
 * between "the API refused" and "no API answered", which the CLI turns into different exit codes.
 */
import { CommanderError, type Command } from 'commander';
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

  /** A JSON answer (every command but `report`). */
  async request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, opts: { query?: Record<string, string | undefined>; body?: unknown } = {}): Promise<unknown> {
    const { bytes, status, shown, base } = await this.send(method, path, { ...opts, accept: 'application/json' });
    const text = bytes.toString('utf8');
    try {
      if (text !== '') return JSON.parse(text) as unknown;
    } catch {
      // not JSON: said below
    }
    throw new ApiUnreachable(shown, `HTTP ${status} without a JSON body (is ${base} the platform API?)`);
  }

  /** A file answer (the monthly report's PDF or HTML): its bytes and content type; refusals as for `request`. */
  async requestBytes(path: string, opts: { query?: Record<string, string | undefined>; accept: string; timeoutMs?: number }): Promise<{ bytes: Buffer; contentType: string }> {
    const { bytes, contentType } = await this.send('GET', path, opts);
    return { bytes, contentType };
  }

  private async send(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    opts: { query?: Record<string, string | undefined>; body?: unknown; accept: string; timeoutMs?: number },
  ): Promise<{ bytes: Buffer; contentType: string; status: number; shown: string; base: string }> {
    const base = this.opts.baseUrl.endsWith('/') ? this.opts.baseUrl : `${this.opts.baseUrl}/`;
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    // A command may ask for another language than the CLI's (report --lang).
    if (!url.searchParams.has('lang')) url.searchParams.set('lang', this.opts.lang);
    // The API answers its errors in JSON whatever the request accepts.
    const accept = opts.accept === 'application/json' ? opts.accept : `${opts.accept}, application/json`;
    const headers: Record<string, string> = { accept, 'accept-language': this.opts.lang };
    if (this.opts.token !== undefined) headers['authorization'] = `Bearer ${this.opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const shown = `${method} ${url.origin}${url.pathname}`;
    let res: Response;
    try {
      res = await this.fetch(url, {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(opts.timeoutMs ?? this.opts.timeoutMs ?? 15_000),
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
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.ok) return { bytes, contentType: res.headers.get('content-type') ?? '', status: res.status, shown, base };
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch {
      body = undefined;
    }
    const err = apiErrorBody.safeParse(body);
    if (err.success) throw new ApiRefusal(res.status, err.data.error.code, err.data.error.message, err.data.error.retriable, err.data.error.detail);
    // Not the API's error shape: a reverse proxy or another server answered.
    if (res.status === 502 || res.status === 503 || res.status === 504) throw new ApiUnreachable(shown, `HTTP ${res.status} from a proxy, not the API`);
    throw new ApiRefusal(res.status, `HTTP_${res.status}`, res.statusText || 'unexpected answer', res.status >= 500, undefined);
  }
}

/** Exit codes of every API command (documented in each command's help). */
export const API_EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

/** The API answered 2xx, but not in the shape this CLI expects (a version mismatch, or a proxy's page). */
export class UnexpectedAnswer extends Error {}

const CALL_TEXT = {
  nb: {
    noToken: 'mangler API-token: sett ITORG_API_TOKEN (eller --token)',
    unreachable: 'API-et svarer ikke',
    retriable: '(kan prøves igjen)',
    unexpected: 'uventet svar fra API-et',
  },
  en: {
    noToken: 'no API token: set ITORG_API_TOKEN (or --token)',
    unreachable: 'the API does not answer',
    retriable: '(retriable)',
    unexpected: 'unexpected answer from the API',
  },
} as const;

/** What an API command needs of its surroundings (a subset of the CLI's io). */
export interface ApiCallIo {
  stderr(s: string): void;
  env: Readonly<Record<string, string | undefined>>;
  lang(): Lang;
  setExit(code: number): void;
  fetch?: typeof fetch;
}

export interface ApiCallOpts {
  api: string;
  token?: string;
}

/**
 * Runs one API command: token from --token or ITORG_API_TOKEN, a client, then the outcome as an exit
 * code (API_EXIT) with the API's refusal, an unreachable API or an unexpected answer on stderr.
 * `emptyIssuePath` names an issue without a path: the request part the command sends, e.g. `(body)`.
 */
export async function runApiCall(
  io: ApiCallIo,
  command: Command,
  opts: ApiCallOpts,
  body: (client: ApiClient) => Promise<void>,
  emptyIssuePath: string,
): Promise<void> {
  const err = (s: string) => io.stderr(s.endsWith('\n') ? s : `${s}\n`);
  const tx = CALL_TEXT[io.lang()];
  const token = opts.token ?? io.env['ITORG_API_TOKEN'];
  if (token === undefined || token === '') {
    command.error(tx.noToken, { exitCode: API_EXIT.usage, code: 'itorg.noToken' });
    return;
  }
  const client = new ApiClient({ baseUrl: opts.api, token, lang: io.lang(), ...(io.fetch ? { fetch: io.fetch } : {}) });
  try {
    await body(client);
    io.setExit(API_EXIT.ok);
  } catch (e) {
    if (e instanceof ApiRefusal) {
      err(`${e.code}: ${e.apiMessage}${e.retriable ? ` ${tx.retriable}` : ''}`);
      const issues = z.object({ issues: z.array(z.object({ path: z.string(), message: z.string() })) }).safeParse(e.detail);
      if (issues.success) for (const i of issues.data.issues) err(`  ${i.path || emptyIssuePath}: ${i.message}`);
      else if (e.detail !== undefined) err(`  ${JSON.stringify(e.detail)}`);
      io.setExit(API_EXIT.refused);
    } else if (e instanceof ApiUnreachable) {
      err(`${tx.unreachable}: ${e.message}`);
      io.setExit(API_EXIT.unreachable);
    } else if (e instanceof UnexpectedAnswer) {
      err(`${tx.unexpected}: ${e.message}`);
      io.setExit(API_EXIT.refused);
    } else {
      throw e;
    }
  }
}

/** Help text shown after every API command's help. */
export const API_EXIT_HELP =
  '\nExit codes: 0 ok, 1 the API refused, 2 usage error, 3 the API could not be reached.\nToken: set ITORG_API_TOKEN (preferred over --token); API URL: --api or ITORG_API_URL.';

/** Usage errors of the API commands exit 2 (commander's own default is 1); help (exit 0) stays 0. */
function apiUsageExit(e: CommanderError): never {
  throw new CommanderError(e.exitCode === 0 ? 0 : API_EXIT.usage, e.code, e.message);
}

/** A top-level API command: usage errors exit 2, output through the CLI's io, help shown after an error. */
export function apiCommand(program: Command, io: { stdout(s: string): void; stderr(s: string): void }, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .exitOverride(apiUsageExit)
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError();
}

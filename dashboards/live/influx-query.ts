/**
 * A small reader for InfluxDB's v1 `/query` API (InfluxQL), enough for the live state's rebuild and
 * the citizens' "usual" history: one GET per statement, `epoch=ms` so every time is ms since epoch
 * (https://docs.influxdata.com/influxdb/v1/tools/api/#query-http-endpoint), the response validated
 * with zod before anything reads it.
 */
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';

export interface InfluxQueryOptions {
  url: string;
  db: string;
  username?: string;
  password?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

const seriesSchema = z.object({
  name: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  columns: z.array(z.string()),
  values: z.array(z.array(z.unknown())).optional(),
});
const responseSchema = z.object({
  results: z
    .array(z.object({ statement_id: z.number().optional(), series: z.array(seriesSchema).optional(), error: z.string().optional() }))
    .optional(),
  error: z.string().optional(),
});

/** One row of a result: columns by name, plus the series' GROUP BY tags; `time` in ms. */
export type Row = Record<string, unknown>;

export type InfluxQuery = (influxql: string) => Promise<Row[]>;

/**
 * A query function. Network errors, timeouts and 5xx are E_INFLUX_UNAVAILABLE (retriable); a
 * statement InfluxDB refuses (syntax, unknown RP) is E_INFLUX_REJECTED, a bug or a configuration error.
 */
export function influxQuery(opts: InfluxQueryOptions): InfluxQuery {
  return async (influxql) => {
    const u = new URL('/query', opts.url);
    u.searchParams.set('db', opts.db);
    u.searchParams.set('epoch', 'ms');
    u.searchParams.set('q', influxql);
    // Basic auth in a header, not u/p in the URL (InfluxDB 1.x accepts both; 2.x/3.x's v1 API takes the token as password).
    const headers: Record<string, string> = opts.password !== undefined ? { authorization: `Basic ${Buffer.from(`${opts.username ?? ''}:${opts.password}`).toString('base64')}` } : {};
    let res: Response;
    let text: string;
    try {
      res = await fetch(u, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
      text = await res.text();
    } catch (err) {
      throw new PlatformError('E_INFLUX_UNAVAILABLE', `query: ${(err as Error).message}`, { cause: err });
    }
    if (res.status >= 500 || res.status === 429) throw new PlatformError('E_INFLUX_UNAVAILABLE', `query: HTTP ${res.status}`);
    let parsed: z.infer<typeof responseSchema>;
    try {
      parsed = responseSchema.parse(JSON.parse(text));
    } catch (err) {
      throw new PlatformError('E_INFLUX_REJECTED', `query: HTTP ${res.status}, unreadable answer`, { cause: err });
    }
    const failed = parsed.error ?? parsed.results?.find((r) => r.error !== undefined)?.error;
    if (failed !== undefined || !res.ok) throw new PlatformError('E_INFLUX_REJECTED', `query: ${failed ?? `HTTP ${res.status}`}`);
    const rows: Row[] = [];
    for (const s of (parsed.results ?? []).flatMap((r) => r.series ?? [])) {
      for (const values of s.values ?? []) {
        const row: Row = { ...s.tags };
        s.columns.forEach((c, i) => {
          row[c] = values[i];
        });
        rows.push(row);
      }
    }
    return rows;
  };
}

/** InfluxQL identifier quoting (double quotes; a double quote inside escaped). */
export function ident(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

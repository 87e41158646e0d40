/**
 * The dashboards' one reader for InfluxDB's v1 `/query` API (InfluxQL): the live state's rebuild, the
 * citizens' "usual" history, the metrics' raw readings and hourly aggregates, the indicators.
 *
 * Every statement goes as `POST /query` with a form body: 1.x answers SELECT and SHOW to GET as well,
 * but DELETE, DROP and the other writing statements only to POST
 * (https://docs.influxdata.com/influxdb/v1/tools/api/#query-http-endpoint), and 2.x/3.x's v1
 * compatibility API takes the same form (https://docs.influxdata.com/influxdb/v2/api-guide/influxdb-1x/query/).
 * `epoch=ms`: every time in a row is ms since epoch. The answer is validated with zod before anything
 * reads it.
 */
import { z } from 'zod';
import { PlatformError } from '../devices/contract/errors.ts';

export interface InfluxQueryOptions {
  url: string;
  db: string;
  /** With `password`: InfluxDB 1.x credentials, or for 2.x/3.x's v1 API any user and the token. */
  username?: string;
  password?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

// Each row of `values` is only checked to be an array here (one call per row, not per value): a month
// of stored hours is ~10^5 rows of ~30 values, and the readers check the values column by column
// (agg-hourly.ts hourBucketsFromSeries) or row by row, each against its own schema.
const valuesRow = z.custom<unknown[]>((v) => Array.isArray(v), { message: 'a row of values must be an array' });
const seriesSchema = z.object({
  name: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  columns: z.array(z.string()),
  values: z.array(valuesRow).optional(),
  partial: z.boolean().optional(),
});
const responseSchema = z.object({
  results: z
    .array(
      z.object({ statement_id: z.number().optional(), series: z.array(seriesSchema).optional(), error: z.string().optional(), partial: z.boolean().optional() }),
    )
    .optional(),
  error: z.string().optional(),
});

/** One row of a result: columns by name, plus the series' GROUP BY tags; `time` in ms. */
export type Row = Record<string, unknown>;
/** One series of a result as InfluxDB sends it: a value row per point, in `columns` order. */
export interface Series {
  name?: string | undefined;
  /** The series' GROUP BY tags. */
  tags?: Record<string, string> | undefined;
  columns: string[];
  values: unknown[][];
}

export type InfluxQuery = (influxql: string) => Promise<Row[]>;
export type InfluxSeriesQuery = (influxql: string) => Promise<Series[]>;

/** Enough of a statement or an answer to recognise it in a log line. */
const excerpt = (s: string): string => s.slice(0, 200);

/**
 * A query function. Network errors, timeouts, 429 and 5xx are E_INFLUX_UNAVAILABLE (retriable); a
 * statement InfluxDB refuses (syntax, unknown RP, missing database) or a result cut short is
 * E_INFLUX_REJECTED, a bug or a configuration error; both name the statement.
 */
export function influxQuery(opts: InfluxQueryOptions): InfluxQuery {
  const series = influxSeriesQuery(opts);
  return async (influxql) => rowsOf(await series(influxql));
}

/** Columns by name, plus the series' tags, one object per point. */
export function rowsOf(series: readonly Series[]): Row[] {
  const rows: Row[] = [];
  for (const s of series) {
    for (const values of s.values) {
      const row: Row = { ...s.tags };
      s.columns.forEach((c, i) => {
        row[c] = values[i];
      });
      rows.push(row);
    }
  }
  return rows;
}

/**
 * As influxQuery, but the answer stays in InfluxDB's columnar form: for large reads (a month of stored
 * hours), building an object per point costs more than the query.
 */
export function influxSeriesQuery(opts: InfluxQueryOptions): InfluxSeriesQuery {
  // Relative to the base URL, so a reverse-proxy path prefix (http://host/influx/) is kept.
  const endpoint = new URL('query', opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
  // Basic auth in a header: credentials stay out of URLs and access logs.
  const headers: Record<string, string> =
    opts.password !== undefined ? { authorization: `Basic ${Buffer.from(`${opts.username ?? ''}:${opts.password}`).toString('base64')}` } : {};
  const timeoutMs = opts.timeoutMs ?? 10_000;

  return async (influxql) => {
    let status: number;
    let text: string;
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        body: new URLSearchParams({ q: influxql, db: opts.db, epoch: 'ms' }),
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw new PlatformError('E_INFLUX_UNAVAILABLE', `query failed: ${(err as Error).message}: ${excerpt(influxql)}`, { cause: err });
    }
    if (status >= 500 || status === 429) throw new PlatformError('E_INFLUX_UNAVAILABLE', `query answered ${status}: ${excerpt(text)}`);
    let parsed: z.infer<typeof responseSchema>;
    try {
      parsed = responseSchema.parse(JSON.parse(text));
    } catch (err) {
      throw new PlatformError('E_INFLUX_REJECTED', `query answered ${status} with an unexpected body: ${excerpt(text)}`, { cause: err });
    }
    const results = parsed.results ?? [];
    const failed = parsed.error ?? results.find((r) => r.error !== undefined)?.error;
    // A statement error is a property of the query (or a missing database), not of the moment.
    if (failed !== undefined || status >= 400) throw new PlatformError('E_INFLUX_REJECTED', `${failed ?? status}: ${excerpt(influxql)}`);
    // `partial` marks a result cut by the server's [http] max-row-limit; a cut result would be silently wrong.
    if (results.some((r) => r.partial === true || (r.series ?? []).some((s) => s.partial === true))) {
      throw new PlatformError('E_INFLUX_REJECTED', `result truncated by max-row-limit; query a shorter range: ${excerpt(influxql)}`);
    }
    return results.flatMap((r) => r.series ?? []).map((s) => ({ name: s.name, tags: s.tags, columns: s.columns, values: s.values ?? [] }));
  };
}

/** InfluxQL identifier quoting: double quotes, backslash and double quote escaped (https://docs.influxdata.com/influxdb/v1/query_language/spec/#identifiers). */
export function ident(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

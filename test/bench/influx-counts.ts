/**
 * The bench's view of InfluxDB 1.x: create/drop a database and count stored points over the v1 HTTP
 * API (/query, InfluxQL). Responses are validated with zod: the bench's numbers are only as good as
 * its parsing of them.
 */
import { COUNTED, PROBE } from './bench-workload.ts';
import { queryResponseSchema, type Series } from '../support/services.ts';


export class InfluxCounts {
  constructor(
    private readonly url: string,
    readonly db: string,
    /** Retention policy the consumers write to; also the database's default. */
    readonly rp: string,
  ) {}

  private async query(q: string, method: 'GET' | 'POST' = 'GET'): Promise<Series[][]> {
    const params = new URLSearchParams({ q, db: this.db, epoch: 'ms' });
    const res = await fetch(`${this.url}/query?${params.toString()}`, { method });
    const body = queryResponseSchema.parse(await res.json());
    if (!res.ok || body.error !== undefined) throw new Error(`InfluxDB ${res.status}: ${body.error ?? 'query failed'} (${q})`);
    return body.results.map((r) => {
      if (r.error !== undefined) throw new Error(`InfluxDB: ${r.error} (${q})`);
      return r.series ?? [];
    });
  }

  /** A fresh database whose default RP is the one the consumers write to. */
  async recreate(): Promise<void> {
    await this.query(`DROP DATABASE "${this.db}"`, 'POST');
    await this.query(`CREATE DATABASE "${this.db}" WITH DURATION 90d REPLICATION 1 NAME "${this.rp}"`, 'POST');
  }

  async drop(): Promise<void> {
    await this.query(`DROP DATABASE "${this.db}"`, 'POST');
  }

  private from(measurement: string): string {
    return `"${this.db}"."${this.rp}"."${measurement}"`;
  }

  /** Workload points stored (every measurement of COUNTED). */
  async total(): Promise<number> {
    const q = COUNTED.map((c) => `SELECT count("${c.field}") FROM ${this.from(c.measurement)}`).join('; ');
    const results = await this.query(q);
    let sum = 0;
    for (const series of results) for (const s of series) sum += firstNumber(s);
    return sum;
  }

  async probes(): Promise<number> {
    const [series] = await this.query(`SELECT count("${PROBE.field}") FROM ${this.from(PROBE.measurement)} WHERE "device" = '${PROBE.device}'`);
    return (series ?? []).reduce((a, s) => a + firstNumber(s), 0);
  }

  /** Workload points per time bucket in [fromMs, toMs), summed over the measurements. */
  async perBucket(fromMs: number, toMs: number, bucketMs: number): Promise<Map<number, number>> {
    const where = `WHERE time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY time(${bucketMs}ms) fill(none)`;
    const q = COUNTED.map((c) => `SELECT count("${c.field}") FROM ${this.from(c.measurement)} ${where}`).join('; ');
    const out = new Map<number, number>();
    for (const series of await this.query(q)) {
      for (const s of series) {
        for (const row of s.values ?? []) {
          const [t, n] = row;
          if (typeof t !== 'number' || typeof n !== 'number') continue;
          out.set(t, (out.get(t) ?? 0) + n);
        }
      }
    }
    return out;
  }
}

function firstNumber(s: Series): number {
  const v = s.values?.[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

/**
 * The dashboards' InfluxDB v1 /query client against REAL InfluxDB 1.x (test/support/services.ts):
 * rows with GROUP BY tags and ms times, DELETE over the same POST, refused statements, an unreachable
 * server, and a result cut by [http] max-row-limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatformError } from '../../devices/contract/errors.ts';
import { RP_AGGREGATES } from '../../devices/contract/influx-layout.ts';
import { ident, influxQuery } from '../../dashboards/influx-query.ts';
import { freePort, startInfluxDB, type InfluxHandle } from '../support/services.ts';

let influx: InfluxHandle;

// Fixed times of November 2023 are older than RP_RAW keeps; RP_AGGREGATES keeps them forever.
const M = `"${RP_AGGREGATES}"."q_m"`;

async function write(handle: InfluxHandle, lines: string[]): Promise<void> {
  const res = await fetch(`${handle.url}/write?db=${handle.db}&rp=${RP_AGGREGATES}&precision=ms`, { method: 'POST', body: lines.join('\n') });
  expect(res.status).toBe(204);
}

async function rejection(p: Promise<unknown>): Promise<PlatformError> {
  const err: unknown = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlatformError);
  return err as PlatformError;
}

beforeAll(async () => {
  influx = await startInfluxDB();
  // Three points in two series; times in ms chosen by hand.
  await write(influx, ['q_m,room=a v=1 1700000000000', 'q_m,room=a v=2 1700000060000', 'q_m,room=b v=5 1700000000000']);
});
afterAll(async () => {
  await influx?.dispose();
});

describe('influxQuery (real InfluxDB)', () => {
  it('returns one row per point, with ms times and the GROUP BY tags merged in', async () => {
    const query = influxQuery({ url: influx.url, db: influx.db });
    const rows = await query(`SELECT "v" FROM ${M} GROUP BY "room"`);
    expect(rows).toEqual([
      { room: 'a', time: 1700000000000, v: 1 },
      { room: 'a', time: 1700000060000, v: 2 },
      { room: 'b', time: 1700000000000, v: 5 },
    ]);
  });

  it('accepts a base URL with a trailing slash', async () => {
    const rows = await influxQuery({ url: `${influx.url}/`, db: influx.db })(`SELECT "v" FROM ${M} WHERE "room" = 'b'`);
    expect(rows).toEqual([{ time: 1700000000000, v: 5 }]);
  });

  it('runs DELETE (which InfluxDB 1.x accepts only as POST)', async () => {
    await write(influx, ['q_del v=1 1700000000000', 'q_del v=2 1700000060000']);
    const query = influxQuery({ url: influx.url, db: influx.db });
    expect(await query('DELETE FROM "q_del" WHERE time < 1700000030000ms')).toEqual([]);
    expect(await query(`SELECT "v" FROM "${RP_AGGREGATES}"."q_del"`)).toEqual([{ time: 1700000060000, v: 2 }]);
  });

  it('refuses an unknown retention policy as E_INFLUX_REJECTED, not retriable, naming the statement', async () => {
    const statement = 'SELECT "v" FROM "no_such_rp"."q_m"';
    const err = await rejection(influxQuery({ url: influx.url, db: influx.db })(statement));
    expect(err.code).toBe('E_INFLUX_REJECTED');
    expect(err.retriable).toBe(false);
    expect(err.message).toContain('retention policy not found');
    expect(err.message).toContain(statement);
  });

  it('refuses a syntax error (HTTP 400) as E_INFLUX_REJECTED', async () => {
    const err = await rejection(influxQuery({ url: influx.url, db: influx.db })(`SELEC "v" FROM ${M}`));
    expect(err.code).toBe('E_INFLUX_REJECTED');
    expect(err.message).toContain(`SELEC "v" FROM ${M}`);
  });

  it('reports a server nobody listens on as E_INFLUX_UNAVAILABLE, retriable', async () => {
    const port = await freePort();
    const err = await rejection(influxQuery({ url: `http://127.0.0.1:${port}`, db: 'x', timeoutMs: 2_000 })('SELECT 1'));
    expect(err.code).toBe('E_INFLUX_UNAVAILABLE');
    expect(err.retriable).toBe(true);
  });

  it('refuses a result cut by max-row-limit instead of returning part of it', async () => {
    // influxd applies INFLUXDB_<SECTION>_<KEY> over its config file
    // (https://docs.influxdata.com/influxdb/v1/administration/config/#environment-variables); the
    // start script passes this process's environment on.
    process.env['INFLUXDB_HTTP_MAX_ROW_LIMIT'] = '2';
    let limited: InfluxHandle;
    try {
      limited = await startInfluxDB();
    } finally {
      delete process.env['INFLUXDB_HTTP_MAX_ROW_LIMIT'];
    }
    try {
      await write(limited, ['q_m v=1 1700000000000', 'q_m v=2 1700000060000', 'q_m v=3 1700000120000']);
      const query = influxQuery({ url: limited.url, db: limited.db });
      // Two points fit the limit and come back whole.
      expect(await query(`SELECT "v" FROM ${M} WHERE time < 1700000100000ms`)).toEqual([
        { time: 1700000000000, v: 1 },
        { time: 1700000060000, v: 2 },
      ]);
      const err = await rejection(query(`SELECT "v" FROM ${M}`));
      expect(err.code).toBe('E_INFLUX_REJECTED');
      expect(err.message).toContain('max-row-limit');
    } finally {
      await limited.dispose();
    }
  });
});

describe('ident', () => {
  it('double-quotes an identifier and escapes backslash and double quote', () => {
    expect(ident('raw')).toBe('"raw"');
    expect(ident('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});

/**
 * `innbyggertorg import` against a real InfluxDB: the CLI process is run as a user would run it and
 * the points are read back with InfluxQL. Expected counts and values come from the fixture by hand
 * (test/fixtures/csv/README.md).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxDB, type InfluxHandle } from '../support/services.ts';
import { runCli } from '../support/cli.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/csv/${name}`, import.meta.url));
// The fixture is from November 2025; the default RP "raw" keeps 90 days, so the import goes to an
// infinite RP, as a historical import would.
const RP = 'history';

const cli = runCli;

describe('innbyggertorg import (real InfluxDB)', () => {
  let influx: InfluxHandle;
  const common = () => ['--torg', 'asker-sentrum', '--gateway', 'gw-import', '--influx-url', influx.url, '--db', influx.db, '--rp', RP, '--max-age-days', '100000'];

  beforeAll(async () => {
    influx = await startInfluxDB();
    await influx.query(`CREATE RETENTION POLICY "${RP}" ON "${influx.db}" DURATION INF REPLICATION 1`);
  });
  afterAll(async () => {
    await influx?.dispose();
  });

  it('accepts the good rows, rejects the bad ones with reasons and line numbers, exit code 2', async () => {
    const r = await cli(['import', fixture('import-mixed.csv'), ...common()]);
    expect(r.stderr).not.toMatch(/Failed/);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Imported: 19 rows, 9 accepted, 10 rejected');
    expect(r.stdout).toContain('E_READING_INVALID: 5');
    expect(r.stdout).toContain('E_READING_OUT_OF_RANGE: 3');
    expect(r.stdout).toContain('E_READING_TIME_FUTURE: 1');
    expect(r.stdout).toContain('E_CSV_ROW: 1');
    const rejectedLines = [...r.stdout.matchAll(/line (\d+): (E_[A-Z_]+)/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(rejectedLines).toEqual([
      '11:E_READING_INVALID',
      '12:E_READING_INVALID',
      '13:E_READING_OUT_OF_RANGE',
      '14:E_READING_INVALID',
      '15:E_READING_OUT_OF_RANGE',
      '16:E_READING_INVALID',
      '17:E_READING_TIME_FUTURE',
      '18:E_READING_INVALID',
      '19:E_CSV_ROW',
      '20:E_READING_OUT_OF_RANGE',
    ]);

    const q = (m: string) => influx.select(`SELECT * FROM "${RP}"."${m}" ORDER BY time`);
    const t = (iso: string) => Date.parse(iso);
    expect(await q('counter')).toEqual([
      { time: t('2025-11-03T09:00:00Z'), device: '24e1240000000001', line: 'line-1', torg: 'asker-sentrum', periodIn: 5, periodOut: 3, periodSeconds: 600, totalIn: 65534, totalOut: 1200 },
      { time: t('2025-11-03T09:10:00Z'), device: '24e1240000000001', line: 'main', torg: 'asker-sentrum', periodIn: null, periodOut: null, periodSeconds: null, totalIn: 12, totalOut: 7 },
    ]);
    expect(await q('presence')).toEqual([
      { time: t('2025-11-03T09:00:00Z'), device: '24e1240000000002', torg: 'asker-sentrum', occupied: true, count: 4 },
      { time: t('2025-11-03T09:10:00Z'), device: '24e1240000000002', torg: 'asker-sentrum', occupied: false, count: null },
    ]);
    expect(await q('door')).toEqual([
      { time: t('2025-11-03T09:05:00Z'), device: '24e1240000000003', torg: 'asker-sentrum', open: true, openings: 17 },
      { time: t('2025-11-03T09:20:00Z'), device: '24e1240000000003', torg: 'asker-sentrum', open: null, openings: 18 },
    ]);
    expect(await q('climate')).toEqual([
      { time: t('2025-11-03T09:00:00Z'), device: '24e1240000000004', torg: 'asker-sentrum', temperature: 21.5, humidity: 34, co2: 812, tvoc: 120, pressure: 1009.8, illuminance: 420 },
      { time: t('2025-11-03T09:10:00Z'), device: '24e1240000000004', torg: 'asker-sentrum', temperature: null, humidity: null, co2: 1000, tvoc: null, pressure: null, illuminance: null },
    ]);
    expect(await q('health')).toEqual([
      { time: t('2025-11-03T09:00:00Z'), device: '24e1240000000005', torg: 'asker-sentrum', battery: 87.5, rssi: -97, snr: 6.25 },
    ]);
    // co2 is a float field even when the CSV value is whole: a later 812.5 must not conflict.
    const types = await influx.select(`SHOW FIELD KEYS FROM "${RP}"."climate"`);
    expect(types).toContainEqual({ fieldKey: 'co2', fieldType: 'float' });
  });

  it('exit code 0 when every row is accepted; re-importing rewrites the same points', async () => {
    const r = await cli(['import', fixture('import-good.csv'), ...common()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Imported: 9 rows, 9 accepted, 0 rejected');
    expect(await influx.count(`"${RP}"."counter"`)).toBe(2);
    expect(await influx.count(`"${RP}"."climate"`)).toBe(2);
  });

  it('exit code 1 and a message naming the database when it does not exist', async () => {
    const r = await cli(['import', fixture('import-good.csv'), '--torg', 'heggedal', '--gateway', 'gw-heggedal', '--influx-url', influx.url, '--db', 'finnes_ikke']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_CONFIG_INVALID.*finnes_ikke/);
  });
});

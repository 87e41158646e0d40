/**
 * The monthly report's reads fit the ingest's heap. The service builds the report in the ingest
 * process, which runs with ingest/node-flags (a 128 MB heap); holding two months of stored hours of
 * every module, torg and the municipality at once (as before the issue 6 benchmark work) ended that
 * process with V8's out-of-memory error for the 7 sample torg. Here the stored hours of September and
 * October 2026 for config/torg.asker.sample.json are written to a real InfluxDB 1.6 (the buckets of
 * days without readings: every scope, split and hour, as many points as with readings), and the
 * report's three reads run in a child process with the ingest's flags.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { RP_AGGREGATES } from '../../../devices/contract/influx-layout.ts';
import { localDay, localMonth } from '../../../devices/torg/opening-hours.ts';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { hourBucketsToLines } from '../../../dashboards/metrics/agg-hourly.ts';
import { computeHourBuckets } from '../../../dashboards/metrics/metrics-engine.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { startInfluxDB, type InfluxHandle } from '../../support/services.ts';
import { runReportReads } from './report-reads.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const torgs = loadTorgConfig(`${root}config/torg.asker.sample.json`).torg;

describe('monthly report reads in the ingest heap (real InfluxDB, child process)', () => {
  let influx: InfluxHandle;
  let points = 0;
  beforeAll(async () => {
    influx = await startInfluxDB();
    const writer = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_AGGREGATES, precision: 'ms' });
    try {
      const october = localMonth(Date.parse('2026-10-15T12:00:00Z'));
      for (let start = localMonth(october.startMs - 1).startMs; start < october.endMs; ) {
        const day = localDay(start);
        const lines = hourBucketsToLines(
          computeHourBuckets({ torgs, fromMs: day.startMs, toMs: day.endMs, readings: { presence: [], counter: [], climate: [] }, assignments: () => null }),
        );
        for (let i = 0; i < lines.length; i += 10_000) expect((await writer.write(lines.slice(i, i + 10_000))).rejected).toEqual([]);
        points += lines.length;
        start = day.endMs;
      }
    } finally {
      await writer.close();
    }
  }, 300_000);
  afterAll(async () => {
    await influx?.dispose();
  });

  it('reads the month, its indicators and the recommendations without running out of heap', async () => {
    // 61 days of 7 torg and 38 zones.
    expect(points).toBeGreaterThan(150_000);
    const result = await runReportReads(influx.url, influx.db, '2026-10');
    expect(result, result.ok ? '' : result.stderrTail).toMatchObject({ ok: true, heapLimitMb: expect.any(Number) });
    if (result.ok) expect(result.heapLimitMb).toBeLessThan(200); // the flags applied: 128 MB old space + young generation
  }, 300_000);
});

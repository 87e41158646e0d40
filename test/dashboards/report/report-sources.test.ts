/**
 * createReportSources against a real InfluxDB 1.6: raw counter readings written with the ingest's
 * line protocol, two days of hours stored the way the metrics job stores them (recomputeDay), dead
 * letters written as the ingest's DeadLetterSink writes them. The report's figures are checked
 * against hand sums of the readings and against the metrics API's query for the same month.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import type { AssignmentLookup } from '../../../dashboards/metrics/metrics-engine.ts';
import { createMetricsQuery } from '../../../dashboards/metrics/metrics-routes.ts';
import { recomputeDay } from '../../../dashboards/metrics/recompute.ts';
import { buildReport } from '../../../dashboards/report/build-report.ts';
import { countDeadLetters, createReportSources } from '../../../dashboards/report/report-sources.ts';
import { RP_AGGREGATES, RP_RAW } from '../../../devices/contract/influx-layout.ts';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { DeadLetterSink, type DeadLetter } from '../../../ingest/dead-letter.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { readingToLine } from '../../../ingest/line-protocol.ts';
import { capturedLogger } from '../../support/captured-log.ts';
import { startInfluxDB, type InfluxHandle } from '../../support/services.ts';
import { ALFA, NOW, OCT, TORGS } from './report-fixture.ts';

const t = (iso: string): number => Date.parse(iso);
const places: AssignmentLookup = (device) => (device === 'teller-a' ? { torg: 'alfa', place: { type: 'entrance', entrance: 'hoved', line: 'main' } } : null);
const counter = (iso: string, periodIn: number): string =>
  readingToLine('alfa', readingSchema.parse({ kind: 'counter', device: 'teller-a', time: iso, line: 'main', periodIn, periodOut: 0, periodSeconds: 900 }), t(iso));

describe('createReportSources (real InfluxDB)', () => {
  let influx: InfluxHandle;
  let raw: InfluxWriter;
  let agg: InfluxWriter;
  let reader: InfluxMetricsReader;
  const { log } = capturedLogger();

  beforeAll(async () => {
    influx = await startInfluxDB();
    raw = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_RAW, precision: 'ms' });
    agg = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_AGGREGATES, precision: 'ms' });
    reader = new InfluxMetricsReader({ url: influx.url, db: influx.db });

    // Sunday 2026-10-25, the fall-back day (UTC+1 from 03:00): alfa is meråpent 07–10, closed after.
    // 08:30 local = 07:30Z (meråpent, 5 in); 10:00–15:00 local = 09:00–14:00Z hourly (closed, 7 in each).
    // Tuesday 2026-09-15 (UTC+2): 11:00, 12:00, 13:00 local = 09:00–11:00Z (staffed, 10 in each).
    const lines = [
      counter('2026-10-25T07:30:00Z', 5),
      ...[9, 10, 11, 12, 13, 14].map((h) => counter(`2026-10-25T${String(h).padStart(2, '0')}:00:00Z`, 7)),
      ...[9, 10, 11].map((h) => counter(`2026-09-15T${String(h).padStart(2, '0')}:00:00Z`, 10)),
    ];
    expect((await raw.write(lines)).rejected).toEqual([]);
    const deps = { torgs: TORGS, assignments: places, store: reader, writer: agg, log };
    await recomputeDay(deps, '2026-09-15');
    await recomputeDay(deps, '2026-10-25');

    // Dead letters as the ingest writes them: inside October, on both boundaries, and outside.
    let clock = 0;
    const sink = new DeadLetterSink({ instance: 'ingest-test', maxChars: 200, now: () => clock, publish: () => undefined });
    const dl = (at: number, d: Partial<DeadLetter>): string => {
      clock = at;
      return sink.record({ reason: 'E_READING_INVALID', detail: 'x', topic: 'itorg/v1/alfa/gw-1/readings', torg: 'alfa', gateway: 'gw-1', payload: '{}', ...d });
    };
    // In time order: the sink never goes back in time (it moves a dead letter to the next free ms).
    const deadLines = [
      dl(OCT.startMs - 1, {}), // 2026-09-30 23:59:59.999 Oslo: September
      dl(OCT.startMs, {}), // 2026-10-01 00:00 Oslo: inside (half-open month)
      dl(t('2026-10-10T12:00:00Z'), {}),
      dl(t('2026-10-10T12:00:00Z'), {}), // same ms: stored 1 ms later
      dl(t('2026-10-12T08:00:00Z'), { reason: 'E_DEVICE_UNKNOWN' }),
      dl(t('2026-10-15T08:00:00Z'), { torg: 'beta', gateway: 'gw-9' }),
      dl(t('2026-10-20T08:00:00Z'), { reason: 'E_PAYLOAD_NOT_JSON', torg: undefined, gateway: undefined, topic: 'junk' }),
      dl(OCT.endMs - 1, { reason: 'E_PAYLOAD_NOT_JSON', torg: undefined, gateway: undefined, topic: 'junk' }),
      dl(OCT.endMs, {}), // 2026-11-01 00:00 Oslo: November
    ];
    expect((await raw.write(deadLines)).rejected).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await raw?.close();
    await agg?.close();
    await influx?.dispose();
  });

  it('counts dead letters per torg and reason over the half-open month', async () => {
    const counts = await countDeadLetters(reader, OCT.startMs, OCT.endMs);
    const key = (c: { torg: string | null; code: string }) => `${c.torg}/${c.code}`;
    expect(counts.map((c) => [key(c), c.count]).sort()).toEqual(
      [
        ['alfa/E_READING_INVALID', 3],
        ['alfa/E_DEVICE_UNKNOWN', 1],
        ['beta/E_READING_INVALID', 1],
        ['null/E_PAYLOAD_NOT_JSON', 2],
      ].sort(),
    );
    expect(await countDeadLetters(reader, OCT.endMs, OCT.endMs + 86_400_000)).toEqual([{ torg: 'alfa', code: 'E_READING_INVALID', count: 1 }]);
  });

  it('builds the report from stored hours; visits equal the hand sums and the metrics API', async () => {
    const deps = { store: reader, torgs: TORGS, now: () => NOW, influx: reader };
    const sources = createReportSources(deps);
    const month = await sources.metricsMonth('2026-10');
    // September (30 days) and October (31): all but the two stored days are missing.
    expect(month.missingDays).toHaveLength(59);
    expect(month.missingDays).not.toContain('2026-10-25');
    expect(month.computedDays).toEqual([]);

    const r = await buildReport(sources, { month: '2026-10', torgs: TORGS, municipality: 'Testkommune', minCount: 5, now: () => NOW });
    const alfa = r.torgs.find((x) => x.id === 'alfa')!;
    // Split `all` is open time: 07–10 meråpent on this Sunday. The 08:30 count (5) and the count of
    // the period ending 10:00 (7) are in it: 12. The five ending 11:00–15:00 are closed time: 35.
    // September: 3 × 10 = 30, staffed.
    expect(alfa.visits).toEqual({ value: 12, suppressed: false });
    expect(alfa.visitsTrend).toEqual({ previous: { value: 30, suppressed: false }, absolute: -18, relative: -0.6 });
    expect(alfa.visitsBySplit.meraapent).toEqual({ value: 12, suppressed: false });
    expect(alfa.visitsBySplit.closed).toEqual({ value: 35, suppressed: false });
    expect(alfa.meraapent.shareOfVisits).toBe(1);
    // The daily row of the 25-hour day: open and closed time together are not a split; `all` is open time.
    expect(alfa.dailyVisits.find((d) => d.date === '2026-10-25')!.visits).toEqual({ value: 12, suppressed: false });
    expect(alfa.openHours).toEqual({ month: 745, staffed: 132, meraapent: 93 });
    expect(r.summary.visits).toEqual({ value: 12, suppressed: false });
    expect(r.dataQuality.deadLetters).toEqual({
      total: 7,
      byCode: [
        { code: 'E_READING_INVALID', count: 4 },
        { code: 'E_PAYLOAD_NOT_JSON', count: 2 },
        { code: 'E_DEVICE_UNKNOWN', count: 1 },
      ],
      unattributed: 2,
    });
    expect(r.dataQuality.torgs.map((q) => [q.torg, q.deadLetters])).toEqual([
      ['alfa', 4],
      ['beta', 1],
    ]);
    expect(r.dataQuality.missingDays).toHaveLength(59);

    // The same month through the metrics API's query.
    const api = createMetricsQuery(deps);
    const torgRow = (await api({ scope: 'torg', id: ALFA.id, period: 'month', from: '2026-10', split: 'all' })).rows[0]!;
    expect(torgRow.visits).toBe(alfa.visits.value);
    expect(torgRow.completeness).toBe(alfa.completeness);
    const staffedRow = (await api({ scope: 'torg', id: ALFA.id, period: 'month', from: '2026-10', split: 'staffed' })).rows[0]!;
    expect(staffedRow.visits === null || staffedRow.visits < 5 ? null : staffedRow.visits).toBe(alfa.visitsBySplit.staffed.value);
    const muniRow = (await api({ scope: 'municipality', period: 'month', from: '2026-10', split: 'all' })).rows[0]!;
    expect(muniRow.visits).toBe(r.summary.visits.value);
    const moduleRow = (await api({ scope: 'module', id: 'alfa/møterom', period: 'month', from: '2026-10', split: 'all' })).rows[0]!;
    expect(moduleRow.utilisation).toBe(alfa.modules.find((m) => m.module === 'møterom')!.utilisation);

    // Sources not configured answer null, and the report says so.
    expect(await sources.indicators('2026-10')).toBeNull();
    expect(await sources.recommendations(NOW)).toBeNull();
    expect(await sources.bookings('2026-10')).toBeNull();
    expect(r.definitionVersions).toEqual({ indicators: null, recommendations: null });
  }, 120_000);
});

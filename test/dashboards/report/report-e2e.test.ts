/**
 * The monthly report end to end (issue 7 "Tests"): a simulated October 2026 — with its DST change on
 * Sunday 25 October, a 25-hour day — for two sample torg, written as raw readings to a real InfluxDB;
 * hours stored per local day (recomputeDay) and the month's indicators stored by the IndicatorJob,
 * as the service does; then the report fetched through the real HTTP API and read back with
 * pdftotext. Every visits, utilisation and indicator number the API's own routes give for the month
 * (/api/v1/metrics, /api/v1/indicators) must be in the PDF, formatted as render-html.ts documents
 * (README "Monthly report"; nb-NO numbers); the pages go to test-artifacts/report/ as PNG; and the
 * `report` CLI against the same API writes both files.
 *
 * The expected texts are formatted here from the API's JSON with Intl.NumberFormat('nb-NO') and the
 * documented options, not with the renderer's own formatter.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RP_RAW } from '../../../devices/contract/influx-layout.ts';
import { loadIndicatorFile } from '../../../dashboards/indicators/indicator-definition.schema.ts';
import { IndicatorJob } from '../../../dashboards/indicators/indicator-job.ts';
import { IndicatorStore } from '../../../dashboards/indicators/indicator-store.ts';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import { metricsResponseSchema, indicatorsResponseSchema, createIndicatorComputer, effectRoutes, metricsRoutes, type MetricsRoutesDeps } from '../../../dashboards/metrics/metrics-routes.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { reportDataSchema, type ReportData } from '../../../dashboards/report/report-data.schema.ts';
import { reportRoutes } from '../../../dashboards/report/report-routes.ts';
import { createReportSources } from '../../../dashboards/report/report-sources.ts';
import { loadSkaleringRules } from '../../../dashboards/skalering/skalering-rules.schema.ts';
import { addReportCommands } from '../../../cli/report-commands.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { runCommandsInProcess } from '../../support/cli.ts';
import { startInfluxDB, type InfluxHandle } from '../../support/services.ts';
import { startTestApi, type TestApi } from '../../ingest/api/api-server.ts';
import { seedMonth, TORG_IDS, type SeededMonth } from './report-e2e-fixture.ts';
import { CHROMIUM, ROOT, ensureReportTools, pdfPages, pdfText, pdfToPngs } from './pdf-tools.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'report');
/** Monday 2 November 2026, 09:00 Oslo: October is over and its hours are stored. */
const NOW = Date.parse('2026-11-02T08:00:00Z');
/** Oslo month boundaries: 1 September 00:00 CEST, 24 September (simulation start), 1 November 00:00 CET. */
const SEP_1 = Date.parse('2026-08-31T22:00:00Z');
const SEP_24 = Date.parse('2026-09-23T22:00:00Z');
const NOV_1 = Date.parse('2026-10-31T23:00:00Z');
const MIN_COUNT = 5;
/**
 * Seeding and each report build read weeks of stored hours; on the shared 2-core machine under load
 * one build took 12 s (measured), so the hooks and the longer tests get more than vitest.config's 120 s.
 */
const SLOW_MS = 300_000;

let influx: InfluxHandle;
let seeded: SeededMonth;
let api: TestApi;
let storedMonths: string[] = [];

/** Dead letters as the ingest's sink writes them (DEADLETTER_MEASUREMENT): 3 for Heggedal and 2 without a torg in October, 1 in September. */
function deadLetterLines(): string[] {
  const dl = (reason: string, torg: string, iso: string) =>
    `deadletter,reason=${reason},torg=${torg},gateway=gw-1,instance=test topic="itorg/v1/${torg}/gw-1/readings",detail="seeded" ${Date.parse(iso)}`;
  return [
    dl('E_READING_OUT_OF_RANGE', 'heggedal', '2026-10-05T10:00:00Z'),
    dl('E_READING_OUT_OF_RANGE', 'heggedal', '2026-10-25T01:30:00Z'),
    dl('E_DEVICE_UNKNOWN', 'heggedal', '2026-10-31T22:59:00Z'),
    dl('E_PAYLOAD_NOT_JSON', 'unknown', '2026-10-10T12:00:00Z'),
    dl('E_PAYLOAD_NOT_JSON', 'unknown', '2026-10-11T12:00:00Z'),
    dl('E_PAYLOAD_NOT_JSON', 'heggedal', '2026-09-30T21:59:00Z'),
  ];
}

beforeAll(async () => {
  ensureReportTools();
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  influx = await startInfluxDB();
  seeded = await seedMonth(influx, { hoursFromMs: SEP_1, fromMs: SEP_24, toMs: NOV_1 });
  const raw = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_RAW, precision: 'ms' });
  expect((await raw.write(deadLetterLines())).rejected).toEqual([]);
  await raw.close();

  const reader = new InfluxMetricsReader({ url: influx.url, db: influx.db, timeoutMs: 60_000 });
  const log = pino({ level: 'silent' });
  const metricsDeps: MetricsRoutesDeps = { store: seeded.store, torgs: seeded.torgs, now: () => NOW, recompute: seeded.recompute };
  const indicators = { file: loadIndicatorFile(join(ROOT, 'config/indicators.sample.json')), store: new IndicatorStore({ writer: seeded.agg, influx: reader, log }) };
  // The service's IndicatorJob stores October once its last day's hours are stored.
  const job = new IndicatorJob({
    compute: createIndicatorComputer(metricsDeps, indicators),
    store: indicators.store,
    hoursStored: async (from, to) => (await seeded.store.readAggHourly(from, to)).length > 0,
    log,
    now: () => NOW,
  });
  storedMonths = (await job.tick(NOW)).map((o) => o.month);
  const effectDeps = { ...metricsDeps, indicators, skalering: { rules: loadSkaleringRules(join(ROOT, 'config/skalering.sample.json')) } };
  api = await startTestApi({
    now: NOW,
    extraRoutes: () => [
      ...metricsRoutes(metricsDeps),
      ...effectRoutes(effectDeps),
      ...reportRoutes({ sources: createReportSources({ ...effectDeps, influx: reader }), torgs: seeded.torgs, municipality: 'asker', minCount: MIN_COUNT, now: () => NOW, chromiumPath: CHROMIUM }),
    ],
  });
}, SLOW_MS);

afterAll(async () => {
  await api?.close();
  await seeded?.close();
  await influx?.dispose();
});

async function apiGet(path: string): Promise<unknown> {
  const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${api.tokens.analyst}` } });
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return path.includes('format=pdf') ? Buffer.from(await res.arrayBuffer()) : res.json();
}

/** October's month rows (every split) of a scope from GET /api/v1/metrics; each asked once. */
const monthRowCache = new Map<string, Promise<MetricRow[]>>();
function monthRows(scope: string, id: string | null): Promise<MetricRow[]> {
  const key = `${scope}|${id ?? ''}`;
  let rows = monthRowCache.get(key);
  if (!rows) {
    rows = apiGet(`/api/v1/metrics?scope=${scope}${id ? `&id=${encodeURIComponent(id)}` : ''}&period=month&from=2026-10`).then((b) => {
      const body = metricsResponseSchema.parse(b);
      expect(body.missingDays).toEqual([]);
      return body.rows;
    });
    monthRowCache.set(key, rows);
  }
  return rows;
}

// The documented formats (render-html.ts, README "Monthly report"): counts without decimals, percent
// with at most one decimal, indicator values with at most two; nb-NO groups with a no-break space.
const nb = {
  count: new Intl.NumberFormat('nb-NO', { maximumFractionDigits: 0 }),
  percent: new Intl.NumberFormat('nb-NO', { style: 'percent', maximumFractionDigits: 1 }),
  decimal: new Intl.NumberFormat('nb-NO', { maximumFractionDigits: 2 }),
};
/** pdftotext writes U+00A0 / U+202F as they are or as spaces depending on the font: compare with one space. */
const norm = (s: string): string => s.replace(/[\s\u00a0\u202f]+/g, ' ');

describe('monthly report, October 2026 (DST change), real InfluxDB, API, Chromium', () => {
  let text: string;
  let pages: string[];
  let pdfFile: string;
  let report: ReportData;

  beforeAll(async () => {
    report = reportDataSchema.parse(await apiGet('/api/v1/report?month=2026-10&format=json'));
    const pdf = (await apiGet('/api/v1/report?month=2026-10&format=pdf&lang=nb')) as Buffer;
    pdfFile = join(ARTIFACTS, 'rapport-2026-10.pdf');
    writeFileSync(pdfFile, pdf);
    text = pdfText(pdfFile);
    pages = text.split('\f').map(norm);
  }, SLOW_MS);

  it('the IndicatorJob stored October, and the API serves the stored values', async () => {
    expect(storedMonths).toEqual(['2026-10']);
    const ind = indicatorsResponseSchema.parse(await apiGet('/api/v1/indicators?month=2026-10'));
    expect(ind.source).toBe('stored');
  });

  it("every visits and utilisation number of the API's month rows is on its torg's page", async () => {
    // Asked together: each is a read of the month's stored hours, and InfluxDB and the API overlap.
    await Promise.all([
      monthRows('municipality', null),
      ...seeded.torgs.flatMap((t) => [monthRows('torg', t.id), ...[...new Set(t.zones.map((z) => z.module))].map((m) => monthRows('module', `${t.id}/${m}`))]),
    ]);
    let checked = 0;
    for (const torg of seeded.torgs) {
      const page = pages.find((p) => p.includes(`${torg.name} – oktober 2026`));
      expect(page, `a page for ${torg.name}`).toBeDefined();
      const rows = await monthRows('torg', torg.id);
      for (const split of ['all', 'staffed', 'meraapent', 'closed'] as const) {
        const row = rows.find((r) => r.split === split)!;
        expect(row.visits, `${torg.id} ${split} visits`).not.toBeNull();
        const v = row.visits!;
        // The simulated torg have far more visits than the suppression limit in every split but closed time.
        const shown = v < MIN_COUNT ? `<${MIN_COUNT}` : nb.count.format(v);
        expect(page, `${torg.id} ${split} visits ${shown}`).toContain(norm(shown));
        checked++;
      }
      const all = rows.find((r) => r.split === 'all')!;
      expect(page).toContain(norm(nb.percent.format(all.utilisation!)));
      for (const module of [...new Set(torg.zones.map((z) => z.module))]) {
        const m = (await monthRows('module', `${torg.id}/${module}`)).find((r) => r.split === 'all')!;
        const shown = m.utilisation === null ? '\u2013' : nb.percent.format(m.utilisation);
        expect(page, `${torg.id}/${module} utilisation ${shown}`).toContain(norm(shown));
        checked++;
      }
    }
    // Summary: the municipality's visits (both torg) on page 1.
    const muni = (await monthRows('municipality', null)).find((r) => r.split === 'all')!;
    const torgVisits = await Promise.all(TORG_IDS.map(async (id) => (await monthRows('torg', id)).find((r) => r.split === 'all')!.visits!));
    expect(muni.visits).toBe(torgVisits[0]! + torgVisits[1]!);
    expect(pages[0]).toContain(norm(nb.count.format(muni.visits!)));
    expect(checked).toBeGreaterThan(10);
  });

  it('every indicator value the API gives for October is in the effektmål table', async () => {
    const ind = indicatorsResponseSchema.parse(await apiGet('/api/v1/indicators?month=2026-10'));
    // The effektmål table runs over as many pages as it needs, up to the recommendations.
    const from = pages.findIndex((p) => p.includes('Effektmål – oktober 2026'));
    const to = pages.findIndex((p, i) => i > from && p.includes('Anbefalinger'));
    expect(from).toBeGreaterThan(0);
    expect(to).toBeGreaterThan(from);
    const page = pages.slice(from, to).join(' ');
    const known = ind.values.filter((v) => v.value !== null);
    expect(known.length).toBeGreaterThan(3);
    for (const v of known) {
      const r = report.indicators.find((i) => i.indicator === v.indicator && i.scopeId === v.scopeId)!;
      // A value the report suppresses (a count of people below the limit) is `<5`, not the number.
      const shown = r.suppressed ? `<${MIN_COUNT}` : nb.decimal.format(v.value!);
      expect(page, `${v.indicator} ${v.scopeId} ${shown}`).toContain(norm(shown));
    }
  });

  it('the DST month: 745 hours, and 25 October (25 hours) as the API counts it', async () => {
    // 31 days × 24 hours + the hour gained when CEST ends at 03:00 on 25 October.
    expect(report.endMs - report.startMs).toBe(745 * 3_600_000);
    for (const torg of seeded.torgs) {
      const section = report.torgs.find((t) => t.id === torg.id)!;
      expect(section.openHours.month).toBe(745);
      const days = metricsResponseSchema.parse(await apiGet(`/api/v1/metrics?scope=torg&id=${torg.id}&period=day&from=2026-10-01&to=2026-10-31&split=all`)).rows;
      expect(days).toHaveLength(31);
      const dst = days.find((d) => d.label === '2026-10-25')!;
      expect(dst.end - dst.start).toBe(25 * 3_600_000);
      expect(days.filter((d) => d.end - d.start !== 24 * 3_600_000).map((d) => d.label)).toEqual(['2026-10-25']);
      // The API's days add up to its month; the report shows each day as the API counts it, a count
      // under the limit (a closed Sunday: 0) suppressed.
      const month = (await monthRows('torg', torg.id)).find((r) => r.split === 'all')!;
      expect(days.reduce((s, d) => s + d.visits!, 0)).toBe(month.visits);
      expect(section.dailyVisits).toEqual(
        days.map((d) => ({ date: d.label, visits: d.visits! < MIN_COUNT ? { value: null, suppressed: true } : { value: d.visits, suppressed: false } })),
      );
      expect(pages.find((p) => p.includes(`${torg.name} – oktober 2026`))).toContain('745');
    }
  });

  it('dead letters of October only: 3 for Heggedal, 2 without a torg, 5 in all', () => {
    expect(report.dataQuality.deadLetters.total).toBe(5);
    expect(report.dataQuality.deadLetters.unattributed).toBe(2);
    expect(report.dataQuality.torgs.find((t) => t.torg === 'heggedal')!.deadLetters).toBe(3);
    expect(report.dataQuality.torgs.find((t) => t.torg === 'tofte')!.deadLetters).toBe(0);
    const quality = pages.find((p) => p.includes('E_PAYLOAD_NOT_JSON'))!;
    expect(quality).toMatch(/E_READING_OUT_OF_RANGE 2/);
    expect(quality).toMatch(/E_DEVICE_UNKNOWN 1/);
  });

  it('pages: summary first, a page per torg, then effektmål, recommendations, data quality; kept as PNG', () => {
    const n = pdfPages(pdfFile);
    const at = (needle: string) => pages.findIndex((p) => p.includes(needle));
    const order = [at('Sammendrag'), ...seeded.torgs.map((t) => at(`${t.name} – oktober 2026`)), at('E_PAYLOAD_NOT_JSON')];
    expect(order[0]).toBe(0);
    for (let i = 1; i < order.length; i++) expect(order[i]!, `section ${i}`).toBeGreaterThan(order[i - 1]!);
    expect(n).toBeGreaterThanOrEqual(6);
    const pngs = pdfToPngs(pdfFile, ARTIFACTS, 'rapport-2026-10-side');
    expect(pngs).toHaveLength(n);
    for (const png of pngs) expect(readFileSync(png).subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('the report CLI against the same API writes the PDF and the HTML', async () => {
    const out = join(ARTIFACTS, 'cli');
    const r = await runCommandsInProcess(addReportCommands, ['report', '--month', '2026-10', '--out', out, '--lang', 'nb'], {
      env: { ITORG_API_URL: api.url, ITORG_API_TOKEN: api.tokens.analyst },
      lang: 'nb',
      now: NOW,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['rapport-2026-10.html', 'rapport-2026-10.pdf']);
    // The CLI's PDF carries the same numbers: the municipality's visits on its first page.
    const muni = (await monthRows('municipality', null)).find((x) => x.split === 'all')!;
    expect(norm(pdfText(join(out, 'rapport-2026-10.pdf')).split('\f')[0]!)).toContain(norm(nb.count.format(muni.visits!)));
    expect(readFileSync(join(out, 'rapport-2026-10.html'), 'utf8')).toContain('Heggedal');
  });
});

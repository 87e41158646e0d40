/**
 * GET /api/v1/metrics over real HTTP (createApiApp, SqliteTokenStore) against a real InfluxDB 1.6
 * seeded with the raw readings of metrics-routes-fixture.ts. Expected values are hand arithmetic on
 * that fixture (see its header), not output of the engine.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGG_HOURLY_MEASUREMENT, RP_AGGREGATES } from '../../../devices/contract/influx-layout.ts';
import { metricRowsToCsv, toCsv } from '../../../dashboards/metrics/csv.ts';
import type { MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { effectRoutes, indicatorsResponseSchema, metricsResponseSchema, metricsRoutes, parseLocalPeriod, recommendationsResponseSchema } from '../../../dashboards/metrics/metrics-routes.ts';
import { recomputeDay } from '../../../dashboards/metrics/recompute.ts';
import { loadIndicatorFile } from '../../../dashboards/indicators/indicator-definition.schema.ts';
import { loadSkaleringRules } from '../../../dashboards/skalering/skalering-rules.schema.ts';
import { startTestApi, type TestApi } from '../../ingest/api/api-server.ts';
import { checkRouteMatrix } from '../../ingest/api/route-matrix.ts';
import { NOW, startMetricsFixture, type MetricsFixture } from './metrics-routes-fixture.ts';
import { t } from './fixture-torg.ts';

function one(rows: readonly MetricRow[], q: Partial<MetricRow>): MetricRow {
  const found = rows.filter((r) => Object.entries(q).every(([k, v]) => (r as Record<string, unknown>)[k] === v));
  if (found.length !== 1) throw new Error(`expected one row for ${JSON.stringify(q)}, found ${found.length}`);
  return found[0]!;
}

describe('parseLocalPeriod', () => {
  it('reads Oslo local dates, ISO weeks and months, and refuses what names no period', () => {
    // 2026-10-25 is the fall-back day: 00:00 CEST (22:00Z the day before) to 00:00 CET (23:00Z), 25 h.
    expect(parseLocalPeriod('2026-10-25')).toEqual({ startMs: t('2026-10-24T22:00:00Z'), endMs: t('2026-10-25T23:00:00Z'), label: '2026-10-25' });
    // ISO week 2026-W43: Monday 2026-10-19 00:00 CEST to Monday 2026-10-26 00:00 CET.
    expect(parseLocalPeriod('2026-W43')).toEqual({ startMs: t('2026-10-18T22:00:00Z'), endMs: t('2026-10-25T23:00:00Z'), label: '2026-W43' });
    expect(parseLocalPeriod('2026-03')).toEqual({ startMs: t('2026-02-28T23:00:00Z'), endMs: t('2026-03-31T22:00:00Z'), label: '2026-03' });
    for (const bad of ['2026-13', '2026-02-30', '2026-W54', '2026-W00', '26-10', '2026-10-1', 'oktober']) expect(parseLocalPeriod(bad)).toBeNull();
  });
});

describe('CSV dialects', () => {
  const columns = [
    { key: 'name', nb: 'navn', en: 'name', value: (r: { name: string; v: number | null; ok: boolean }) => r.name },
    { key: 'v', nb: 'verdi', en: 'value', value: (r: { v: number | null }) => r.v },
    { key: 'ok', nb: 'ok', en: 'ok', value: (r: { ok: boolean }) => r.ok },
  ];
  const rows = [
    { name: 'Møterom "Store", 2. etg\nvest', v: 0.125, ok: true },
    { name: 'plain', v: null, ok: false },
    { name: 'tiny', v: 1e-7, ok: true },
  ];

  it('RFC 4180: quotes fields with comma, quote or line break, CRLF, decimal point, empty for null', () => {
    const text = toCsv(rows, columns, 'rfc4180', 'nb');
    expect(text.startsWith('name,v,ok\r\n')).toBe(true);
    expect(text).toContain('"Møterom ""Store"", 2. etg\nvest",0.125,true\r\n');
    expect(parse(text, { columns: true })).toEqual([
      { name: 'Møterom "Store", 2. etg\nvest', v: '0.125', ok: 'true' },
      { name: 'plain', v: '', ok: 'false' },
      // 1e-7 to 6 decimals, without exponent notation.
      { name: 'tiny', v: '0', ok: 'true' },
    ]);
  });

  it('Excel (nb-NO): BOM, semicolons, decimal comma, Norwegian headers and ja/nei', () => {
    const text = toCsv(rows, columns, 'excel', 'nb');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(parse(text, { bom: true, delimiter: ';', columns: true })).toEqual([
      { navn: 'Møterom "Store", 2. etg\nvest', verdi: '0,125', ok: 'ja' },
      { navn: 'plain', verdi: '', ok: 'nei' },
      { navn: 'tiny', verdi: '0', ok: 'ja' },
    ]);
    expect(parse(toCsv(rows, columns, 'excel', 'en'), { bom: true, delimiter: ';', columns: true })[0]).toEqual({ name: 'Møterom "Store", 2. etg\nvest', value: '0,125', ok: 'yes' });
  });
});

describe('GET /api/v1/metrics (real HTTP, real InfluxDB)', () => {
  let fx: MetricsFixture;
  let api: TestApi;
  beforeAll(async () => {
    fx = await startMetricsFixture();
    api = await startTestApi({ now: NOW, extraRoutes: () => metricsRoutes(fx.deps({ maxComputeDays: 7 })) });
  });
  afterAll(async () => {
    await api?.close();
    await fx?.close();
  });
  /** null: no token. */
  const get = (query: string, token: string | null = api.tokens.analyst, headers: Record<string, string> = {}) =>
    fetch(`${api.url}/api/v1/metrics?${query}`, { headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...headers } });

  it('refuses a missing token (401) and a viewer (403); lets analyst and admin through', async () => {
    const { failures, checks } = await checkRouteMatrix({ baseUrl: api.url, routes: metricsRoutes(fx.deps()), tokens: api.tokens });
    expect(failures).toEqual([]);
    expect(checks.map((c) => `${c.as}:${c.expected}`)).toEqual(expect.arrayContaining(['no token:401 E_API_UNAUTHENTICATED', 'viewer:403 E_API_FORBIDDEN']));
    const q = 'scope=zone&id=sone-a&period=day&from=2026-11-17';
    expect((await get(q, null)).status).toBe(401);
    const viewer = await get(q, api.tokens.viewer);
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as { error: { code: string } }).error.code).toBe('E_API_FORBIDDEN');
    // Another day than the other tests use: this request computes and stores it.
    expect((await get('scope=zone&id=sone-a&period=day&from=2026-11-03', api.tokens.admin)).status).toBe(200);
  });

  it('names one zone as torg/zone (zone ids are unique only within a torg), and refuses a torg that does not have it', async () => {
    // Another day than the other tests use (they expect 2026-11-17 to be computed by them).
    const qualified = metricsResponseSchema.parse(await (await get('scope=zone&id=testtorg/sone-a&period=day&from=2026-09-15')).json());
    const bare = metricsResponseSchema.parse(await (await get('scope=zone&id=sone-a&period=day&from=2026-09-15')).json());
    // One torg in the fixture: the qualified and the bare id select the same rows.
    expect(qualified.rows.length).toBeGreaterThan(0);
    expect(qualified.rows.map((r) => [r.torg, r.scopeId, r.split, r.avgOccupancy])).toEqual(bare.rows.map((r) => [r.torg, r.scopeId, r.split, r.avgOccupancy]));
    expect(qualified.rows.every((r) => r.torg === 'testtorg')).toBe(true);
    expect((await get('scope=zone&id=heggedal/sone-a&period=day&from=2026-09-15')).status).toBe(404);
  });

  it('computes a day without stored hours on demand, stores it, and serves hand-computed values', async () => {
    const res = await get('scope=zone&id=sone-a&period=day&from=2026-11-17');
    expect(res.status).toBe(200);
    const body = metricsResponseSchema.parse(await res.json());
    expect(body.computedDays).toEqual(['2026-11-17']);
    expect(body.missingDays).toEqual([]);
    expect(body.rules.hold).toContain('2.5');
    expect(await fx.influx.count(`"${RP_AGGREGATES}"."${AGG_HOURLY_MEASUREMENT.measurement}"`, 'spanMs')).toBeGreaterThan(0);
    expect(new Set(body.rows.map((r) => `${r.scope}/${r.scopeId}/${r.period}`))).toEqual(new Set(['zone/sone-a/day']));
    // A weekday has staffed, meråpent and closed (00–07, 22–24 local) time.
    expect(body.rows.map((r) => r.split)).toEqual(['staffed', 'meraapent', 'closed', 'all']);
    const staffed = one(body.rows, { split: 'staffed' });
    // Reported 09:00Z–11:15Z = 135 min of 300 staffed min; occupancy 5 for 60 min, 0 for 75 min.
    expect(staffed.completeness).toBeCloseTo(135 / 300, 12);
    expect(staffed.lowCompleteness).toBe(true);
    expect(staffed.avgOccupancy).toBeCloseTo((5 * 60) / 135, 12);
    expect(staffed.peakOccupancy).toBe(5);
    expect(staffed.utilisation).toBeCloseTo((5 * 60) / (10 * 135), 12);
    expect(staffed.timeUsedShare).toBeCloseTo(60 / 135, 12);
    expect(staffed.timeAtTarget).toEqual({ under60: 1, from60to100: 0, over100: 0 });
    expect(staffed.dwell).toEqual({ count: 1, meanMinutes: 60, p50Minutes: 60, maxMinutes: 60 });
    // Occupied 09:00–10:00Z: 1200 ppm 20 min, 800 ppm 40 min.
    expect(staffed.climate).toEqual({ co2Compliance: 40 / 60, temperatureCompliance: null, humidityCompliance: null });
    // 'all' = staffed 300 + meråpent 600 open minutes; nothing reported in meråpent time.
    expect(one(body.rows, { split: 'all' }).completeness).toBeCloseTo(135 / 900, 12);
    expect(one(body.rows, { split: 'meraapent' }).completeness).toBe(0);

    // Second request: the day is stored now, nothing is computed again.
    const again = metricsResponseSchema.parse(await (await get('scope=torg&id=testtorg&period=day&from=2026-11-17&split=staffed')).json());
    expect(again.computedDays).toEqual([]);
    expect(again.rows).toHaveLength(1);
    // Counts ending 09:30Z (6 in) and 10:00Z (4 in) both fall in 09–10Z, staffed; occupancy 6 then 8.
    expect(again.rows[0]).toMatchObject({ scope: 'torg', scopeId: 'testtorg', label: '2026-11-17', split: 'staffed', visits: 10, peakOccupancy: 8 });
    const muni = metricsResponseSchema.parse(await (await get('scope=municipality&period=day&from=2026-11-17&split=all')).json());
    expect(muni.rows[0]).toMatchObject({ scope: 'municipality', scopeId: 'asker', visits: 10 });
  });

  it('week rows over whole ISO weeks, missing days computed (bounded) and listed', async () => {
    const res = await get('scope=zone&id=sone-a&period=week&from=2026-11-18&to=2026-11-18&split=staffed');
    const body = metricsResponseSchema.parse(await res.json());
    // 2026-11-18 is in 2026-W47 (Mon 16 – Sun 22 Nov): the range widens to the whole week.
    expect(body.from).toBe(t('2026-11-15T23:00:00Z'));
    expect(body.to).toBe(t('2026-11-22T23:00:00Z'));
    expect(body.computedDays).toEqual(['2026-11-16', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22']);
    expect(body.missingDays).toEqual([]);
    expect(body.rows).toHaveLength(1);
    const w = body.rows[0]!;
    expect(w.label).toBe('2026-W47');
    // Five weekdays × 5 staffed hours = 1500 min; the same 135 reported minutes.
    expect(w.completeness).toBeCloseTo(135 / 1500, 12);
    expect(w.avgOccupancy).toBeCloseTo(300 / 135, 12);
    expect(w.busiestDay).toBe('2026-11-17');
    expect(w.busiestHour).toBe('2026-11-17T10');

    // A month with nothing stored: 7 days computed per request, the rest listed as missing.
    const oct = metricsResponseSchema.parse(await (await get('scope=torg&id=testtorg&period=month&from=2026-10')).json());
    expect(oct.computedDays).toEqual(['2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05', '2026-10-06', '2026-10-07']);
    expect(oct.missingDays).toHaveLength(31 - 7);
    expect(oct.missingDays[0]).toBe('2026-10-08');
  });

  it('days without stored hours count as not reporting (completeness), not as absent', async () => {
    // Without on-demand computing: November 2026 has stored hours only for the days the tests above
    // computed (03, 16–22). Its 21 weekdays × 5 staffed hours = 6300 min are all in the denominator.
    const deps = fx.deps();
    delete deps.recompute;
    const other = await startTestApi({ now: NOW, extraRoutes: () => metricsRoutes(deps) });
    try {
      const res = await fetch(`${other.url}/api/v1/metrics?scope=zone&id=sone-a&period=month&from=2026-11&split=staffed`, { headers: { authorization: `Bearer ${other.tokens.analyst}` } });
      const body = metricsResponseSchema.parse(await res.json());
      expect(body.computedDays).toEqual([]);
      expect(body.missingDays).toHaveLength(30 - 8);
      expect(body.missingDays).not.toContain('2026-11-17');
      const m = one(body.rows, { label: '2026-11' });
      expect(m.completeness).toBeCloseTo(135 / 6300, 12);
      expect(m.avgOccupancy).toBeCloseTo(300 / 135, 12);
    } finally {
      await other.close();
    }
  });

  it('answers CSV for format=csv and for Accept: text/csv, RFC 4180 and Excel dialects, parsed back', async () => {
    const json = metricsResponseSchema.parse(await (await get('scope=zone&id=sone-a&period=day&from=2026-11-17')).json());
    const res = await get('scope=zone&id=sone-a&period=day&from=2026-11-17&format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="metrics-zone-sone-a-day-2026-11-17-2026-11-17.csv"');
    const text = await res.text();
    expect(text).toBe(metricRowsToCsv(json.rows));
    const records = parse(text, { columns: true }) as Record<string, string>[];
    expect(records.map((r) => r['split'])).toEqual(['staffed', 'meraapent', 'closed', 'all']);
    const staffed = records[0]!;
    expect(staffed['label']).toBe('2026-11-17');
    expect(staffed['start']).toBe('2026-11-17T00:00:00+01:00');
    expect(staffed['avgOccupancy']).toBe('2.222222'); // 300 / 135 to 6 decimals
    expect(staffed['completeness']).toBe('0.45');
    expect(staffed['climate.co2Compliance']).toBe('0.666667');
    expect(staffed['climate.temperatureCompliance']).toBe('');
    expect(staffed['visits']).toBe('');
    expect(staffed['lowCompleteness']).toBe('true');

    const byAccept = await get('scope=zone&id=sone-a&period=day&from=2026-11-17', api.tokens.analyst, { accept: 'text/csv' });
    expect(byAccept.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(await byAccept.text()).toBe(text);

    const excel = await (await get('scope=zone&id=sone-a&period=day&from=2026-11-17&csv=excel&lang=nb')).text();
    const x = parse(excel, { bom: true, delimiter: ';', columns: true }) as Record<string, string>[];
    expect(x[0]!['snittbelegg']).toBe('2,222222');
    expect(x[0]!['åpningstype']).toBe('staffed');
    expect(x[0]!['lav kompletthet']).toBe('ja');
  });

  it('validates the query: a bad month names the field, unknown scope ids are 404', async () => {
    const bad = await get('scope=torg&id=testtorg&period=month&from=2026-13');
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; detail: { issues: { path: string }[] } } };
    expect(body.error.code).toBe('E_API_INVALID_REQUEST');
    expect(body.error.detail.issues.map((i) => i.path)).toEqual(['from']);
    const reversed = (await (await get('scope=torg&id=testtorg&period=day&from=2026-11-17&to=2026-11-10')).json()) as typeof body;
    expect(reversed.error.detail.issues.map((i) => i.path)).toEqual(['to']);
    const noId = (await (await get('scope=zone&period=day&from=2026-11-17')).json()) as typeof body;
    expect(noId.error.detail.issues.map((i) => i.path)).toEqual(['id']);
    expect((await get('scope=zone&id=finnes-ikke&period=day&from=2026-11-17')).status).toBe(404);
    expect((await get('scope=torg&id=testtorg&period=hour&from=2026-01&to=2026-03')).status).toBe(400);
    expect((await get('scope=torg&id=testtorg&period=fortnight&from=2026-11-17')).status).toBe(400);
  });

  it('GET /api/v1/indicators and /api/v1/recommendations: analyst only, values from stored hours, CSV', async () => {
    await recomputeDay(fx.deps().recompute!, '2026-11-17'); // idempotent: the fixture day is stored
    const deps = fx.deps();
    delete deps.recompute;
    const file = loadIndicatorFile(new URL('../../../config/indicators.sample.json', import.meta.url).pathname);
    const rules = loadSkaleringRules(new URL('../../../config/skalering.sample.json', import.meta.url).pathname);
    const routes = effectRoutes({ ...deps, indicators: { file }, skalering: { rules } });
    const other = await startTestApi({ now: NOW, extraRoutes: () => routes });
    try {
      const { failures } = await checkRouteMatrix({ baseUrl: other.url, routes, tokens: other.tokens });
      expect(failures).toEqual([]);
      const call = (path: string) => fetch(`${other.url}${path}`, { headers: { authorization: `Bearer ${other.tokens.analyst}` } });

      const ind = indicatorsResponseSchema.parse(await (await call('/api/v1/indicators?month=2026-11')).json());
      expect(ind.definitionVersion).toBe(file.version);
      const value = (id: string) => ind.values.find((v) => v.indicator === id)?.value;
      // Fixture: 10 visits in November at testtorg (population 1000) → 10 per 1000 residents.
      expect(value('besok-per-1000')).toBe(10);
      // None of the 10 visits fell in meråpent time.
      expect(value('meraapent-andel')).toBe(0);
      // Occupied 60 min, CO2 ≤ 1000 ppm for 40 of them.
      expect(value('inneklima-co2')).toBeCloseTo(40 / 60, 12);
      // No booking feed: booking indicators are null and say what is missing.
      const booked = ind.values.find((v) => v.indicator === 'lokale-grupper-timer')!;
      expect(booked.value).toBeNull();
      expect(booked.missing.length).toBeGreaterThan(0);
      const csv = parse(await (await call('/api/v1/indicators?month=2026-11&format=csv')).text(), { columns: true }) as Record<string, string>[];
      expect(csv).toHaveLength(ind.values.length);
      expect(csv.find((r) => r['indicator'] === 'besok-per-1000')).toMatchObject({ value: '10', scopeId: 'testtorg', month: '2026-11' });
      const badMonth = (await (await call('/api/v1/indicators?month=2026-13')).json()) as { error: { detail: { issues: { path: string }[] } } };
      expect(badMonth.error.detail.issues.map((i) => i.path)).toEqual(['month']);

      // NOW is Tue 2026-11-24 (W48): the 8 complete ISO weeks before it are W40–W47.
      const rec = recommendationsResponseSchema.parse(await (await call('/api/v1/recommendations')).json());
      expect(rec.weeks).toEqual(['2026-W40', '2026-W41', '2026-W42', '2026-W43', '2026-W44', '2026-W45', '2026-W46', '2026-W47']);
      expect(rec.recommendations.length).toBeGreaterThan(0);
      expect(new Set(rec.recommendations.map((r) => r.torg))).toEqual(new Set(['testtorg']));
      const recCsv = parse(await (await call('/api/v1/recommendations?csv=excel')).text(), { bom: true, delimiter: ';', columns: true }) as Record<string, string>[];
      expect(recCsv.map((r) => r['anbefaling'])).toEqual(rec.recommendations.map((r) => r.kind));
      // The sample rules need 4 of the window's weeks for scale-up: a 2-week window cannot hold that.
      const short = await call('/api/v1/recommendations?weeks=2');
      expect(short.status).toBe(400);
      expect(((await short.json()) as { error: { detail: { issues: { path: string }[] } } }).error.detail.issues.map((i) => i.path)).toEqual(['weeks']);
    } finally {
      await other.close();
    }
  });
});

/**
 * GET /api/v1/report against the real API app (createApiApp, SqliteTokenStore), a real InfluxDB
 * seeded with the metrics fixture day (test/dashboards/metrics/metrics-routes-fixture.ts) and real
 * Chromium: roles, the three formats and how they are chosen, language, file names, refused months,
 * the bound on concurrent PDF renders, and a missing Chromium. The report's numbers against the
 * API's are the end-to-end test's (report-e2e.test.ts).
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import { reportDataSchema } from '../../../dashboards/report/report-data.schema.ts';
import { reportRoutes, type ReportRoutesDeps } from '../../../dashboards/report/report-routes.ts';
import { createReportSources } from '../../../dashboards/report/report-sources.ts';
import { startTestApi, type TestApi } from '../../ingest/api/api-server.ts';
import { NOW, startMetricsFixture, type MetricsFixture } from '../metrics/metrics-routes-fixture.ts';
import { CHROMIUM, ensureReportTools, pdfText } from './pdf-tools.ts';

let fx: MetricsFixture;
let api: TestApi;
let noBrowser: TestApi;
const registry = new Registry();

beforeAll(async () => {
  ensureReportTools();
  fx = await startMetricsFixture();
  const deps = (over: Partial<ReportRoutesDeps> = {}): ReportRoutesDeps => {
    const m = fx.deps();
    return {
      sources: createReportSources({ ...m, influx: new InfluxMetricsReader({ url: fx.influx.url, db: fx.influx.db }) }),
      torgs: m.torgs,
      municipality: 'asker',
      minCount: 5,
      now: () => NOW,
      chromiumPath: CHROMIUM,
      ...over,
    };
  };
  api = await startTestApi({ now: NOW, extraRoutes: () => reportRoutes(deps({ metricsRegistry: registry })) });
  noBrowser = await startTestApi({ now: NOW, extraRoutes: () => reportRoutes(deps({ chromiumPath: join(api.dir, 'no-such-chromium') })) });
});
afterAll(async () => {
  await api?.close();
  await noBrowser?.close();
  await fx?.close();
});

const get = (base: TestApi, query: string, token: string | undefined, headers: Record<string, string> = {}) =>
  fetch(`${base.url}/api/v1/report?${query}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

describe('GET /api/v1/report', () => {
  it('needs the analyst role', async () => {
    expect((await get(api, 'month=2026-11&format=json', undefined)).status).toBe(401);
    const viewer = await get(api, 'month=2026-11&format=json', api.tokens.viewer);
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as { error: { code: string } }).error.code).toBe('E_API_FORBIDDEN');
  });

  it('format=json answers the report data (schema-valid) for the Oslo month', async () => {
    const res = await get(api, 'month=2026-11&format=json', api.tokens.analyst);
    expect(res.status).toBe(200);
    const data = reportDataSchema.parse(await res.json());
    expect(data.month).toBe('2026-11');
    // November 2026 in Oslo: 2026-10-31T23:00Z (CET) to 2026-11-30T23:00Z.
    expect(data.startMs).toBe(Date.parse('2026-10-31T23:00:00Z'));
    expect(data.endMs).toBe(Date.parse('2026-11-30T23:00:00Z'));
    expect(data.previousMonth).toBe('2026-10');
    expect(data.generatedAt).toBe(NOW);
    expect(data.torgs.map((t) => t.id)).toEqual(['testtorg']);
  });

  it('without format the Accept header decides; JSON by default', async () => {
    const json = await get(api, 'month=2026-11', api.tokens.analyst);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    const html = await get(api, 'month=2026-11', api.tokens.analyst, { accept: 'text/html' });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('format=html: one self-contained document under a CSP that allows no script and no request', async () => {
    const res = await get(api, 'month=2026-11&format=html', api.tokens.analyst);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    expect(res.headers.get('content-language')).toBe('nb');
    expect(res.headers.get('content-disposition')).toBe('inline; filename="rapport-2026-11.html"');
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('Testtorg');
    expect(html).not.toMatch(/<script/i);
  });

  it('format=pdf&lang=en: a PDF download named for the month and language, text in English', async () => {
    const res = await get(api, 'month=2026-11&format=pdf&lang=en', api.tokens.analyst);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-language')).toBe('en');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="rapport-2026-11-en.pdf"');
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const file = join(api.dir, 'r.pdf');
    writeFileSync(file, pdf);
    const text = pdfText(file);
    expect(text).toContain('Testtorg');
    expect(text).toContain('Monthly report for the innbyggertorg');
    expect(text).not.toContain('Månedsrapport');
  });

  it('is in the OpenAPI document: a valid 3.1 document with its query, role and three content types', async () => {
    const res = await fetch(`${api.url}/openapi.json`);
    const doc = (await res.json()) as { paths: Record<string, { get?: { 'x-required-role': string; parameters: { name: string; required: boolean }[]; responses: Record<string, { content?: Record<string, unknown> }> } }> };
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    const op = doc.paths['/api/v1/report']!.get!;
    expect(op['x-required-role']).toBe('analyst');
    expect(op.parameters.map((p) => `${p.name}${p.required ? '!' : ''}`).sort()).toEqual(['format', 'lang', 'month!']);
    expect(Object.keys(op.responses['200']!.content!).sort()).toEqual(['application/json', 'application/pdf', 'text/html']);
  });

  it('refuses a malformed month and one that has not begun (400)', async () => {
    for (const q of ['month=2026-13', 'month=2026-1', 'month=2026-W47', 'format=pdf']) {
      const res = await get(api, q, api.tokens.analyst);
      expect(res.status, q).toBe(400);
    }
    const future = await get(api, 'month=2026-12&format=json', api.tokens.analyst);
    expect(future.status).toBe(400);
    expect(JSON.stringify(await future.json())).toContain('has not begun');
  });

  it('one PDF render at a time: a concurrent one is 503 E_API_UNAVAILABLE (retriable), counted', async () => {
    const [a, b] = await Promise.all([get(api, 'month=2026-11&format=pdf', api.tokens.analyst), get(api, 'month=2026-11&format=pdf', api.tokens.analyst)]);
    expect([a.status, b.status].sort()).toEqual([200, 503]);
    const busy = a.status === 503 ? a : b;
    expect(busy.headers.get('retry-after')).not.toBeNull();
    expect(((await busy.json()) as { error: { code: string; retriable: boolean } }).error).toMatchObject({ code: 'E_API_UNAVAILABLE', retriable: true });
    const m = await registry.getSingleMetric('report_requests_total')!.get();
    expect(m.values.find((v) => v.labels['format'] === 'pdf' && v.labels['outcome'] === 'busy')?.value).toBe(1);
  });

  it('without Chromium: PDF is 503 E_REPORT_BROWSER_MISSING (not retriable); HTML still served', async () => {
    const res = await get(noBrowser, 'month=2026-11&format=pdf', noBrowser.tokens.analyst);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string; retriable: boolean } }).error).toMatchObject({ code: 'E_REPORT_BROWSER_MISSING', retriable: false });
    expect((await get(noBrowser, 'month=2026-11&format=html', noBrowser.tokens.analyst)).status).toBe(200);
  });
});

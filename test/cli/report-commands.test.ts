/**
 * `report` against the real API (createApiApp + reportRoutes), a real InfluxDB seeded with the metrics
 * fixture day (test/dashboards/metrics/metrics-routes-fixture.ts) and real Chromium: the files it
 * writes, their names, the default month, and the exit codes of the API commands.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addReportCommands } from '../../cli/report-commands.ts';
import { listen } from '../../ingest/api/app.ts';
import { InfluxMetricsReader } from '../../dashboards/metrics/influx-metrics-reader.ts';
import { reportRoutes } from '../../dashboards/report/report-routes.ts';
import { createReportSources } from '../../dashboards/report/report-sources.ts';
import { runCommandsInProcess } from '../support/cli.ts';
import { startTestApi, type TestApi } from '../ingest/api/api-server.ts';
import { NOW, startMetricsFixture, type MetricsFixture } from '../dashboards/metrics/metrics-routes-fixture.ts';
import { CHROMIUM, ensureReportTools } from '../dashboards/report/pdf-tools.ts';

let fx: MetricsFixture;
let api: TestApi;
let env: Record<string, string>;
let out: string;

function cli(args: string[], e: Record<string, string | undefined> = env, lang: 'nb' | 'en' = 'en') {
  return runCommandsInProcess(addReportCommands, args, { env: e, lang, now: NOW });
}

beforeAll(async () => {
  ensureReportTools();
  fx = await startMetricsFixture();
  const m = fx.deps();
  api = await startTestApi({
    now: NOW,
    extraRoutes: () => reportRoutes({ sources: createReportSources({ ...m, influx: new InfluxMetricsReader({ url: fx.influx.url, db: fx.influx.db }) }), torgs: m.torgs, municipality: 'asker', minCount: 5, now: () => NOW, chromiumPath: CHROMIUM }),
  });
  env = { ITORG_API_URL: api.url, ITORG_API_TOKEN: api.tokens.analyst };
  out = mkdtempSync(join(tmpdir(), 'report-cli-'));
});
afterAll(async () => {
  await api?.close();
  await fx?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('report command (real API, InfluxDB, Chromium)', () => {
  it('writes rapport-2026-11.pdf and .html into --out and names them on stdout', async () => {
    const dir = join(out, 'nb');
    const r = await cli(['report', '--month', '2026-11', '--out', dir, '--lang', 'nb']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['rapport-2026-11.html', 'rapport-2026-11.pdf']);
    expect(readFileSync(join(dir, 'rapport-2026-11.pdf')).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const html = readFileSync(join(dir, 'rapport-2026-11.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toMatch(/<html[^>]*lang="nb"/);
    expect(r.stdout).toBe(`Wrote ${join(dir, 'rapport-2026-11.pdf')}\nWrote ${join(dir, 'rapport-2026-11.html')}\n`);
  });

  it('--format html --lang en writes only the English HTML; the default month is the previous Oslo month', async () => {
    const dir = join(out, 'en');
    // NOW is 2026-11-24: the previous month is October.
    const r = await cli(['report', '--format', 'html', '--lang', 'en', '--out', dir]);
    expect(r.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['rapport-2026-10-en.html']);
    expect(readFileSync(join(dir, 'rapport-2026-10-en.html'), 'utf8')).toMatch(/<html[^>]*lang="en"/);
  });

  it('exit codes: 2 usage (bad --month, bad --format, no token), 1 refused (viewer, future month), 3 unreachable', async () => {
    const bad = await cli(['report', '--month', '2026-13', '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('YYYY-MM');
    expect((await cli(['report', '--format', 'docx', '--out', out])).code).toBe(2);
    expect((await cli(['report', '--out', out], { ITORG_API_URL: api.url })).code).toBe(2);
    const viewer = await cli(['report', '--month', '2026-11', '--out', out], { ITORG_API_URL: api.url, ITORG_API_TOKEN: api.tokens.viewer });
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain('E_API_FORBIDDEN');
    const future = await cli(['report', '--month', '2026-12', '--out', out]);
    expect(future.code).toBe(1);
    expect(future.stderr).toContain('month: 2026-12 has not begun');
    const s = await listen(express(), 0, '127.0.0.1');
    await s.close();
    const down = await cli(['report', '--month', '2026-11', '--out', out], { ITORG_API_URL: `http://127.0.0.1:${s.port}`, ITORG_API_TOKEN: 'x' });
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('ECONNREFUSED');
    // Nothing was written by the failed runs.
    expect(readdirSync(out).sort()).toEqual(['en', 'nb']);
  });
});

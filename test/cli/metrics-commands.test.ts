/**
 * `metrics`, `dimensioning` (and the exit-code conventions of the issue-6 commands) against the real API
 * (createApiApp + metricsRoutes) and a real InfluxDB seeded with the hand-countable fixture day of
 * test/dashboards/metrics/metrics-routes-fixture.ts.
 */
import { parse } from 'csv-parse/sync';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMetricsCommands } from '../../cli/metrics-commands.ts';
import { listen } from '../../ingest/api/app.ts';
import { effectRoutes, metricsRoutes } from '../../dashboards/metrics/metrics-routes.ts';
import { recomputeDay } from '../../dashboards/metrics/recompute.ts';
import { loadIndicatorFile } from '../../dashboards/indicators/indicator-definition.schema.ts';
import { loadSkaleringRules } from '../../dashboards/skalering/skalering-rules.schema.ts';
import { runCommandsInProcess } from '../support/cli.ts';
import { startTestApi, type TestApi } from '../ingest/api/api-server.ts';
import { NOW, startMetricsFixture, type MetricsFixture } from '../dashboards/metrics/metrics-routes-fixture.ts';

function cli(args: string[], env: Record<string, string | undefined> = {}, lang: 'nb' | 'en' = 'en') {
  return runCommandsInProcess(addMetricsCommands, args, { env, lang, now: NOW });
}

describe('metrics command (real API, real InfluxDB)', () => {
  let fx: MetricsFixture;
  let api: TestApi;
  let env: Record<string, string>;
  beforeAll(async () => {
    fx = await startMetricsFixture();
    api = await startTestApi({ now: NOW, extraRoutes: () => metricsRoutes(fx.deps()) });
    env = { ITORG_API_URL: api.url, ITORG_API_TOKEN: api.tokens.analyst };
  });
  afterAll(async () => {
    await api?.close();
    await fx?.close();
  });
  const day = ['metrics', '--scope', 'zone', '--id', 'sone-a', '--period', 'day', '--from', '2026-11-17'];

  it('--csv prints the day rows as RFC 4180 CSV with the hand-computed values', async () => {
    const r = await cli([...day, '--split', 'staffed', '--csv'], env);
    expect(r.code).toBe(0);
    const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(1);
    // 135 reported of 300 staffed minutes; occupancy 5 for 60 of them (fixture header).
    expect(rows[0]).toMatchObject({ scope: 'zone', scopeId: 'sone-a', label: '2026-11-17', split: 'staffed', avgOccupancy: '2.222222', completeness: '0.45', peakOccupancy: '5', lowCompleteness: 'true' });
    expect(r.stderr).toContain('Computed from raw readings for this request: 1 days');
  });

  it('--excel prints semicolons and decimal commas; the table marks low completeness', async () => {
    const x = await cli([...day, '--split', 'staffed', '--excel'], env, 'nb');
    expect(x.code).toBe(0);
    const rows = parse(x.stdout, { bom: true, delimiter: ';', columns: true }) as Record<string, string>[];
    expect(rows[0]!['snittbelegg']).toBe('2,222222');
    const table = await cli([...day, '--split', 'staffed'], env);
    expect(table.code).toBe(0);
    // 2.2 avg, 5 peak, utilisation 300/1350 = 22 %, used 60/135 = 44 %, CO2 40/60 = 67 %, completeness 45 %.
    expect(table.stdout).toMatch(/2026-11-17\s+staffed\s+-\s+2\.2\s+5\s+22 %\s+44 %\s+67 %\s+45 % \*/);
    expect(table.stdout).toContain('* completeness below 80 %');
  });

  it('exit codes: 2 usage (bad --from, no token), 1 refused (viewer), 3 unreachable', async () => {
    const bad = await cli(['metrics', '--scope', 'torg', '--id', 'testtorg', '--period', 'month', '--from', '2026-13'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('ISO week');
    expect((await cli(day, { ITORG_API_URL: api.url })).code).toBe(2);
    const viewer = await cli(day, { ITORG_API_URL: api.url, ITORG_API_TOKEN: api.tokens.viewer });
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toContain('E_API_FORBIDDEN');
    const missingId = await cli(['metrics', '--scope', 'zone', '--period', 'day', '--from', '2026-11-17'], env);
    expect(missingId.code).toBe(1);
    expect(missingId.stderr).toContain('id: required for scope zone');
    const s = await listen(express(), 0, '127.0.0.1');
    await s.close();
    expect((await cli(day, { ITORG_API_URL: `http://127.0.0.1:${s.port}`, ITORG_API_TOKEN: 'x' })).code).toBe(3);
  });

  it('indicators and recommendations: bad --month and --weeks are usage errors (exit 2) before any request', async () => {
    const m = await cli(['indicators', '--month', '2026-13'], env);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('YYYY-MM');
    expect((await cli(['recommendations', '--weeks', '0'], env)).code).toBe(2);
    expect((await cli(['indicators', '--month', '2026-10', '--json', '--csv'], env)).code).toBe(2);
  });

  it('indicators --csv and recommendations against the real effect routes', async () => {
    const file = loadIndicatorFile(new URL('../../config/indicators.sample.json', import.meta.url).pathname);
    const rules = loadSkaleringRules(new URL('../../config/skalering.sample.json', import.meta.url).pathname);
    await recomputeDay(fx.deps().recompute!, '2026-11-17');
    const deps = fx.deps();
    delete deps.recompute;
    const other = await startTestApi({ now: NOW, extraRoutes: () => effectRoutes({ ...deps, indicators: { file }, skalering: { rules } }) });
    try {
      const e = { ITORG_API_URL: other.url, ITORG_API_TOKEN: other.tokens.analyst };
      const ind = await cli(['indicators', '--month', '2026-11', '--csv'], e);
      expect(ind.code).toBe(0);
      const rows = parse(ind.stdout, { columns: true }) as Record<string, string>[];
      // 10 visits at testtorg (population 1000) in the fixture month.
      expect(rows.find((r) => r['indicator'] === 'besok-per-1000')).toMatchObject({ scopeId: 'testtorg', value: '10' });
      const rec = await cli(['recommendations'], e);
      expect(rec.code).toBe(0);
      expect(rec.stdout.split('\n')[0]).toMatch(/^torg\s+module\s+recommendation/);
      expect(rec.stdout).toContain('testtorg');
    } finally {
      await other.close();
    }
  });

  it('dimensioning --csv against the real effect route: rooms needed over ISO week 2026-W47, hand-counted', async () => {
    const rules = loadSkaleringRules(new URL('../../config/skalering.sample.json', import.meta.url).pathname);
    await recomputeDay(fx.deps().recompute!, '2026-11-17');
    const deps = fx.deps();
    // The other days of the week stay unstored: their open hours count as not reported (missingDays).
    delete deps.recompute;
    const other = await startTestApi({ now: NOW, extraRoutes: () => effectRoutes({ ...deps, skalering: { rules } }) });
    try {
      const e = { ITORG_API_URL: other.url, ITORG_API_TOKEN: other.tokens.analyst };
      const r = await cli(['dimensioning', '--torg', 'testtorg', '--module', 'møterom', '--percentile', '0.9', '--weeks', '1', '--csv'], e);
      expect(r.code).toBe(0);
      const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
      // Open hours of W47: 5 weekdays × 15 + Sunday 14 = 89. Only sone-a has a sensor, so it is the
      // module's one member; it reported all of 09Z (5 people: 1 room) and 10Z (empty: 0 rooms) on the
      // 17th, 15 min of 11Z, nothing else → 2 counted, 87 incomplete. Demands 0, 1: p 0.9 → rank 2 →
      // 1 room, of the 2 rooms the torg has.
      expect(rows).toEqual([
        expect.objectContaining({ torg: 'testtorg', module: 'møterom', unit: 'rooms', percentile: '0.9', hours: '2', hoursIncomplete: '87', hoursUnknown: '0', demandAtPercentile: '1', needed: '1', current: '2', difference: '-1', reason: '' }),
      ]);
      // p 0.5 → rank 1 → 0 rooms; the human table uses the same columns.
      const table = await cli(['dimensioning', '--percentile', '0.5', '--weeks', '1'], e);
      expect(table.code).toBe(0);
      expect(table.stdout.split('\n')[0]).toMatch(/^torg\s+module\s+unit\s+percentile\s+hours/);
      expect(table.stdout).toMatch(/testtorg\s+møterom\s+rooms\s+0\.5\s+2\s+87\s+0\s+0\s+0\s+2\s+-2/);
      // Usage errors before any request.
      expect((await cli(['dimensioning', '--percentile', '1.5'], e)).code).toBe(2);
      expect((await cli(['dimensioning', '--percentile', '0'], e)).code).toBe(2);
      expect((await cli(['dimensioning', '--module', 'kantine'], e)).code).toBe(2);
      // The API refuses an unknown torg (404 → exit 1).
      expect((await cli(['dimensioning', '--torg', 'nowhere'], e)).code).toBe(1);
    } finally {
      await other.close();
    }
  }, 60_000);
});


/**
 * GET /api/v1/dimensioning over real HTTP against a real InfluxDB 1.6 seeded with
 * metrics-routes-fixture.ts. The torg is narrowed to its one room sone-a (capacity 10), so the
 * expectation can be counted by hand over ISO week 2026-W47 (Mon 16 – Sun 22 Nov, CET = UTC+1):
 * - open hours: weekdays 07–22 local = 15 h × 5, Saturday closed, Sunday 08–22 = 14 h → 89;
 * - sone-a, the module's one member, reported (25-min window after each reading) 09:00Z–11:15Z on
 *   Tue 17th: the module hours 09Z (5 people → 1 room in use) and 10Z (count 0 → 0 rooms) are
 *   complete; 11Z (15 of 60 min) and the other 86 open hours are not → hours 2, hoursIncomplete 87;
 * - nearest rank over [0, 1]: p 0.9 → rank ⌈1.8⌉ = 2 → 1 room; p 0.5 → rank 1 → 0 rooms.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dimensioningResponseSchema, effectRoutes } from '../../../dashboards/metrics/metrics-routes.ts';
import { loadSkaleringRules } from '../../../dashboards/skalering/skalering-rules.schema.ts';
import { startTestApi, type TestApi } from '../../ingest/api/api-server.ts';
import { checkRouteMatrix } from '../../ingest/api/route-matrix.ts';
import { makeTorg } from './fixture-torg.ts';
import { NOW, startMetricsFixture, type MetricsFixture } from './metrics-routes-fixture.ts';

describe('GET /api/v1/dimensioning (real HTTP, real InfluxDB)', () => {
  let fx: MetricsFixture;
  let api: TestApi;
  const full = makeTorg();
  const oneRoom = { ...full, zones: full.zones.filter((z) => z.id === 'sone-a') };
  const rules = loadSkaleringRules(new URL('../../../config/skalering.sample.json', import.meta.url).pathname);
  const routes = () => effectRoutes({ ...fx.deps({ torgs: [oneRoom], maxComputeDays: 7 }), skalering: { rules } });

  beforeAll(async () => {
    fx = await startMetricsFixture();
    api = await startTestApi({ now: NOW, extraRoutes: routes });
  }, 60_000);
  afterAll(async () => {
    await api.close();
    await fx.close();
  });
  const get = (path: string, token: string | null = api.tokens.analyst) =>
    fetch(`${api.url}/api/v1/dimensioning${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });

  it('refuses a missing token (401) and a viewer (403); every effect route passes the role matrix', async () => {
    expect((await get('', null)).status).toBe(401);
    expect((await get('', api.tokens.viewer)).status).toBe(403);
    const { failures } = await checkRouteMatrix({ baseUrl: api.url, routes: routes(), tokens: api.tokens });
    expect(failures).toEqual([]);
  });

  it('rooms needed at the asked percentile over the asked weeks, hand-counted', async () => {
    const res = await get('?torg=testtorg&module=m%C3%B8terom&percentile=0.9&weeks=1');
    expect(res.status).toBe(200);
    const body = dimensioningResponseSchema.parse(await res.json());
    expect(body.weeks).toEqual(['2026-W47']);
    expect(body.missingDays).toEqual([]);
    expect(body.dimensioning).toHaveLength(1);
    expect(body.dimensioning[0]).toMatchObject({ torg: 'testtorg', module: 'møterom', unit: 'rooms', percentile: 0.9, hours: 2, hoursIncomplete: 87, demandAtPercentile: 1, needed: 1, current: 1, difference: 0 });

    const median = dimensioningResponseSchema.parse(await (await get('?torg=testtorg&percentile=0.5&weeks=1')).json());
    expect(median.dimensioning[0]).toMatchObject({ demandAtPercentile: 0, needed: 0, difference: -1 });

    const csv = parse(await (await get('?percentile=0.9&weeks=1&format=csv')).text(), { columns: true }) as Record<string, string>[];
    expect(csv).toEqual([expect.objectContaining({ torg: 'testtorg', module: 'møterom', unit: 'rooms', hours: '2', hoursIncomplete: '87', hoursUnknown: '0', needed: '1', current: '1', difference: '0' })]);
  }, 60_000);

  it('validates the query: unknown torg 404, percentile outside (0, 1] 400', async () => {
    expect((await get('?torg=nowhere')).status).toBe(404);
    expect((await get('?percentile=1.5')).status).toBe(400);
    expect((await get('?percentile=0')).status).toBe(400);
  });
});

import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { liveRoutes } from '../../../dashboards/live/live-routes.ts';
import { openApiDocument } from '../../../ingest/api/app.ts';
import { liveAlertSchema } from '../../../dashboards/live/live.schema.ts';
import { startTestApi } from '../../ingest/api/api-server.ts';
import { clockedService, testTorg } from './live-fixture.ts';

describe('live routes in the OpenAPI document', () => {
  it('documents every live path with its role and a valid OpenAPI 3.1 document', async () => {
    const { service } = clockedService([testTorg()], { now: 0 }, () => Promise.reject(new Error('not queried')));
    const routes = liveRoutes({ live: service });
    const doc = openApiDocument(routes, { title: 'live', version: '1' }) as { paths: Record<string, Record<string, { 'x-required-role': string }>> };
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(Object.fromEntries(Object.entries(doc.paths).map(([p, m]) => [p, m['get']?.['x-required-role']]))).toEqual({
      '/api/v1/live': 'viewer',
      '/api/v1/live/stream': 'viewer',
      '/api/v1/live/{torg}': 'viewer',
      '/api/v1/alerts': 'viewer',
      '/api/v1/public/busy': 'public',
      '/api/v1/public/busy/{torg}': 'public',
    });
  });
});

describe('GET /api/v1/alerts', () => {
  it('returns the alert engine\'s active alerts to a viewer', async () => {
    const alert = liveAlertSchema.parse({
      id: 'co2_high:testtorg:mote-1',
      rule: 'co2_high',
      torg: 'testtorg',
      subject: 'mote-1',
      severity: 'warning',
      since: 1_764_000_000_000,
      message: { nb: 'Høy CO2 i Møterom 1', en: 'High CO2 in Møterom 1' },
    });
    const { service } = clockedService([testTorg()], { now: 0 }, () => Promise.reject(new Error('not queried')));
    const api = await startTestApi({ extraRoutes: () => liveRoutes({ live: service, alerts: { activeAlerts: () => [alert] } }) });
    try {
      const res = await fetch(`${api.url}/api/v1/alerts`, { headers: { authorization: `Bearer ${api.tokens.viewer}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ alerts: [alert] });
      expect((await fetch(`${api.url}/api/v1/alerts`)).status).toBe(401);
    } finally {
      await api.close();
    }
  });
});

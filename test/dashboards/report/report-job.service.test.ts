/**
 * The monthly report schedule as ingest/service.ts wires it (issue 7): the whole service in
 * production mode against real Mosquitto and InfluxDB (test/integration/service-helpers.ts), on a
 * clock in November 2026, with INGEST_REPORT_DIR set and the schedule's period shortened. Without
 * INGEST_INDICATORS_FILE, October is ready once the hours of its last day (31 October) are stored:
 * before that the folder stays empty; after, both files appear, written by the service itself. The
 * report route is mounted on the service's API for the analyst.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RP_AGGREGATES } from '../../../devices/contract/influx-layout.ts';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import { recomputeDay } from '../../../dashboards/metrics/recompute.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { startService, type ServiceHandle } from '../../../ingest/service.ts';
import { startSecureStack, TORG_CONFIG, type SecureStack } from '../../integration/service-helpers.ts';
import { ensureReportTools, pdfText } from './pdf-tools.ts';

/** Tuesday 24 November 2026, 11:00 Oslo, advancing in real time: the month before is October. */
const BASE = Date.parse('2026-11-24T10:00:00Z');
const startedAt = Date.now();
const now = (): number => BASE + (Date.now() - startedAt);

let stack: SecureStack;
let service: ServiceHandle;
let dir: string;

async function waitFor(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  ensureReportTools();
  dir = mkdtempSync(join(tmpdir(), 'report-service-'));
  stack = await startSecureStack();
  service = await startService(stack.config({ INGEST_REPORT_DIR: join(dir, 'rapporter'), INGEST_LIVE: false, INGEST_CLIENT_ID: 'itorg-report-job' }), { now, defaultMetrics: false, logger: pino({ level: 'silent' }), reportEveryMs: 500 });
}, 180_000);
afterAll(async () => {
  await service?.stop();
  await stack?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('monthly report schedule in the service', () => {
  it('writes rapport-2026-10.pdf and .html once the hours of 31 October are stored, not before', async () => {
    // The MetricsJob (every 5 minutes) has not stored 31 October: the schedule waits.
    await new Promise((r) => setTimeout(r, 1500));
    expect(existsSync(join(dir, 'rapporter'))).toBe(false);

    // 31 October's hours stored as the MetricsJob would (recomputeDay over the service's torg; no readings).
    const store = new InfluxMetricsReader({ url: stack.influx.url, db: stack.influx.db });
    const writer = new InfluxWriter({ url: stack.influx.url, db: stack.influx.db, rp: RP_AGGREGATES, precision: 'ms' });
    try {
      const outcome = await recomputeDay({ torgs: loadTorgConfig(TORG_CONFIG).torg, assignments: () => null, store, writer, log: pino({ level: 'silent' }) }, '2026-10-31');
      expect(outcome.points).toBeGreaterThan(0);
    } finally {
      await writer.close();
    }

    const out = join(dir, 'rapporter');
    await waitFor(() => existsSync(join(out, 'rapport-2026-10.pdf')) && existsSync(join(out, 'rapport-2026-10.html')), 'the scheduled report files', 150_000);
    expect(readdirSync(out).sort()).toEqual(['rapport-2026-10.html', 'rapport-2026-10.pdf']);
    const pdf = join(out, 'rapport-2026-10.pdf');
    expect(readFileSync(pdf).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdfText(pdf).replace(/\s+/g, ' ')).toContain('Månedsrapport for innbyggertorgene – oktober 2026');
    const html = readFileSync(join(out, 'rapport-2026-10.html'), 'utf8');
    expect(html).toMatch(/<html lang="nb">/);
    // The municipality's display name from the torg config, not its scope id.
    expect(html).toContain(loadTorgConfig(TORG_CONFIG).municipality);
  }, 240_000);

  it('GET /api/v1/report is mounted for the analyst', async () => {
    const tokens = await stack.tokens();
    const get = (token: string) => fetch(`http://127.0.0.1:${service.apiPort}/api/v1/report?month=2026-10&format=json`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get(tokens.viewer)).status).toBe(403);
    const res = await get(tokens.analyst);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { month: string; torgs: unknown[] };
    expect(body.month).toBe('2026-10');
    expect(body.torgs).toHaveLength(7);
  }, 120_000);
});

/**
 * The monthly report schedule with an injected clock: which month it looks at (Oslo time, around a
 * month's first hour), writes once, skips when present, waits until the month is ready, retries a
 * failed render at the next tick (counted), and never leaves a partial or temp file behind.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthReady, ReportJob, writeFileAtomic, type ReportJobDeps } from '../../../dashboards/report/report-job.ts';
import { capturedLogger } from '../../support/captured-log.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-job-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** 2026-11-01 00:30 Oslo = 2026-10-31T23:30Z (CET, UTC+1 after the 25 October change). */
const NOV_1_0030_OSLO = Date.parse('2026-10-31T23:30:00Z');

function setup(over: Partial<ReportJobDeps> = {}) {
  const { log, logged } = capturedLogger();
  const registry = new Registry();
  const renders: string[] = [];
  let now = NOV_1_0030_OSLO;
  const job = new ReportJob({
    dir,
    ready: async () => true,
    render: async (month) => {
      renders.push(month);
      return { html: `<html>${month}</html>`, pdf: Buffer.from(`%PDF-1.7 ${month}`) };
    },
    now: () => now,
    log,
    metricsRegistry: registry,
    ...over,
  });
  const counter = async (outcome: string): Promise<number> => {
    const m = await registry.getSingleMetric('report_months_total')!.get();
    return m.values.find((v) => v.labels['outcome'] === outcome)?.value ?? 0;
  };
  return { job, logged, renders, counter, setNow: (t: number) => (now = t) };
}

describe('ReportJob', () => {
  it('writes the previous Oslo month once, both files, then skips while they are present', async () => {
    const s = setup();
    const first = await s.job.tick();
    // 00:30 on 1 November in Oslo is still 31 October in UTC: the month just over is October.
    expect(first).toMatchObject({ month: '2026-10', outcome: 'written' });
    expect(readFileSync(join(dir, 'rapport-2026-10.pdf'), 'latin1')).toBe('%PDF-1.7 2026-10');
    expect(readFileSync(join(dir, 'rapport-2026-10.html'), 'utf8')).toBe('<html>2026-10</html>');
    expect(await s.job.tick()).toEqual({ month: '2026-10', outcome: 'present' });
    s.setNow(Date.parse('2026-11-20T12:00:00Z'));
    expect(await s.job.tick()).toEqual({ month: '2026-10', outcome: 'present' });
    expect(s.renders).toEqual(['2026-10']);
    expect(await s.counter('written')).toBe(1);
    expect(s.logged.some((l) => l['event'] === 'report_written' && l['month'] === '2026-10')).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['rapport-2026-10.html', 'rapport-2026-10.pdf']);
  });

  it('one minute before the Oslo month ends it still looks at the month before', async () => {
    // 2026-10-31 23:59 Oslo = 22:59Z: the previous month is September.
    const s = setup();
    s.setNow(Date.parse('2026-10-31T22:59:00Z'));
    expect(await s.job.tick()).toMatchObject({ month: '2026-09', outcome: 'written' });
  });

  it('does not overwrite a file that is present; writes only the missing one', async () => {
    const s = setup();
    writeFileSync(join(dir, 'rapport-2026-10.html'), 'kept by the analyst');
    expect(await s.job.tick()).toMatchObject({ outcome: 'written', files: [join(dir, 'rapport-2026-10.pdf')] });
    expect(readFileSync(join(dir, 'rapport-2026-10.html'), 'utf8')).toBe('kept by the analyst');
  });

  it('waits while the month is not ready, and renders nothing', async () => {
    let ready = false;
    const s = setup({ ready: async () => ready });
    expect(await s.job.tick()).toEqual({ month: '2026-10', outcome: 'waiting' });
    expect(s.renders).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    ready = true;
    expect(await s.job.tick()).toMatchObject({ outcome: 'written' });
  });

  it('a failed render writes nothing, is counted and logged, and is retried at the next tick', async () => {
    let fail = true;
    const s = setup({
      render: async (month) => {
        if (fail) throw Object.assign(new Error('chromium crashed'), { code: 'E_REPORT_RENDER_FAILED' });
        return { html: `<html>${month}</html>`, pdf: Buffer.from('%PDF-ok') };
      },
    });
    expect(await s.job.tick()).toMatchObject({ month: '2026-10', outcome: 'failed', error: 'chromium crashed' });
    expect(readdirSync(dir)).toEqual([]);
    expect(await s.counter('failed')).toBe(1);
    expect(s.logged.find((l) => l['event'] === 'report_failed')).toMatchObject({ month: '2026-10', code: 'E_REPORT_RENDER_FAILED' });
    expect(await s.job.tick()).toMatchObject({ outcome: 'failed' });
    expect(await s.counter('failed')).toBe(2);
    fail = false;
    expect(await s.job.tick()).toMatchObject({ outcome: 'written' });
    expect(readFileSync(join(dir, 'rapport-2026-10.pdf'), 'latin1')).toBe('%PDF-ok');
    expect(await s.counter('written')).toBe(1);
  });

  it('atomic write: a failed rename leaves neither a temp file nor a changed target', () => {
    // A non-empty directory at the target makes rename(2) fail (EISDIR) after the temp file is written.
    const target = join(dir, 'rapport-2026-10.pdf');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'x');
    expect(() => writeFileAtomic(dir, 'rapport-2026-10.pdf', Buffer.from('%PDF-'))).toThrow();
    expect(readdirSync(dir)).toEqual(['rapport-2026-10.pdf']);
    expect(readdirSync(target)).toEqual(['inside']);
    writeFileAtomic(dir, 'rapport-2026-09.html', '<html>');
    expect(readFileSync(join(dir, 'rapport-2026-09.html'), 'utf8')).toBe('<html>');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a report directory that cannot be created is a failed tick, retried once it can', async () => {
    const parent = join(dir, 'is-a-file');
    writeFileSync(parent, 'x');
    const s = setup({ dir: join(parent, 'reports') });
    expect(await s.job.tick()).toMatchObject({ outcome: 'failed' });
    rmSync(parent);
    expect(await s.job.tick()).toMatchObject({ outcome: 'written' });
    expect(readdirSync(join(parent, 'reports')).sort()).toEqual(['rapport-2026-10.html', 'rapport-2026-10.pdf']);
  });

  it('concurrent ticks share one render', async () => {
    const s = setup();
    const [a, b] = await Promise.all([s.job.tick(), s.job.tick()]);
    expect(a).toBe(b);
    expect(s.renders).toEqual(['2026-10']);
  });
});

describe('monthReady', () => {
  it('with indicators configured: ready exactly when they are stored', async () => {
    const asked: string[] = [];
    const ready = monthReady({ indicatorsStored: async (m) => (asked.push(m), m === '2026-10'), hoursStored: async () => true });
    expect(await ready('2026-10', Date.parse('2026-10-31T23:00:00Z'))).toBe(true);
    expect(await ready('2026-09', Date.parse('2026-09-30T22:00:00Z'))).toBe(false);
    expect(asked).toEqual(['2026-10', '2026-09']);
  });

  it('without indicators: asks for the hours of the last Oslo day of the month', async () => {
    const ranges: [string, string][] = [];
    const ready = monthReady({ hoursStored: async (f, t) => (ranges.push([new Date(f).toISOString(), new Date(t).toISOString()]), true) });
    // October 2026 ends 2026-11-01 00:00 Oslo = 2026-10-31T23:00Z; its last day starts 2026-10-31 00:00 Oslo = 23:00Z the day before.
    expect(await ready('2026-10', Date.parse('2026-10-31T23:00:00Z'))).toBe(true);
    expect(ranges).toEqual([['2026-10-30T23:00:00.000Z', '2026-10-31T23:00:00.000Z']]);
  });
});

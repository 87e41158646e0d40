/**
 * Runs report-reads.child.ts in a child process with the ingest's V8 flags (ingest/node-flags), the
 * way the ingest service builds the monthly report: for report-heap.test.ts and the indicators
 * benchmark (test/bench/indicators.bench.ts, measure c).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export type ReportReads =
  | { ok: true; metricsMonthSeconds: number; indicatorsSeconds: number; recommendationsSeconds: number; peakRssMb: number; heapLimitMb: number; nodeFlags: string }
  | { ok: false; exitCode: number | null; stderrTail: string; nodeFlags: string };

export async function runReportReads(influxUrl: string, db: string, month: string): Promise<ReportReads> {
  const flags = readFileSync(`${root}ingest/node-flags`, 'utf8').trim().split(/\s+/);
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', `${root}test/dashboards/report/report-reads.child.ts`, influxUrl, db, month], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const nodeFlags = flags.join(' ');
  if (code !== 0) return { ok: false, exitCode: code, stderrTail: err.slice(-800), nodeFlags };
  return { ok: true, ...(JSON.parse(out.trim().split('\n').pop()!) as Omit<Extract<ReportReads, { ok: true }>, 'ok' | 'nodeFlags'>), nodeFlags };
}

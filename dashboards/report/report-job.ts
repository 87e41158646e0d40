/**
 * The monthly report on a schedule (issue 7: "`report --month` … and a monthly schedule in the
 * service"). Each tick looks at the previous Oslo month: once it is ready — its indicator values are
 * stored (IndicatorJob), or, without indicators configured, the hours of its last day are stored
 * (the same "month complete" test as dashboards/indicators/indicator-job.ts) — it writes
 * `rapport-YYYY-MM.pdf` and `rapport-YYYY-MM.html` into the report directory.
 *
 * - Once: the files themselves are the record, so a restart does not write the month again; a file
 *   that is present is never overwritten (an analyst may have replaced it, e.g. after a correction).
 * - Atomic: each file is written to a temp name in the same directory and renamed (rename(2) is
 *   atomic within one file system), so a reader or a crash never sees half a PDF.
 * - Retried: a failed check, build or render is logged, counted and tried again at the next tick;
 *   a tick works one month and one render at a time, so the schedule holds at most one Chromium.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { localDay, localMonth } from '../../devices/torg/opening-hours.ts';

const ZONE = 'Europe/Oslo';

export type ReportFileFormat = 'pdf' | 'html';
export const REPORT_FILE_FORMATS: readonly ReportFileFormat[] = ['pdf', 'html'];

/** `rapport-2026-10.pdf`: the name the schedule, the CLI and the API's download use. */
export function reportFileName(month: string, format: ReportFileFormat): string {
  return `rapport-${month}.${format}`;
}

/** Writes `data` to `dir/name` through a temp file in the same directory and a rename. */
export function writeFileAtomic(dir: string, name: string, data: string | Uint8Array): void {
  const tmp = join(dir, `.${name}.${randomUUID()}.tmp`);
  try {
    writeFileSync(tmp, data, { flag: 'wx' });
    renameSync(tmp, join(dir, name));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export interface MonthReadiness {
  /** The month's stored indicator values exist (IndicatorStore.read(month).length > 0); absent without indicators. */
  indicatorsStored?: (month: string) => Promise<boolean>;
  /** Whether any hour of [fromMs, toMs) is stored (MetricsStore.readAggHourly has rows). */
  hoursStored: (fromMs: number, toMs: number) => Promise<boolean>;
}

/**
 * A month is ready for its report when its indicators are stored — they are stored only once every
 * day's hours are (IndicatorJob), so the report shows the stored values the API serves — or, with no
 * indicators configured, when its last local day's hours are stored.
 */
export function monthReady(r: MonthReadiness): (month: string, monthEndMs: number) => Promise<boolean> {
  return async (month, monthEndMs) => {
    if (r.indicatorsStored) return r.indicatorsStored(month);
    const lastDay = localDay(monthEndMs - 1, ZONE);
    return r.hoursStored(lastDay.startMs, lastDay.endMs);
  };
}

export interface ReportJobDeps {
  /** INGEST_REPORT_DIR; created when missing. */
  dir: string;
  ready: (month: string, monthEndMs: number) => Promise<boolean>;
  /** The month's report in bokmål (prosjektstyre's language), both formats. */
  render: (month: string) => Promise<{ html: string; pdf: Buffer }>;
  /** Epoch ms: the injected clock. */
  now: () => number;
  log: Logger;
  metricsRegistry?: Registry;
}

export type ReportTickOutcome =
  | { month: string; outcome: 'present' | 'waiting' }
  | { month: string; outcome: 'written'; files: string[] }
  | { month: string; outcome: 'failed'; error: string };

export class ReportJob {
  private readonly runs: Counter<'outcome'>;
  private running: Promise<ReportTickOutcome> | null = null;

  constructor(private readonly deps: ReportJobDeps) {
    const registers = deps.metricsRegistry ? [deps.metricsRegistry] : [];
    this.runs = new Counter({
      name: 'report_months_total',
      help: 'Monthly report schedule: months written, and attempts that failed (retried at the next tick)',
      labelNames: ['outcome'],
      registers,
    });
  }

  /** One look at the previous Oslo month; a tick while one is running shares its outcome. */
  tick(): Promise<ReportTickOutcome> {
    this.running ??= this.run().finally(() => (this.running = null));
    return this.running;
  }

  private async run(): Promise<ReportTickOutcome> {
    const prev = localMonth(localMonth(this.deps.now(), ZONE).startMs - 1, ZONE);
    const month = prev.label;
    const missing = REPORT_FILE_FORMATS.filter((f) => !existsSync(join(this.deps.dir, reportFileName(month, f))));
    if (missing.length === 0) return { month, outcome: 'present' };
    try {
      if (!(await this.deps.ready(month, prev.endMs))) return { month, outcome: 'waiting' };
      const rendered = await this.deps.render(month);
      mkdirSync(this.deps.dir, { recursive: true });
      const files: string[] = [];
      for (const f of missing) {
        const name = reportFileName(month, f);
        writeFileAtomic(this.deps.dir, name, f === 'pdf' ? rendered.pdf : rendered.html);
        files.push(join(this.deps.dir, name));
      }
      this.runs.inc({ outcome: 'written' });
      this.deps.log.info({ event: 'report_written', month, files }, `månedsrapport ${month} skrevet / monthly report ${month} written`);
      return { month, outcome: 'written', files };
    } catch (err) {
      this.runs.inc({ outcome: 'failed' });
      const code = (err as { code?: unknown }).code;
      this.deps.log.warn({ event: 'report_failed', month, err, ...(typeof code === 'string' ? { code } : {}) }, `monthly report ${month} failed; retried at the next tick`);
      return { month, outcome: 'failed', error: err instanceof Error ? err.message : String(err) };
    }
  }
}

/**
 * Stores the monthly effektmål values (issue 6: "Monthly values are computed and stored with the
 * definition version used"; "When readings for a past period arrive … the affected … monthly
 * aggregates and indicator values are recomputed, and the change is logged").
 *
 * - `tick(now)`: once the previous Oslo month is over and the hours of its last day are stored (the
 *   MetricsJob has reached it), that month is computed and stored, once per process.
 * - `afterMetrics(outcomes)`: the months of days the MetricsJob recomputed with changed hours, when
 *   the month is over, are recomputed and stored; IndicatorStore.save logs old → new.
 *
 * Bounded: the queue holds one entry per month (a set) and at most `maxQueued` months (the excess is
 * counted and dropped); at most `maxMonthsPerTick` months are computed per call. A month whose
 * compute or save fails, or whose hours are not all stored yet (`missingDays`), stays queued.
 */
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { localDay, localMonth } from '../../devices/torg/opening-hours.ts';
import type { RecomputeOutcome } from '../metrics/recompute.ts';
import type { IndicatorResult } from './indicator-engine.ts';
import type { IndicatorChange } from './indicator-store.ts';

const ZONE = 'Europe/Oslo';

export interface IndicatorJobDeps {
  /** A month's values from stored hours (metrics-routes.ts createIndicatorComputer). */
  compute: (month: string) => Promise<IndicatorResult & { missingDays: readonly string[] }>;
  store: { save(result: IndicatorResult): Promise<{ points: number; rejected: number; changes: IndicatorChange[] }> };
  /** Whether any hour of [fromMs, toMs) is stored (MetricsStore.readAggHourly has rows). */
  hoursStored: (fromMs: number, toMs: number) => Promise<boolean>;
  log: Logger;
  /** Epoch ms (the injected clock); decides which months are over for afterMetrics. */
  now: () => number;
  maxMonthsPerTick?: number;
  maxQueued?: number;
  metricsRegistry?: Registry;
}

export interface MonthOutcome {
  month: string;
  definitionVersion: string;
  points: number;
  changes: IndicatorChange[];
}

export class IndicatorJob {
  private readonly queue = new Set<string>();
  /** Months stored at least once by `tick` (so the month-end store happens once). */
  private readonly initial = new Set<string>();
  private readonly maxMonthsPerTick: number;
  private readonly maxQueued: number;
  private readonly months: Counter<'outcome'>;
  private readonly dropped: Counter;

  constructor(private readonly deps: IndicatorJobDeps) {
    this.maxMonthsPerTick = deps.maxMonthsPerTick ?? 2;
    this.maxQueued = deps.maxQueued ?? 24;
    const registers = deps.metricsRegistry ? [deps.metricsRegistry] : [];
    this.months = new Counter({ name: 'indicator_months_computed_total', help: 'Months of indicator values computed and stored, by outcome', labelNames: ['outcome'], registers });
    this.dropped = new Counter({ name: 'indicator_months_dropped_total', help: 'Months not queued for recompute because the queue was full', registers });
    const queue = this.queue;
    new Gauge({
      name: 'indicator_months_queued',
      help: 'Months waiting for indicator values to be (re)computed',
      registers,
      collect() {
        this.set(queue.size);
      },
    });
  }

  get pending(): string[] {
    return [...this.queue].sort();
  }

  private enqueue(month: string): void {
    if (this.queue.has(month)) return;
    if (this.queue.size >= this.maxQueued) {
      this.dropped.inc();
      this.deps.log.warn({ event: 'indicator_queue_full', month }, `indicator queue full; ${month} not recomputed`);
      return;
    }
    this.queue.add(month);
  }

  /** Queues the finished months of days whose hours changed, then works the queue. */
  async afterMetrics(outcomes: readonly RecomputeOutcome[]): Promise<MonthOutcome[]> {
    const current = localMonth(this.deps.now(), ZONE).label;
    for (const o of outcomes) if (o.changes.length > 0 && o.month < current) this.enqueue(o.month);
    return this.drain();
  }

  /** Queues the previous month once its last day's hours are stored, then works the queue. */
  async tick(now: number): Promise<MonthOutcome[]> {
    const prev = localMonth(localMonth(now, ZONE).startMs - 1, ZONE);
    if (!this.initial.has(prev.label) && !this.queue.has(prev.label)) {
      const lastDay = localDay(prev.endMs - 1, ZONE);
      try {
        if (await this.deps.hoursStored(lastDay.startMs, lastDay.endMs)) this.enqueue(prev.label);
      } catch (err) {
        this.deps.log.warn({ event: 'indicator_check_failed', month: prev.label, err }, 'could not check stored hours; retried on the next tick');
      }
    }
    return this.drain();
  }

  private async drain(): Promise<MonthOutcome[]> {
    const out: MonthOutcome[] = [];
    for (const month of this.pending.slice(0, this.maxMonthsPerTick)) {
      try {
        const result = await this.deps.compute(month);
        if (result.missingDays.length > 0) {
          // The month's hours are not all stored yet (the compute bound, or InfluxDB lost a day):
          // storing now would freeze a gap; the next call computes more of them.
          this.months.inc({ outcome: 'incomplete' });
          this.deps.log.info({ event: 'indicator_month_incomplete', month, missingDays: result.missingDays.length }, `indicators for ${month} wait for stored hours`);
          continue;
        }
        const saved = await this.deps.store.save(result);
        this.queue.delete(month);
        this.initial.add(month);
        this.months.inc({ outcome: saved.rejected > 0 ? 'rejected' : 'ok' });
        out.push({ month, definitionVersion: result.definitionVersion, points: saved.points, changes: saved.changes });
      } catch (err) {
        this.months.inc({ outcome: 'failed' });
        this.deps.log.warn({ event: 'indicator_month_failed', month, err }, `indicators for ${month} failed; retried on the next tick`);
        break;
      }
    }
    return out;
  }
}

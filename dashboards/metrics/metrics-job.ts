/**
 * Drives the hourly aggregates: on each tick (the composition root calls it, e.g. every few minutes)
 * it computes the local day whose hours have completed since the last tick and every day the
 * LateDataTracker marked stale, oldest first. Time comes from the injected clock.
 *
 * Bounded: at most `maxDaysPerTick` days per tick (a replayed month of backlog is worked off over
 * several ticks instead of one long burst); the rest stay queued, and the queue itself holds at most
 * one entry per local day (a set).
 */
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { localDay } from '../../devices/torg/opening-hours.ts';
import type { LateDataTracker } from './late-data-tracker.ts';
import { recomputeDay } from './recompute.ts';
import type { RecomputeDeps, RecomputeOutcome } from './recompute.ts';

export class MetricsJob {
  private readonly deps: RecomputeDeps;
  private readonly tracker: LateDataTracker;
  private readonly now: () => number;
  private readonly maxDaysPerTick: number;
  private readonly log: Logger;
  private readonly queue = new Set<string>();
  /** Watermark (first uncomputed hour) at the last tick; null before the first. */
  private lastWatermark: number | null = null;
  private readonly days: Counter<'outcome'>;
  private readonly changed: Counter;

  constructor(opts: { deps: RecomputeDeps; tracker: LateDataTracker; now: () => number; maxDaysPerTick?: number; metricsRegistry?: Registry }) {
    const registers = opts.metricsRegistry ? [opts.metricsRegistry] : [];
    this.days = new Counter({ name: 'metrics_days_computed_total', help: 'Local days of hourly aggregates computed, by outcome', labelNames: ['outcome'], registers });
    this.changed = new Counter({ name: 'metrics_values_changed_total', help: 'Hourly values that changed on a recompute (late data)', registers });
    const tracker = opts.tracker;
    const queue = this.queue;
    // Read at scrape time, so the values are never stale and nothing has to update them.
    new Gauge({
      name: 'metrics_days_queued',
      help: 'Local days waiting to be computed',
      registers,
      collect() {
        this.set(queue.size);
      },
    });
    new Gauge({
      name: 'metrics_late_hours_dropped',
      help: 'Late hours the tracker could not remember since start (their days are still recomputed)',
      registers,
      collect() {
        this.set(tracker.droppedHours);
      },
    });
    this.deps = opts.deps;
    this.tracker = opts.tracker;
    this.now = opts.now;
    this.maxDaysPerTick = opts.maxDaysPerTick ?? 7;
    this.log = opts.deps.log;
  }

  /** Days waiting to be (re)computed. */
  get pending(): string[] {
    return [...this.queue].sort();
  }

  async tick(): Promise<RecomputeOutcome[]> {
    const now = this.now();
    const watermark = this.tracker.watermark(now);
    if (this.lastWatermark === null || watermark > this.lastWatermark) {
      // Every day with an hour completed since the last tick, through the day of the hour just
      // completed (which covers its hours so far). After a pause of days each one is queued.
      const firstDay = localDay((this.lastWatermark ?? watermark) - 1);
      for (let d = firstDay; d.startMs < watermark; d = localDay(d.endMs)) this.queue.add(d.label);
      this.lastWatermark = watermark;
    }
    for (const dirty of this.tracker.take()) for (const day of dirty.days) this.queue.add(day);
    const outcomes: RecomputeOutcome[] = [];
    for (const day of this.pending.slice(0, this.maxDaysPerTick)) {
      try {
        const outcome = await recomputeDay(this.deps, day);
        outcomes.push(outcome);
        this.queue.delete(day);
        this.days.inc({ outcome: 'ok' });
        this.changed.inc(outcome.changes.length);
      } catch (err) {
        this.days.inc({ outcome: 'failed' });
        // The day stays queued; the next tick retries it (InfluxDB down is E_INFLUX_UNAVAILABLE).
        this.log.warn({ event: 'metrics_recompute_failed', day, err }, `recompute of ${day} failed; retried on the next tick`);
        break;
      }
    }
    return outcomes;
  }
}

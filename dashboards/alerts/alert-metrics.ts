/**
 * Prometheus counters of the alert service. Created once in the composition root and passed to the
 * engine and the sinks, so a test can give each its own registry.
 */
import { Counter, type Registry } from 'prom-client';

export interface AlertMetrics {
  /** Lifecycle events emitted, by rule and state. */
  events: Counter<'rule' | 'state'>;
  /** Sink deliveries by sink (mqtt, webhook:<name>, influx) and outcome (delivered, retried, failed). */
  deliveries: Counter<'sink' | 'outcome'>;
  /** Events a sink dropped, by sink and reason (queue_full, retries_exhausted, rejected, closed). */
  dropped: Counter<'sink' | 'reason'>;
  /**
   * Retained firing alerts seen at start (restore-alerts.ts), by outcome: restored, resolved (its torg
   * is gone or another one holds the same rule and subject), invalid, over_limit.
   */
  restored: Counter<'outcome'>;
}

export function createAlertMetrics(registry: Registry): AlertMetrics {
  return {
    events: new Counter({ name: 'itorg_alert_events_total', help: 'Alert lifecycle events emitted', labelNames: ['rule', 'state'], registers: [registry] }),
    deliveries: new Counter({
      name: 'itorg_alert_deliveries_total',
      help: 'Alert event delivery attempts by sink and outcome',
      labelNames: ['sink', 'outcome'],
      registers: [registry],
    }),
    dropped: new Counter({ name: 'itorg_alert_dropped_total', help: 'Alert events a sink gave up on', labelNames: ['sink', 'reason'], registers: [registry] }),
    restored: new Counter({
      name: 'itorg_alert_restored_total',
      help: 'Retained firing alerts found at start, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

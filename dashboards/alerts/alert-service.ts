/**
 * The alerts feature as one object for a composition root (the live-state service's main.ts): build
 * the sinks from the config and the clients it already holds, evaluate each torg's facts, and
 * publish whatever the engine emits. The caller owns the MQTT client and the PointWriter and closes
 * them after `close()`.
 */
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import type { PointWriter } from '../../ingest/point-writer.ts';
import type { AlertConfig } from './alert-config.schema.ts';
import { AlertEngine } from './alert-engine.ts';
import type { AlertEvent } from './alert-event.ts';
import type { AlertMetrics } from './alert-metrics.ts';
import { AlertDispatcher, type AlertSink } from './alert-sink.ts';
import { InfluxAlertSink } from './influx-alert-sink.ts';
import { MqttAlertSink } from './mqtt-alert-sink.ts';
import { collectRetainedAlerts, type RestoreOptions } from './restore-alerts.ts';
import { WebhookAlertSink } from './webhook-alert-sink.ts';

export interface AlertServiceOptions {
  torg: readonly Torg[];
  config: AlertConfig;
  clock: () => number;
  metrics: AlertMetrics;
  logger: Logger;
  /** Omit a sink's client to run without that sink (e.g. a dev setup without InfluxDB). */
  mqtt?: MqttClient;
  writer?: PointWriter;
  /** How the retained firing alerts are read back in `restore()`. */
  restore?: Pick<RestoreOptions, 'quietMs' | 'timeoutMs' | 'maxAlerts'>;
}

export class AlertService {
  readonly engine: AlertEngine;
  private readonly dispatcher: AlertDispatcher;

  constructor(private readonly opts: AlertServiceOptions) {
    const { logger, metrics } = opts;
    this.engine = new AlertEngine({ torg: opts.torg, config: opts.config, clock: opts.clock, logger, metrics });
    const sinks: AlertSink[] = [];
    if (opts.mqtt) {
      sinks.push(new MqttAlertSink({ client: opts.mqtt, metrics, onError: (err, e) => logger.warn({ err, alert: e.id }, 'alert: MQTT publish failed') }));
    }
    for (const webhook of opts.config.webhooks) {
      sinks.push(
        new WebhookAlertSink({
          webhook,
          metrics,
          clock: opts.clock,
          onGiveUp: (e, reason) => logger.warn({ alert: e.id, webhook: webhook.name, reason }, 'alert: webhook delivery given up'),
        }),
      );
    }
    if (opts.writer) sinks.push(new InfluxAlertSink({ writer: opts.writer, metrics, onError: (err) => logger.warn({ err }, 'alert: history write failed') }));
    this.dispatcher = new AlertDispatcher(sinks);
  }

  /**
   * Continues the alerts that were firing before a restart, read from their retained MQTT events.
   * Await it before the first `evaluate`: otherwise a still-true condition starts a new alert with a
   * new id (a duplicate for webhook receivers and history) and the old retained one is never cleared.
   * Without an MQTT client there is nothing to read and nothing is restored.
   */
  async restore(): Promise<AlertEvent[]> {
    const { mqtt, metrics, logger } = this.opts;
    if (!mqtt) return [];
    const found = await collectRetainedAlerts(mqtt, { ...this.opts.restore, metrics, logger });
    const { restored, resolved, skipped } = this.engine.restore(found.events);
    if (restored.length > 0) metrics.restored.inc({ outcome: 'restored' }, restored.length);
    if (resolved.length > 0) metrics.restored.inc({ outcome: 'resolved' }, resolved.length);
    if (skipped.length > 0) metrics.restored.inc({ outcome: 'invalid' }, skipped.length);
    this.dispatcher.dispatch(resolved);
    return restored;
  }

  /** Evaluates one torg and hands the resulting events to every sink; returns them. */
  evaluate(torgId: string, facts: unknown): AlertEvent[] {
    const events = this.engine.evaluate(torgId, facts);
    this.dispatcher.dispatch(events);
    return events;
  }

  activeAlerts(torgId?: string): AlertEvent[] {
    return this.engine.activeAlerts(torgId);
  }

  drain(): Promise<void> {
    return this.dispatcher.drain();
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

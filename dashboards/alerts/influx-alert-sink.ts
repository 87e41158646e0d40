/**
 * Keeps alert history in InfluxDB: one point per event in ALERT_MEASUREMENT
 * (devices/contract/influx-layout.ts), timestamped with the event instant, written through the
 * PointWriter seam (ingest/point-writer.ts). Events are batched while a write is in flight; the
 * writer retries on its own, and the bounded queue in front counts what is dropped meanwhile.
 */
import { ALERT_MEASUREMENT } from '../../devices/contract/influx-layout.ts';
import { escapeTag } from '../../ingest/line-protocol.ts';
import type { PointWriter } from '../../ingest/point-writer.ts';
import type { AlertEvent } from './alert-event.ts';
import type { AlertMetrics } from './alert-metrics.ts';
import type { AlertSink } from './alert-sink.ts';
import { DeliveryQueue } from './delivery-queue.ts';

/**
 * A string field value: double quote and backslash escaped, per the line protocol reference
 * (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/#special-characters).
 * A raw newline would end the line in the 1.x parser, so it is written as the two characters `\n`.
 */
function stringField(s: string): string {
  return '"' + s.replace(/(["\\])/g, '\\$1').replace(/\r?\n|\r/g, '\\n') + '"';
}

/** Floats are written without the `i` suffix even when whole, so the field type never changes. */
function floatField(n: number): string {
  return String(n);
}

/** One line of line protocol for an event; tags in key order (InfluxDB's recommendation for write speed). */
export function alertEventToLine(e: AlertEvent): string {
  const tags = `rule=${escapeTag(e.rule)},state=${escapeTag(e.state)},subject=${escapeTag(e.subject)},torg=${escapeTag(e.torg)}`;
  const fields = [
    `id=${stringField(e.id)}`,
    `messageEn=${stringField(e.message.en)}`,
    `messageNb=${stringField(e.message.nb)}`,
    `severity=${stringField(e.severity)}`,
    `sinceMs=${e.since}i`,
  ];
  // Unknown values are left out: InfluxDB has no null, and a missing field reads as null in queries.
  if (e.threshold !== null && Number.isFinite(e.threshold)) fields.push(`threshold=${floatField(e.threshold)}`);
  if (e.value !== null && Number.isFinite(e.value)) fields.push(`value=${floatField(e.value)}`);
  return `${ALERT_MEASUREMENT.measurement},${tags} ${fields.join(',')} ${e.at}`;
}

export interface InfluxAlertSinkOptions {
  /** Writes with ms precision, to RP_AGGREGATES (the caller builds it so). */
  writer: PointWriter;
  metrics: Pick<AlertMetrics, 'deliveries' | 'dropped'>;
  /** Events waiting for InfluxDB; default 5000 (a day of heavy alerting fits). */
  maxQueue?: number;
  maxBatch?: number;
  onError?: (error: unknown) => void;
}

export class InfluxAlertSink implements AlertSink {
  readonly name = 'influx';
  private readonly queue: DeliveryQueue<AlertEvent>;

  constructor(private readonly opts: InfluxAlertSinkOptions) {
    this.queue = new DeliveryQueue<AlertEvent>({
      maxItems: opts.maxQueue ?? 5000,
      maxBatch: opts.maxBatch ?? 500,
      handle: async (batch) => {
        const { rejected } = await opts.writer.write(batch.map(alertEventToLine));
        opts.metrics.deliveries.inc({ sink: this.name, outcome: 'delivered' }, batch.length - rejected.length);
        if (rejected.length > 0) {
          opts.metrics.dropped.inc({ sink: this.name, reason: 'rejected' }, rejected.length);
          opts.onError?.(new Error(`InfluxDB refused ${rejected.length} alert point(s): ${rejected[0]!.reason}`));
        }
      },
      onDrop: (n, reason) => opts.metrics.dropped.inc({ sink: this.name, reason }, n),
      onError: (error, batch) => {
        opts.metrics.dropped.inc({ sink: this.name, reason: 'failed' }, batch.length);
        opts.onError?.(error);
      },
    });
  }

  send(event: AlertEvent): void {
    this.queue.push(event);
  }

  drain(): Promise<void> {
    return this.queue.drain();
  }

  /** Does not close the writer, which belongs to the caller. */
  close(): Promise<void> {
    return this.queue.close();
  }
}

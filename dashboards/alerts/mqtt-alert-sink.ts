/**
 * Publishes alert events on `itorg/v1/{torg}/alerts/{id}` (devices/contract/mqtt-topics.ts), QoS 1.
 *
 * A firing event is retained, so a live page or operator tool that subscribes later (or reconnects)
 * receives every alert that is firing now, without a separate API call. On resolve the resolved event
 * is published without retain (live subscribers see it), then a zero-length retained message removes
 * the retained firing one: "any existing retained message with the same topic name MUST be removed"
 * (MQTT 3.1.1 [MQTT-3.3.1-10]; MQTT 5.0 §3.3.1.3 says the same). The empty message is also delivered to
 * current subscribers, so they ignore empty payloads.
 *
 * MQTT.js keeps QoS 1 publishes in its outgoing store while the broker is away and sends them on
 * reconnect; the queue in front bounds how many wait.
 */
import type { MqttClient } from 'mqtt';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import type { AlertEvent } from './alert-event.ts';
import type { AlertMetrics } from './alert-metrics.ts';
import type { AlertSink } from './alert-sink.ts';
import { DeliveryQueue } from './delivery-queue.ts';

export interface MqttAlertSinkOptions {
  client: MqttClient;
  metrics: Pick<AlertMetrics, 'deliveries' | 'dropped'>;
  /** Events waiting for the broker; default 1000. */
  maxQueue?: number;
  onError?: (error: unknown, event: AlertEvent) => void;
}

export class MqttAlertSink implements AlertSink {
  readonly name = 'mqtt';
  private readonly queue: DeliveryQueue<AlertEvent>;

  constructor(private readonly opts: MqttAlertSinkOptions) {
    this.queue = new DeliveryQueue<AlertEvent>({
      maxItems: opts.maxQueue ?? 1000,
      maxBatch: 1,
      handle: async ([event]) => this.publish(event!),
      onDrop: (n, reason) => opts.metrics.dropped.inc({ sink: this.name, reason }, n),
      onError: (error, [event]) => {
        opts.metrics.deliveries.inc({ sink: this.name, outcome: 'failed' });
        opts.onError?.(error, event!);
      },
    });
  }

  send(event: AlertEvent): void {
    this.queue.push(event);
  }

  private async publish(event: AlertEvent): Promise<void> {
    const topic = topics.alert(event.torg, event.id);
    const payload = JSON.stringify(event);
    if (event.state === 'firing') {
      await this.opts.client.publishAsync(topic, payload, { qos: 1, retain: true });
    } else {
      await this.opts.client.publishAsync(topic, payload, { qos: 1, retain: false });
      await this.opts.client.publishAsync(topic, '', { qos: 1, retain: true });
    }
    this.opts.metrics.deliveries.inc({ sink: this.name, outcome: 'delivered' });
  }

  drain(): Promise<void> {
    return this.queue.drain();
  }

  /** Does not end the MQTT client, which belongs to the caller. */
  close(): Promise<void> {
    return this.queue.close();
  }
}

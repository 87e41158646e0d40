/**
 * Reads back the alerts that were firing when the service last stopped: their firing events are
 * retained on `itorg/v1/{torg}/alerts/{id}` (mqtt-alert-sink.ts), so the broker still holds them.
 *
 * End of the retained burst: the server sends the retained messages matching a new subscription
 * right after it handles SUBSCRIBE ([MQTT-3.3.1-6]; MQTT 5.0 §3.3.1.3, Retain Handling 0), so they
 * follow the SUBACK in the same TCP stream. MQTT has no "end of retained" marker, so collection stops
 * after `quietMs` without a retained message (counted from the SUBACK, then from each message),
 * bounded by `timeoutMs` overall. A quiet period is chosen over publishing an own marker message
 * (as the tests' late subscribers do) because the control client is shared, and a marker on an alert
 * topic would reach every live subscriber. The risk is a broker that pauses longer than `quietMs`
 * inside the burst; the default 500 ms is far above loopback/LAN gaps, and whatever is missed stays
 * retained and is resolved by hand or by the next restart.
 *
 * Only retained messages count (a live publish by another instance during the window is not state);
 * empty payloads (cleared alerts, [MQTT-3.3.1-10]) are ignored; anything that fails
 * `alertEventSchema`, or whose topic does not match its own torg and id, is counted as invalid.
 */
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { PlatformError } from '../../devices/contract/errors.ts';
import { filters, topics } from '../../devices/contract/mqtt-topics.ts';
import { alertEventSchema, type AlertEvent } from './alert-event.ts';
import type { AlertMetrics } from './alert-metrics.ts';

export interface RestoreOptions {
  /** Quiet period that ends the retained burst; default 500 ms. */
  quietMs?: number;
  /** Upper bound on the whole collection after SUBACK; default 5000 ms. */
  timeoutMs?: number;
  /** Retained alerts kept at most; the rest are counted as over_limit. Default 1000. */
  maxAlerts?: number;
  metrics?: Pick<AlertMetrics, 'restored'>;
  logger?: Logger;
}

export interface RetainedAlerts {
  events: AlertEvent[];
  invalid: number;
  overLimit: number;
}

/**
 * Subscribes `client` to every alert topic, collects the retained firing events, and unsubscribes.
 * The client must be connected; rejects with E_MQTT_UNAVAILABLE when the broker refuses the
 * subscription, and with MQTT.js's error when the client is disconnected.
 */
export async function collectRetainedAlerts(client: MqttClient, opts: RestoreOptions = {}): Promise<RetainedAlerts> {
  const quietMs = opts.quietMs ?? 500;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxAlerts = opts.maxAlerts ?? 1000;
  const out: RetainedAlerts = { events: [], invalid: 0, overLimit: 0 };
  const byId = new Set<string>();
  let subscribed = false;
  let quiet: NodeJS.Timeout | undefined;
  let finish = (): void => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const rearm = (): void => {
    clearTimeout(quiet);
    quiet = setTimeout(finish, quietMs);
  };

  const onMessage = (topic: string, payload: Buffer, packet: { retain: boolean }): void => {
    if (!packet.retain || payload.length === 0 || !isAlertTopic(topic)) return;
    if (subscribed) rearm();
    let event: AlertEvent;
    try {
      event = alertEventSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch {
      out.invalid++;
      return;
    }
    if (topic !== topics.alert(event.torg, event.id) || event.state !== 'firing') {
      out.invalid++;
      return;
    }
    if (byId.has(event.id)) return;
    if (out.events.length >= maxAlerts) {
      out.overLimit++;
      return;
    }
    byId.add(event.id);
    out.events.push(event);
  };

  client.on('message', onMessage);
  const overall = setTimeout(finish, timeoutMs);
  try {
    const granted = await client.subscribeAsync(filters.allAlerts, { qos: 1 });
    // SUBACK reason codes ≥ 0x80 are refusals (MQTT 5.0 §3.9.3), e.g. 0x87 when the ACL denies the
    // filter; same code as the control plane's subscription refusal (ingest/control/control-plane.ts).
    // Mosquitto 2.0 grants the filter and drops denied messages at delivery instead (see
    // test/ingest/broker-acl), so there a missing read right shows as nothing restored; the control
    // client has the admin role, which reads all of itorg/v1/#.
    if (granted.some((g) => g.qos >= 0x80)) throw new PlatformError('E_MQTT_UNAVAILABLE', `subscription refused: ${filters.allAlerts}`);
    subscribed = true;
    rearm();
    await finished;
  } finally {
    clearTimeout(quiet);
    clearTimeout(overall);
    client.removeListener('message', onMessage);
  }
  // After the listener is gone: nothing more is read, and later alert traffic is not delivered to a
  // client that only publishes alerts.
  await client.unsubscribeAsync(filters.allAlerts);
  if (out.invalid > 0) opts.metrics?.restored.inc({ outcome: 'invalid' }, out.invalid);
  if (out.overLimit > 0) opts.metrics?.restored.inc({ outcome: 'over_limit' }, out.overLimit);
  opts.logger?.info({ retained: out.events.length, invalid: out.invalid, overLimit: out.overLimit }, 'alerts: retained firing alerts collected');
  return out;
}

/** `itorg/v1/{torg}/alerts/{id}`: the control client may carry other subscriptions at the same time. */
function isAlertTopic(topic: string): boolean {
  const parts = topic.split('/');
  const f = filters.allAlerts.split('/');
  return parts.length === f.length && f.every((p, i) => p === '+' || p === parts[i]);
}

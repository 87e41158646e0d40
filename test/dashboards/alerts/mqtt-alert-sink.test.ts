import mqtt, { type MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertMetrics } from '../../../dashboards/alerts/alert-metrics.ts';
import { MqttAlertSink } from '../../../dashboards/alerts/mqtt-alert-sink.ts';
import { filters } from '../../../devices/contract/mqtt-topics.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';
import { FIRING, RESOLVED } from './event-fixture.ts';

interface Message {
  topic: string;
  payload: string;
  retain: boolean;
}

const MARKER = 'itorg/v1/nordby/alerts/zz-marker';

/**
 * Subscribes to every alert and returns what arrived before a marker the subscriber publishes itself.
 * The broker processes one connection's packets in order, so retained messages (sent when it handles
 * SUBSCRIBE) arrive before the marker (handled after it): no waiting for an absence.
 */
async function lateSubscriber(url: string): Promise<Message[]> {
  const client = await mqtt.connectAsync(url, { clientId: `late-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  const seen: Message[] = [];
  const done = new Promise<void>((resolve) =>
    client.on('message', (topic, payload, packet) => {
      if (topic === MARKER) resolve();
      else seen.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
    }),
  );
  await client.subscribeAsync(filters.allAlerts, { qos: 1 });
  await client.publishAsync(MARKER, 'x', { qos: 1 });
  await done;
  await client.endAsync();
  return seen;
}

describe('MqttAlertSink (real Mosquitto)', () => {
  let broker: MosquittoHandle;
  let publisher: MqttClient;

  beforeAll(async () => {
    broker = await startMosquitto();
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'alerts-test' });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await broker?.dispose();
  });

  it('retains a firing alert for late subscribers and clears it on resolve', async () => {
    const live = await mqtt.connectAsync(broker.url, { clientId: 'live-page' });
    const liveSeen: Message[] = [];
    let markersSeen = 0;
    let onSecondMarker = (): void => undefined;
    const secondMarker = new Promise<void>((resolve) => (onSecondMarker = resolve));
    live.on('message', (topic, payload, packet) => {
      liveSeen.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
      if (topic === MARKER && ++markersSeen === 2) onSecondMarker();
    });
    await live.subscribeAsync(filters.allAlerts, { qos: 1 });

    const metrics = createAlertMetrics(new Registry());
    const sink = new MqttAlertSink({ client: publisher, metrics });
    const topic = 'itorg/v1/nordby/alerts/0123456789abcdef';

    sink.send(FIRING);
    await sink.drain();
    const afterFiring = await lateSubscriber(broker.url);
    expect(afterFiring).toHaveLength(1);
    expect(afterFiring[0]).toMatchObject({ topic, retain: true });
    expect(JSON.parse(afterFiring[0]!.payload)).toEqual(FIRING);

    sink.send(RESOLVED);
    await sink.drain();
    expect(await lateSubscriber(broker.url)).toEqual([]);

    // The live subscriber saw firing, resolved, and the empty retained clear, in that order. The
    // second late subscriber's marker was published after the clear, so once the live client has it,
    // it has everything before it (the broker forwards to one subscriber in publish order).
    await secondMarker;
    const own = liveSeen.filter((m) => m.topic === topic);
    expect(own.map((m) => m.payload === '' ? '' : (JSON.parse(m.payload) as { state: string }).state)).toEqual(['firing', 'resolved', '']);
    await live.endAsync();

    const delivered = (await metrics.deliveries.get()).values.find((v) => v.labels.outcome === 'delivered');
    expect(delivered?.value).toBe(2);
  });
});

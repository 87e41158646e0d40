/**
 * Alerts survive a restart: a firing alert retained on real Mosquitto is read back by a new
 * AlertService (a new MQTT connection, as after a restart) and continued under the same id.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertConfig } from '../../../dashboards/alerts/alert-config.schema.ts';
import { AlertEngine } from '../../../dashboards/alerts/alert-engine.ts';
import { alertEventSchema, alertId, type AlertEvent } from '../../../dashboards/alerts/alert-event.ts';
import type { AlertFacts } from '../../../dashboards/alerts/alert-facts.ts';
import { createAlertMetrics, type AlertMetrics } from '../../../dashboards/alerts/alert-metrics.ts';
import { AlertService } from '../../../dashboards/alerts/alert-service.ts';
import { filters } from '../../../devices/contract/mqtt-topics.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';
import { MIN, oslo, TORG } from './torg-fixture.ts';

const RISE = oslo('2026-11-23T10:00');
const co2Facts = (co2: number, zoneId = 'mote-1'): AlertFacts => ({ zones: [{ id: zoneId, occupied: true, count: 4, co2, fireMax: 12 }], doors: [], devices: [] });
const MARKER = 'itorg/v1/nordby/alerts/zz-marker';

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

/** What a new subscriber gets as retained: everything before its own marker (same ordering argument as mqtt-alert-sink.test.ts). */
async function retainedNow(url: string): Promise<Seen[]> {
  const client = await mqtt.connectAsync(url, { clientId: `late-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  const seen: Seen[] = [];
  const done = new Promise<void>((resolve) =>
    client.on('message', (topic, payload, packet) => {
      if (topic === MARKER) resolve();
      else seen.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
    }),
  );
  await client.subscribeAsync(filters.allAlerts, { qos: 1 });
  await client.publishAsync(MARKER, '', { qos: 1 });
  await done;
  await client.endAsync();
  return seen;
}

async function counter(metrics: AlertMetrics, outcome: string): Promise<number> {
  const m = await metrics.restored.get();
  return m.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('restoring firing alerts after a restart (real Mosquitto)', () => {
  let broker: MosquittoHandle;
  const clients: MqttClient[] = [];
  const connect = async (id: string): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(broker.url, { clientId: `${id}-${Math.random().toString(16).slice(2)}`, protocolVersion: 5, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync();
    await broker?.dispose();
  });

  const service = (client: MqttClient, clock: { now: number }, config: unknown = {}, metrics = createAlertMetrics(new Registry())): AlertService =>
    new AlertService({ torg: TORG, config: parseAlertConfig(config), clock: () => clock.now, metrics, logger: pino({ level: 'silent' }), mqtt: client, restore: { quietMs: 200 } });

  /** The first life of the service: CO2 above 1000 ppm in mote-1 from 10:00, firing at 10:15, then the process "dies". */
  async function firstLife(zoneId = 'mote-1'): Promise<string> {
    const clock = { now: 0 };
    const client = await connect('before');
    const before = service(client, clock);
    const fired: AlertEvent[] = [];
    for (let t = RISE; t <= oslo('2026-11-23T10:15'); t += MIN) {
      clock.now = t;
      fired.push(...before.evaluate('nordby', co2Facts(1180, zoneId)));
    }
    await before.drain();
    await before.close();
    await client.endAsync();
    // The id is taken from the broker's retained copy, not from the service under test.
    const retained = (await retainedNow(broker.url)).filter((s) => s.topic.includes(`/nordby/alerts/`));
    expect(retained).toHaveLength(1);
    const event = alertEventSchema.parse(JSON.parse(retained[0]!.payload));
    expect([event.state, event.since, event.subject]).toEqual(['firing', RISE, zoneId]);
    expect(retained[0]!.topic).toBe(`itorg/v1/nordby/alerts/${event.id}`);
    return event.id;
  }

  it('continues a still-true alert under the same id, then resolves it with that id and clears the retained message', async () => {
    const id = await firstLife();
    const clock = { now: oslo('2026-11-23T10:20') };
    const client = await connect('after');
    const after = service(client, clock);
    const restored = await after.restore();
    expect(restored.map((e) => e.id)).toEqual([id]);
    expect(after.activeAlerts('nordby').map((a) => [a.id, a.since])).toEqual([[id, RISE]]);

    // A live subscriber from now on: it must see no new firing, only the resolution.
    const live = await connect('live');
    const liveSeen: Seen[] = [];
    let onMarker = (): void => undefined;
    const liveMarker = new Promise<void>((resolve) => (onMarker = resolve));
    live.on('message', (topic, payload, packet) => {
      if (!packet.retain) liveSeen.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
      if (topic === MARKER) onMarker();
    });
    await live.subscribeAsync(filters.allAlerts, { qos: 1, rh: 2 });

    const emitted: AlertEvent[] = [];
    for (let t = oslo('2026-11-23T10:20'); t <= oslo('2026-11-23T10:39'); t += MIN) {
      clock.now = t;
      emitted.push(...after.evaluate('nordby', co2Facts(1180)));
    }
    expect(emitted).toEqual([]);
    expect(after.activeAlerts('nordby').map((a) => a.id)).toEqual([id]);

    clock.now = oslo('2026-11-23T10:40');
    emitted.push(...after.evaluate('nordby', co2Facts(700)));
    await after.drain();
    expect(emitted.map((e) => [e.id, e.state, e.since, e.at])).toEqual([[id, 'resolved', RISE, oslo('2026-11-23T10:40')]]);
    expect(after.activeAlerts()).toEqual([]);
    expect(await retainedNow(broker.url)).toEqual([]);

    // The probe's marker was published after the resolution was acknowledged, so everything the live
    // page got from the restarted service arrived before it.
    await liveMarker;
    const beforeMarker = liveSeen.slice(0, liveSeen.findIndex((s) => s.topic === MARKER));
    expect(beforeMarker.map((s) => [s.topic, s.payload === '' ? '' : (JSON.parse(s.payload) as AlertEvent).state])).toEqual([
      [`itorg/v1/nordby/alerts/${id}`, 'resolved'],
      [`itorg/v1/nordby/alerts/${id}`, ''],
    ]);
    await after.close();
  });

  it('resolves a restored alert with the same id when the condition is false at the first evaluation', async () => {
    const id = await firstLife();
    const clock = { now: oslo('2026-11-23T10:30') };
    const after = service(await connect('after'), clock);
    expect((await after.restore()).map((e) => e.id)).toEqual([id]);
    const events = after.evaluate('nordby', co2Facts(650));
    await after.drain();
    expect(events.map((e) => [e.id, e.state, e.value])).toEqual([[id, 'resolved', 650]]);
    expect(await retainedNow(broker.url)).toEqual([]);
    await after.close();
  });

  it('resolves a restored alert whose rule was switched off, like any missing subject', async () => {
    const id = await firstLife();
    const clock = { now: oslo('2026-11-23T10:30') };
    const after = service(await connect('after'), clock, { defaults: { co2_high: { enabled: false } } });
    expect((await after.restore()).map((e) => e.id)).toEqual([id]);
    const events = after.evaluate('nordby', co2Facts(1180));
    await after.drain();
    expect(events.map((e) => [e.id, e.state])).toEqual([[id, 'resolved']]);
    expect(await retainedNow(broker.url)).toEqual([]);
    await after.close();
  });

  it('resolves at once an alert of a torg no longer in the model, and counts invalid retained payloads', async () => {
    const gone = await connect('gone');
    const since = oslo('2026-11-23T09:00');
    const goneId = alertId('battery_low', 'vestby', 'sensor-9', since);
    const goneEvent: AlertEvent = {
      id: goneId,
      rule: 'battery_low',
      torg: 'vestby',
      subject: 'sensor-9',
      subjectName: 'Sensor 9',
      severity: 'info',
      state: 'firing',
      since,
      at: since,
      value: 12,
      threshold: 20,
      message: { nb: 'Lavt batteri', en: 'Low battery' },
    };
    await gone.publishAsync(`itorg/v1/vestby/alerts/${goneId}`, JSON.stringify(goneEvent), { qos: 1, retain: true });
    await gone.publishAsync('itorg/v1/nordby/alerts/0000000000000bad', '{"not":"an alert"}', { qos: 1, retain: true });
    await gone.publishAsync('itorg/v1/nordby/alerts/0000000000000bbb', 'not json', { qos: 1, retain: true });

    const metrics = createAlertMetrics(new Registry());
    const after = service(await connect('after'), { now: oslo('2026-11-23T10:30') }, {}, metrics);
    expect(await after.restore()).toEqual([]);
    await after.drain();
    expect(await counter(metrics, 'invalid')).toBe(2);
    expect(await counter(metrics, 'resolved')).toBe(1);
    expect(await counter(metrics, 'restored')).toBe(0);
    // The vestby alert is cleared; the two foreign invalid ones are left alone.
    expect((await retainedNow(broker.url)).map((s) => s.topic).sort()).toEqual(['itorg/v1/nordby/alerts/0000000000000bad', 'itorg/v1/nordby/alerts/0000000000000bbb']);
    await gone.publishAsync('itorg/v1/nordby/alerts/0000000000000bad', '', { qos: 1, retain: true });
    await gone.publishAsync('itorg/v1/nordby/alerts/0000000000000bbb', '', { qos: 1, retain: true });
    await after.close();
  });

  it('restores at most maxAlerts and counts the rest', async () => {
    const pub = await connect('many');
    const ids: string[] = [];
    for (const [i, zoneId] of ['mote-1', 'sal'].entries()) {
      const since = RISE + i * MIN;
      const id = alertId('co2_high', 'nordby', zoneId, since);
      ids.push(id);
      const e: AlertEvent = { id, rule: 'co2_high', torg: 'nordby', subject: zoneId, subjectName: zoneId, severity: 'warning', state: 'firing', since, at: since + 15 * MIN, value: 1100, threshold: 1000, message: { nb: 'x', en: 'x' } };
      await pub.publishAsync(`itorg/v1/nordby/alerts/${id}`, JSON.stringify(e), { qos: 1, retain: true });
    }
    const metrics = createAlertMetrics(new Registry());
    const after = new AlertService({
      torg: TORG,
      config: parseAlertConfig({}),
      clock: () => oslo('2026-11-23T10:30'),
      metrics,
      logger: pino({ level: 'silent' }),
      mqtt: await connect('after'),
      restore: { quietMs: 200, maxAlerts: 1 },
    });
    const restored = await after.restore();
    expect(restored).toHaveLength(1);
    expect(ids).toContain(restored[0]!.id);
    expect(await counter(metrics, 'over_limit')).toBe(1);
    for (const id of ids) await pub.publishAsync(`itorg/v1/nordby/alerts/${id}`, '', { qos: 1, retain: true });
    await after.close();
  });
});

describe('AlertEngine.restore', () => {
  it('keeps the older of two alerts for the same rule and subject and resolves the other', () => {
    const engine = new AlertEngine({ torg: TORG, config: parseAlertConfig({}), clock: () => oslo('2026-11-23T11:00') });
    const mk = (since: number): AlertEvent => ({
      id: alertId('co2_high', 'nordby', 'mote-1', since),
      rule: 'co2_high',
      torg: 'nordby',
      subject: 'mote-1',
      subjectName: 'Møterom 1',
      severity: 'warning',
      state: 'firing',
      since,
      at: since + 15 * MIN,
      value: 1100,
      threshold: 1000,
      message: { nb: 'x', en: 'x' },
    });
    const older = mk(RISE);
    const newer = mk(RISE + 30 * MIN);
    const forged = { ...mk(RISE), subject: 'sal' };
    const r = engine.restore([newer, older, forged]);
    expect(r.restored.map((e) => e.id)).toEqual([older.id]);
    expect(r.resolved.map((e) => [e.id, e.state, e.at])).toEqual([[newer.id, 'resolved', oslo('2026-11-23T11:00')]]);
    expect(r.skipped).toEqual([forged]);
    expect(engine.activeAlerts().map((a) => a.id)).toEqual([older.id]);
  });
});

/**
 * The whole alert path against real services: facts in, CO2 alert fires on the injected clock, and
 * the event arrives on MQTT (retained), at a signed webhook and in InfluxDB history; resolve clears
 * all three.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertConfig } from '../../../dashboards/alerts/alert-config.schema.ts';
import { alertEventSchema, type AlertEvent } from '../../../dashboards/alerts/alert-event.ts';
import type { AlertFacts } from '../../../dashboards/alerts/alert-facts.ts';
import { createAlertMetrics } from '../../../dashboards/alerts/alert-metrics.ts';
import { AlertService } from '../../../dashboards/alerts/alert-service.ts';
import { filters } from '../../../devices/contract/mqtt-topics.ts';
import { RP_AGGREGATES } from '../../../devices/contract/influx-layout.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { startStack, type Stack } from '../../support/services.ts';
import { MIN, oslo, TORG } from './torg-fixture.ts';

const SECRET = 'e2e-secret-abcdefghij';

describe('AlertService end to end (real Mosquitto, InfluxDB, HTTP)', () => {
  let stack: Stack;
  let publisher: MqttClient;
  let writer: InfluxWriter;
  let server: Server;
  const hooks: { signature: string; body: string }[] = [];

  beforeAll(async () => {
    stack = await startStack();
    publisher = await mqtt.connectAsync(stack.mqtt.url, { clientId: 'alert-service' });
    writer = new InfluxWriter({ url: stack.influx.url, db: stack.influx.db, rp: RP_AGGREGATES });
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hooks.push({ signature: String(req.headers['x-itorg-signature']), body: Buffer.concat(chunks).toString('utf8') });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await publisher?.endAsync();
    await writer?.close();
    await stack?.dispose();
  });

  it('fires at 10:15, resolves at 10:40, and every sink sees both', async () => {
    const clock = { now: 0 };
    const config = parseAlertConfig({
      webhooks: [{ name: 'drift', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, secret: SECRET }],
    });
    const service = new AlertService({
      torg: TORG,
      config,
      clock: () => clock.now,
      metrics: createAlertMetrics(new Registry()),
      logger: pino({ level: 'silent' }),
      mqtt: publisher,
      writer,
    });

    const rise = oslo('2026-11-23T10:00');
    const drop = oslo('2026-11-23T10:40');
    const facts = (t: number): AlertFacts => ({
      zones: [{ id: 'mote-1', occupied: true, count: 4, co2: t >= rise && t < drop ? 1180 : 700, fireMax: 12 }],
      doors: [],
      devices: [],
    });
    const emitted: AlertEvent[] = [];
    let retainedAfterFiring: AlertEvent[] = [];
    for (let t = oslo('2026-11-23T09:55'); t <= oslo('2026-11-23T10:45'); t += MIN) {
      clock.now = t;
      emitted.push(...service.evaluate('nordby', facts(t)));
      if (t === oslo('2026-11-23T10:20')) {
        await service.drain();
        retainedAfterFiring = await retained(stack.mqtt.url);
        expect(service.activeAlerts('nordby').map((a) => a.state)).toEqual(['firing']);
      }
    }
    await service.drain();

    expect(emitted.map((e) => [e.state, e.at])).toEqual([
      ['firing', oslo('2026-11-23T10:15')],
      ['resolved', drop],
    ]);
    const id = emitted[0]!.id;
    expect(retainedAfterFiring.map((e) => [e.id, e.state])).toEqual([[id, 'firing']]);
    expect(await retained(stack.mqtt.url)).toEqual([]);
    expect(service.activeAlerts()).toEqual([]);

    expect(hooks.map((h) => (JSON.parse(h.body) as AlertEvent).state)).toEqual(['firing', 'resolved']);
    for (const h of hooks) {
      const t = Number(/^t=(\d+),/.exec(h.signature)?.[1]);
      expect(h.signature).toBe(`t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${h.body}`).digest('hex')}`);
    }
    // Signed with the injected clock: 10:15 and 10:40 Oslo in whole seconds.
    expect(hooks.map((h) => h.signature.slice(0, 12))).toEqual([`t=${oslo('2026-11-23T10:15') / 1000}`, `t=${drop / 1000}`]);

    const rows = await stack.influx.select(`SELECT "state", "value", "sinceMs" FROM "${RP_AGGREGATES}"."alert" WHERE "id" = '${id}' ORDER BY time`);
    expect(rows).toEqual([
      { time: oslo('2026-11-23T10:15'), state: 'firing', value: 1180, sinceMs: rise },
      { time: drop, state: 'resolved', value: 700, sinceMs: rise },
    ]);
    await service.close();
  });
});

/** The retained alerts a new subscriber receives (all arrive before its own marker; see mqtt-alert-sink.test.ts). */
async function retained(url: string): Promise<AlertEvent[]> {
  const marker = 'itorg/v1/nordby/alerts/zz-marker';
  const client = await mqtt.connectAsync(url, { clientId: `probe-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  const seen: AlertEvent[] = [];
  const done = new Promise<void>((resolve) =>
    client.on('message', (topic, payload) => {
      if (topic === marker) resolve();
      else if (payload.length > 0) seen.push(alertEventSchema.parse(JSON.parse(payload.toString('utf8'))));
    }),
  );
  await client.subscribeAsync(filters.allAlerts, { qos: 1 });
  await client.publishAsync(marker, 'x', { qos: 1 });
  await done;
  await client.endAsync();
  return seen;
}

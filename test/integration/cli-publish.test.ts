/**
 * `innbyggertorg publish` and `innbyggertorg simulate --backfill-days` against a real Mosquitto:
 * a subscriber collects what arrives and checks it against the contract.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filters, parseReadingsTopic } from '../../devices/contract/mqtt-topics.ts';
import { validateEnvelope } from '../../devices/contract/validate.ts';
import { startMosquitto, type MosquittoHandle } from '../support/services.ts';
import { runCli } from '../support/cli.ts';


const cli = runCli;

interface Received {
  topic: string;
  json: { torg: string; gateway: string; seq: number; readings: unknown[] };
}

describe('innbyggertorg publish / simulate (real Mosquitto)', () => {
  let broker: MosquittoHandle;
  let sub: MqttClient;
  let received: Received[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    sub = await mqtt.connectAsync(broker.url, { clientId: 'test-sub' });
    sub.on('message', (topic, payload) => received.push({ topic, json: JSON.parse(payload.toString()) as Received['json'] }));
    await sub.subscribeAsync(filters.allReadings, { qos: 1 });
  });
  afterAll(async () => {
    await sub?.endAsync();
    await broker?.dispose();
  });

  it('publish validates each line locally, publishes the good ones in envelopes of --batch', async () => {
    received = [];
    const now = Date.now();
    const at = (minAgo: number) => new Date(now - minAgo * 60_000).toISOString();
    const lines = [
      JSON.stringify({ kind: 'presence', device: '24e1240000000002', time: at(5), occupied: true, count: 3 }),
      JSON.stringify({ kind: 'climate', device: '24e1240000000004', time: at(5), co2: 640 }),
      '{not json',
      JSON.stringify({ kind: 'climate', device: '24e1240000000004', time: at(4), co2: 99999 }),
      '',
      JSON.stringify({ kind: 'door', device: '24e1240000000003', time: at(3), open: false }),
      JSON.stringify({ kind: 'presence', device: '24e1240000000002', time: at(60 * 24 * 40), occupied: false }),
      JSON.stringify({ kind: 'counter', device: '24e1240000000001', time: at(2), periodIn: 1, periodOut: 0, periodSeconds: 60 }),
    ].join('\n');
    const r = await cli(['publish', '--torg', 'tofte', '--gateway', 'gw-tofte', '--mqtt-url', broker.url, '--batch', '2'], lines);
    expect(r.code).toBe(2);
    // Bad lines by line number (line 5 is empty and skipped, not counted).
    expect([...r.stderr.matchAll(/line (\d+): (E_[A-Z_]+)/g)].map((m) => `${m[1]}:${m[2]}`)).toEqual([
      '3:E_PAYLOAD_NOT_JSON',
      '4:E_READING_OUT_OF_RANGE',
      '7:E_READING_TIME_TOO_OLD',
    ]);
    expect(r.stdout).toContain('Published: 4 readings in 2 envelopes, 3 lines rejected');
    // QoS 1 to the broker has been acknowledged before the CLI exits; the subscriber gets it shortly.
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(2);
    expect(received.map((m) => parseReadingsTopic(m.topic))).toEqual([
      { torg: 'tofte', gateway: 'gw-tofte' },
      { torg: 'tofte', gateway: 'gw-tofte' },
    ]);
    expect(received[1]!.json.seq).toBe(received[0]!.json.seq + 1);
    const devices = received.flatMap((m) => m.json.readings.map((x) => (x as { device: string }).device));
    expect(devices).toEqual(['24e1240000000002', '24e1240000000004', '24e1240000000003', '24e1240000000001']);
  });

  it('simulate --backfill-days publishes contract-valid envelopes with increasing seq', async () => {
    received = [];
    // 0.025 days = 36 min → 36 steps of 60 s for one torg (Spikkestad: 1 counter with 1 line,
    // 1 door, 4 zones with presence + climate = 9 readings per step at least, plus door changes
    // and hourly health readings).
    const r = await cli(['simulate', '--mqtt-url', broker.url, '--backfill-days', '0.025', '--torg', 'spikkestad', '--batch', '50', '--seed', '3']);
    expect(r.stderr).not.toMatch(/"level":50/);
    expect(r.code).toBe(0);
    await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const now = Date.now();
    let readings = 0;
    let counters = 0;
    for (const m of received) {
      const v = validateEnvelope(m.json, { now, maxAgeMs: 30 * 86_400_000 }, parseReadingsTopic(m.topic)!);
      expect(v.ok).toBe(true);
      if (v.ok) {
        expect(v.rejected).toEqual([]);
        readings += v.readings.length;
        counters += v.readings.filter((x) => x.kind === 'counter').length;
      }
    }
    expect(counters).toBe(36);
    expect(readings).toBeGreaterThanOrEqual(36 * 9);
    const seqs = received.map((m) => m.json.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

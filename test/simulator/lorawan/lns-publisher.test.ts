/**
 * Integration: simulator → LnsPublisher → real Mosquitto → ChirpStack parser → device model
 * decoder. What comes out must be what the simulator produced, less exactly what the vendor
 * formats cannot carry (listed below, and counted by the publisher).
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingInput } from '../../../devices/contract/reading.schema.ts';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { findModel } from '../../../devices/models/index.ts';
import { createVs133 } from '../../../devices/models/milesight/vs133.ts';
import { parseChirpstackMqtt } from '../../../devices/sources/chirpstack-v4.ts';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { LnsPublisher, deviceModelMap, vs133Lines } from '../../../simulator/lorawan/lns-publisher.ts';
import { TorgSimulator } from '../../../simulator/model.ts';
import type { SimDevice } from '../../../simulator/model.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';

let broker: MosquittoHandle;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.dispose();
});

type Row = Record<string, unknown>;

function key(r: Row): string {
  return `${String(r['device'])}|${String(r['time'])}|${String(r['kind'])}|${String(r['line'] ?? '')}`;
}

/**
 * Resolution of each non-integer field in the Milesight formats: temperature int16/10 °C,
 * humidity uint8/2 %RH, pressure uint16/10 hPa, battery uint8 %. Values must agree within half of it.
 */
const RESOLUTION: Record<string, number> = { temperature: 0.1, humidity: 0.5, pressure: 0.1, battery: 1 };

function expectSameValues(actual: Row, expected: Row): void {
  expect(Object.keys(actual).sort(), key(expected)).toEqual(Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) {
    const res = RESOLUTION[k];
    if (typeof v === 'number' && res !== undefined) {
      expect(Math.abs((actual[k] as number) - v), `${key(expected)} ${k}`).toBeLessThanOrEqual(res / 2 + 1e-9);
    } else {
      expect(actual[k], `${key(expected)} ${k}`).toEqual(v);
    }
  }
}

describe('LNS publisher against a real broker', () => {
  it('one simulated hour of two torg arrives as ChirpStack events that decode to the simulator readings', async () => {
    const config = loadTorgConfig(new URL('../../../config/torg.asker.sample.json', import.meta.url).pathname);
    const torgs = config.torg.filter((t) => t.id === 'asker-sentrum' || t.id === 'heggedal');
    expect(torgs).toHaveLength(2);
    // Thursday 26 Nov 2026, 10:00–11:00 in Oslo (UTC+1): staffed hours, so people, doors and counts.
    const startMs = Date.UTC(2026, 10, 26, 9, 0);
    const stepSeconds = 60;
    const sims = torgs.map((t) => new TorgSimulator(t, { seed: 7, startMs, stepSeconds }));
    const devices = new Map<string, SimDevice>(sims.flatMap((s) => s.devices.map((d) => [d.id, d] as const)));

    const sub = await mqtt.connectAsync(broker.url, { clientId: 'lns-test-sub', clean: true });
    const received: { topic: string; payload: Buffer }[] = [];
    sub.on('message', (topic, payload) => received.push({ topic, payload }));
    await sub.subscribeAsync('application/+/device/+/event/up', { qos: 1 });

    const pub = await mqtt.connectAsync(broker.url, { clientId: 'lns-test-pub', clean: true });
    const publisher = new LnsPublisher({ client: pub, maxInFlight: 8, seed: 7, stepSeconds });
    for (const s of sims) publisher.addTorg(s.torg, s.devices);
    const produced: ReadingInput[] = [];
    for (let i = 0; i < 60; i++) {
      for (const s of sims) {
        const step = s.step();
        produced.push(...step.readings);
        await publisher.publishStep(step);
      }
    }
    await publisher.drain();
    await pub.endAsync();

    // One uplink per device per distinct reading time.
    const groups = new Set(produced.map((r) => `${r.device}|${r.time}`));
    expect(publisher.stats.unencodable).toEqual({});
    expect(publisher.stats.failedUplinks).toBe(0);
    expect(publisher.stats.uplinks).toBe(groups.size);
    for (let waited = 0; received.length < groups.size && waited < 200; waited++) await new Promise((r) => setTimeout(r, 50));
    await sub.endAsync();
    expect(received).toHaveLength(groups.size);

    // Expected: the simulator's readings as the formats carry them. Counter lines keep their names
    // (the sample config names them line-1.. as a VS133 reports them); WS301 has no openings
    // counter; AM319 TVOC and lux have no contract mapping; rssi/snr are radio metadata (compared
    // separately below).
    const expected = new Map<string, Row>();
    const radioExpected = new Map<string, { rssi?: number; snr?: number }>();
    const counts = { openings: 0, tvoc: 0, illuminance: 0 };
    for (const r of produced) {
      const d = devices.get(r.device)!;
      if (r.kind === 'counter') {
        expect(d.lines).toContain(r.line);
        expected.set(key(r), { ...r });
      } else if (r.kind === 'door') {
        const { openings, ...rest } = r;
        if (openings !== undefined) counts.openings++;
        expected.set(key(rest), rest);
      } else if (r.kind === 'climate') {
        const { tvoc, illuminance, ...rest } = r;
        if (tvoc !== undefined) counts.tvoc++;
        if (illuminance !== undefined) counts.illuminance++;
        expected.set(key(rest), rest);
      } else if (r.kind === 'health') {
        const { rssi, snr, battery, ...rest } = r;
        radioExpected.set(`${r.device}|${r.time}`, { rssi, snr });
        if (battery !== undefined) expected.set(key({ ...rest, battery }), { ...rest, battery });
      } else {
        expected.set(key(r), { ...r });
      }
    }
    expect(counts.openings).toBeGreaterThan(0);
    expect(publisher.stats.droppedFields).toEqual({ 'door.openings': counts.openings, 'climate.tvoc': counts.tvoc, 'climate.illuminance': counts.illuminance });

    const decoded = new Map<string, Row>();
    const seenTorg = new Set<string>();
    for (const m of received) {
      const parsed = parseChirpstackMqtt(m.topic, m.payload, { receivedAtMs: startMs + 3_600_000 });
      if (!parsed.ok) throw new Error(`${parsed.code}: ${parsed.detail}`);
      const up = parsed.uplink;
      const tags = up.tags ?? {};
      expect(tags['model']).toBe(devices.get(up.devEui)?.model);
      expect(m.topic.startsWith(`application/${tags['torg']}/device/${up.devEui}/`)).toBe(true);
      seenTorg.add(tags['torg'] ?? '');
      const model =
        tags['model'] === 'milesight-vs133' ? createVs133({ reportIntervalSeconds: Number(tags['reportIntervalSeconds']) }) : findModel(tags['model'] ?? '');
      if (!model) throw new Error(`no model ${tags['model']}`);
      for (const r of model.decode(up.fPort, up.bytes, { device: up.devEui, time: up.time })) {
        expect(readingSchema.safeParse(r).success).toBe(true);
        const k = key(r);
        expect(decoded.has(k), `duplicate ${k}`).toBe(false);
        decoded.set(k, { ...r });
      }
      const radio = radioExpected.get(`${up.devEui}|${up.time}`);
      // `+ 0` turns the simulator's −0 dB into 0: proto3 JSON omits a zero snr and the parser reads 0.
      if (radio) expect({ rssi: up.rssi, snr: up.snr }).toEqual({ rssi: radio.rssi, snr: radio.snr === undefined ? undefined : radio.snr + 0 });
      // Plausible indoor radio for every uplink.
      expect(up.rssi).toBeGreaterThanOrEqual(-120);
      expect(up.rssi).toBeLessThanOrEqual(-60);
    }
    expect(seenTorg).toEqual(new Set(['asker-sentrum', 'heggedal']));
    expect([...decoded.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [k, e] of expected) expectSameValues(decoded.get(k)!, e);
    // The gateway's DevEUI → model map covers every device that sent something.
    const map = deviceModelMap([...devices.values()]);
    for (const m of received) {
      const parsed = parseChirpstackMqtt(m.topic, m.payload, { receivedAtMs: 0 });
      expect(parsed.ok && map[parsed.uplink.devEui] === parsed.uplink.tags?.['model']).toBe(true);
    }
  });
});

describe('vs133Lines: torg line names → the VS133 line that reports them', () => {
  const counter = (lines: string[]): SimDevice => ({ id: '24e1240000000000', torg: 't', role: 'counter', model: 'milesight-vs133', power: 'mains', lines });

  it('a line named as the VS133 reports it (line-1..line-4) stays that line, whatever its position', () => {
    // README, torg model: "An entrance's lines are named as its counter reports them", and that
    // name is the InfluxDB line tag; an entrance counting only on line 2 must not become line-1.
    expect([...vs133Lines(counter(['line-2']))]).toEqual([['line-2', 'line-2']]);
    expect([...vs133Lines(counter(['line-3', 'line-1']))]).toEqual([
      ['line-3', 'line-3'],
      ['line-1', 'line-1'],
    ]);
  });

  it('other names take the lowest VS133 line no configured name claims', () => {
    expect([...vs133Lines(counter(['main']))]).toEqual([['main', 'line-1']]);
    expect([...vs133Lines(counter(['main', 'line-1', 'side']))]).toEqual([
      ['main', 'line-2'],
      ['line-1', 'line-1'],
      ['side', 'line-3'],
    ]);
  });
});

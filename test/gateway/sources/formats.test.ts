/**
 * The chirpstack-v4 parser end to end in memory: event JSON → uplink → decoder picked from the
 * config or the LNS tags → readings. The event is the fixture ChirpStack event with the VS13x README
 * payload (line 4: 5 in, 7 out) and the tags an installer (or simulator/lorawan) sets.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMqttParser } from '../../../gateway/sources/formats.ts';
import { LorawanModelResolver } from '../../../gateway/sources/model-resolver.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/chirpstack-v4-up-ws301.json', import.meta.url), 'utf8')) as {
  envelope: { deviceInfo: Record<string, unknown> } & Record<string, unknown>;
};
const DEV = '24e124538b223213';
const VS13X_PERIODS_B64 = Buffer.from('05cc0000000008cc000000000bcc000000000ecc05000700', 'hex').toString('base64');

function event(tags: Record<string, string> | undefined, devEui = DEV): Buffer {
  const deviceInfo = { ...fixture.envelope.deviceInfo, devEui, ...(tags ? { tags } : {}) };
  return Buffer.from(JSON.stringify({ ...fixture.envelope, time: '2026-11-24T09:15:00.123456789Z', deviceInfo, data: VS13X_PERIODS_B64 }));
}
const topic = (devEui = DEV) => `application/heggedal/device/${devEui}/event/up`;
const receivedAtMs = Date.parse('2026-11-24T09:15:01.000Z');

describe('chirpstack-v4 format', () => {
  it('decodes a VS133 uplink with the interval from the LNS tag (60 s) and adds the radio health', () => {
    const parse = createMqttParser('chirpstack-v4', { models: new LorawanModelResolver({}) });
    const out = parse(topic(), event({ model: 'milesight-vs133', reportIntervalSeconds: '60', torg: 'heggedal' }), receivedAtMs);
    if (!out.ok) throw new Error(out.detail);
    expect(out.readings).toEqual([
      expect.objectContaining({ kind: 'counter', device: DEV, line: 'line-1', periodIn: 0, periodOut: 0, periodSeconds: 60 }),
      expect.objectContaining({ kind: 'counter', device: DEV, line: 'line-2', periodIn: 0, periodOut: 0, periodSeconds: 60 }),
      expect.objectContaining({ kind: 'counter', device: DEV, line: 'line-3', periodIn: 0, periodOut: 0, periodSeconds: 60 }),
      expect.objectContaining({ kind: 'counter', device: DEV, line: 'line-4', periodIn: 5, periodOut: 7, periodSeconds: 60, time: '2026-11-24T09:15:00.123Z' }),
      // rxInfo of the fixture: rssi -74, snr 9.8.
      expect.objectContaining({ kind: 'health', device: DEV, rssi: -74, snr: 9.8 }),
    ]);
  });

  it('takes model and interval from the gateway config when the LNS has no tags', () => {
    const parse = createMqttParser('chirpstack-v4', { models: new LorawanModelResolver({ [DEV]: { model: 'milesight-vs133', reportIntervalSeconds: 300 } }) });
    const out = parse(topic(), event(undefined), receivedAtMs);
    if (!out.ok) throw new Error(out.detail);
    expect(out.readings.filter((r) => (r as { kind: string }).kind === 'counter').map((r) => (r as { periodSeconds: number }).periodSeconds)).toEqual([300, 300, 300, 300]);
  });

  it('an uplink without a resolvable model is E_DECODE_UNKNOWN_DEVICE, not an exception', () => {
    const parse = createMqttParser('chirpstack-v4', { models: new LorawanModelResolver({}) });
    expect(parse(topic('0011223344556677'), event({ torg: 'heggedal' }, '0011223344556677'), receivedAtMs)).toMatchObject({
      ok: false,
      code: 'E_DECODE_UNKNOWN_DEVICE',
    });
  });
});

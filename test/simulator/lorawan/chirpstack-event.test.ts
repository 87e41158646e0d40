import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseChirpstackMqtt } from '../../../devices/sources/chirpstack-v4.ts';
import { buildChirpstackUpEvent, chirpstackTime } from '../../../simulator/lorawan/chirpstack-event.ts';
import type { UplinkEventInput } from '../../../simulator/lorawan/chirpstack-event.ts';

const real = JSON.parse(readFileSync(new URL('./fixtures/chirpstack-v4-up.json', import.meta.url), 'utf8')) as {
  event: Record<string, unknown> & { deviceInfo: Record<string, unknown>; rxInfo: Record<string, unknown>[]; txInfo: Record<string, unknown> };
};

const input: UplinkEventInput = {
  deduplicationId: '3f1c2b4a-5d6e-4f70-8192-a3b4c5d6e7f8',
  timeMs: Date.UTC(2026, 10, 24, 9, 15, 0, 123),
  subMsNanos: 456_789,
  tenant: { id: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242', name: 'Asker kommune' },
  application: { id: 'heggedal', name: 'Heggedal innbyggertorg' },
  deviceProfile: { id: '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d', name: 'milesight-ws301' },
  deviceName: 'door-hovedinngang',
  devEui: '24e124136b000042',
  tags: { model: 'milesight-ws301', torg: 'heggedal' },
  devAddr: '01a2b3c4',
  adr: true,
  dr: 5,
  fCnt: 17,
  fPort: 85,
  confirmed: true,
  bytes: Uint8Array.from([0x03, 0x00, 0x01]),
  frequency: 868_300_000,
  rx: [{ gatewayId: '0016c001ff10a235', uplinkId: 48_315, rssi: -93, snr: 6.5, channel: 1, rfChain: 1, context: Uint8Array.from([1, 2, 3, 4]), location: { latitude: 59.76, longitude: 10.43 } }],
};

describe('ChirpStack v4 uplink event', () => {
  it('has every field of the real ChirpStack sample, at every level', () => {
    const { event } = buildChirpstackUpEvent(input);
    const ev = event as typeof real.event;
    for (const key of Object.keys(real.event)) expect(ev, key).toHaveProperty(key);
    for (const key of Object.keys(real.event.deviceInfo)) expect(ev.deviceInfo, key).toHaveProperty(key);
    for (const key of Object.keys(real.event.rxInfo[0] ?? {})) expect(ev.rxInfo[0], key).toHaveProperty(key);
    expect(ev.txInfo).toEqual({ frequency: 868_300_000, modulation: { lora: { bandwidth: 125_000, spreadingFactor: 7, codeRate: 'CR_4_5' } } });
  });

  it('time carries nanoseconds; topic, data and tags are as ChirpStack sends them', () => {
    const { topic, event } = buildChirpstackUpEvent(input);
    expect(topic).toBe('application/heggedal/device/24e124136b000042/event/up');
    expect(event['time']).toBe('2026-11-24T09:15:00.123456789Z');
    expect(event['data']).toBe('AwAB'); // 03 00 01 in base64 (RFC 4648 §4)
    expect(event['deviceInfo']).toMatchObject({ tags: { model: 'milesight-ws301', torg: 'heggedal' }, devEui: '24e124136b000042' });
    expect(chirpstackTime(Date.UTC(2026, 0, 1), 7)).toBe('2026-01-01T00:00:00.000000007Z');
  });

  it('is parsed by devices/sources/chirpstack-v4.ts to the values put in', () => {
    const { topic, event } = buildChirpstackUpEvent(input);
    const r = parseChirpstackMqtt(topic, JSON.stringify(event), { receivedAtMs: Date.UTC(2026, 10, 24, 9, 15, 1) });
    expect(r).toEqual({
      ok: true,
      uplink: {
        devEui: '24e124136b000042',
        time: '2026-11-24T09:15:00.123Z',
        timeSource: 'network',
        fPort: 85,
        bytes: Uint8Array.from([0x03, 0x00, 0x01]),
        fCnt: 17,
        rssi: -93,
        snr: 6.5,
        deviceName: 'door-hovedinngang',
        tags: { model: 'milesight-ws301', torg: 'heggedal' },
      },
    });
  });

  it('omits proto3 defaults (fCnt 0, confirmed false, snr 0) and the parser reads them back as zero', () => {
    const { topic, event } = buildChirpstackUpEvent({ ...input, fCnt: 0, confirmed: false, rx: [{ ...input.rx[0]!, snr: 0 }] });
    expect(event).not.toHaveProperty('fCnt');
    expect(event).not.toHaveProperty('confirmed');
    expect((event['rxInfo'] as Record<string, unknown>[])[0]).not.toHaveProperty('snr');
    const r = parseChirpstackMqtt(topic, JSON.stringify(event), { receivedAtMs: 0 });
    expect(r).toMatchObject({ ok: true, uplink: { fCnt: 0, snr: 0, rssi: -93 } });
  });

  it('refuses a DevEUI that is not 16 lower-case hex digits', () => {
    expect(() => buildChirpstackUpEvent({ ...input, devEui: '24E124136B000042' })).toThrow();
  });
});

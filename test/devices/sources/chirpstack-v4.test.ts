import { describe, expect, it } from 'vitest';
import { parseChirpstackHttp, parseChirpstackMqtt, parseChirpstackUplink } from '../../../devices/sources/chirpstack-v4.ts';
import { uplinkHealthReading } from '../../../devices/sources/lorawan-uplink.ts';
import { assertContract, fixtureJson, fixtureText } from './fixtures.ts';

const RECEIVED = Date.UTC(2022, 9, 3, 3, 17, 11, 5);
const opts = { receivedAtMs: RECEIVED };
const sample = (): Record<string, unknown> => fixtureJson<Record<string, unknown>>('chirpstack-v4/http-up-event.json');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('ChirpStack v4 up event (cndingtek sample)', () => {
  it('maps the HTTP sample to hand-checked values', () => {
    const r = parseChirpstackHttp('up', fixtureText('chirpstack-v4/http-up-event.json'), opts);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const u = r.uplink;
    expect(u.devEui).toBe('7cf95720fc015fef');
    // time "2022-10-03T03:17:10.427430120+00:00": nanoseconds truncated.
    expect(u.time).toBe('2022-10-03T03:17:10.427Z');
    expect(u.timeSource).toBe('network');
    expect(u.fPort).toBe(10);
    expect(u.fCnt).toBe(2);
    // "gAAVARUAAAAAAW8AAAAAAAAAAQCB" decoded by hand, 4 base64 chars → 3 bytes.
    expect(hex(u.bytes)).toBe('800015011500000000016f00000000000000010081');
    expect(u.rssi).toBe(-74);
    expect(u.snr).toBe(9.8);
    expect(u.deviceName).toBe('7C-F9-57-20-FC-01-5F-EF');
    expect(u.tags).toBeUndefined();
  });

  it('derives a contract-valid health reading from the radio metadata', () => {
    const r = parseChirpstackUplink(sample(), opts);
    if (!r.ok) throw new Error(r.detail);
    const h = uplinkHealthReading(r.uplink, '2022-10-03T03:17:11.005Z');
    expect(h).toEqual({
      kind: 'health',
      device: '7cf95720fc015fef',
      time: '2022-10-03T03:17:10.427Z',
      timeSource: 'network',
      receivedAt: '2022-10-03T03:17:11.005Z',
      rssi: -74,
      snr: 9.8,
    });
    assertContract([h!]);
  });

  it('accepts the MQTT form when the topic DevEUI matches, refuses it when not', () => {
    const body = fixtureText('chirpstack-v4/http-up-event.json');
    const ok = parseChirpstackMqtt('application/1ebdc5b7-d43d-46e0-9a4e-bd50ad2d86d2/device/7cf95720fc015fef/event/up', body, opts);
    expect(ok.ok).toBe(true);
    const wrong = parseChirpstackMqtt('application/x/device/0000000000000001/event/up', body, opts);
    expect(wrong).toMatchObject({ ok: false, code: 'E_SOURCE_TOPIC_MISMATCH' });
    const status = parseChirpstackMqtt('application/x/device/7cf95720fc015fef/event/status', body, opts);
    expect(status).toMatchObject({ ok: false, code: 'E_SOURCE_UNSUPPORTED_EVENT' });
  });

  it('missing time: falls back to the earliest gateway time and flags timeSource gateway', () => {
    const ev = sample();
    delete ev['time'];
    ev['rxInfo'] = [
      { gatewayId: 'a', rssi: -101, snr: -3.5, gwTime: '2022-10-03T03:17:10.431999999Z' },
      { gatewayId: 'b', rssi: -88, snr: 1.25, gwTime: '2022-10-03T03:17:10.429000500Z' },
    ];
    const r = parseChirpstackUplink(ev, opts);
    expect(r).toMatchObject({ ok: true, uplink: { time: '2022-10-03T03:17:10.429Z', timeSource: 'gateway', rssi: -88, snr: 1.25 } });
  });

  it('missing time and no gateway time: uses our receive time', () => {
    const ev = sample();
    delete ev['time'];
    const r = parseChirpstackUplink(ev, opts);
    expect(r).toMatchObject({ ok: true, uplink: { time: '2022-10-03T03:17:11.005Z', timeSource: 'gateway' } });
  });

  it('best RSSI and best SNR are taken across gateways independently', () => {
    const ev = sample();
    ev['rxInfo'] = [
      { rssi: -110, snr: 7 },
      { rssi: -90, snr: -2 },
    ];
    const r = parseChirpstackUplink(ev, opts);
    expect(r).toMatchObject({ ok: true, uplink: { rssi: -90, snr: 7 } });
  });

  it('missing rxInfo: no radio figures, so no health reading', () => {
    const ev = sample();
    delete ev['rxInfo'];
    const r = parseChirpstackUplink(ev, opts);
    if (!r.ok) throw new Error(r.detail);
    expect(r.uplink.rssi).toBeUndefined();
    expect(r.uplink.snr).toBeUndefined();
    expect(uplinkHealthReading(r.uplink)).toBeNull();
  });

  it('missing fPort (proto3 default 0: MAC commands only) is not decodable, with a reason', () => {
    const ev = sample();
    delete ev['fPort'];
    delete ev['data'];
    expect(parseChirpstackUplink(ev, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_NO_PAYLOAD' });
    ev['fPort'] = 0;
    expect(parseChirpstackUplink(ev, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_NO_PAYLOAD' });
    // Data without a port: the port was lost, so the bytes cannot be decoded.
    delete ev['fPort'];
    ev['data'] = 'gAAV';
    expect(parseChirpstackUplink(ev, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_ENVELOPE' });
  });

  it('omitted fCnt and snr are proto3 zeros', () => {
    const ev = sample();
    delete ev['fCnt'];
    ev['rxInfo'] = [{ rssi: -80 }];
    expect(parseChirpstackUplink(ev, opts)).toMatchObject({ ok: true, uplink: { fCnt: 0, rssi: -80, snr: 0 } });
  });

  it('upper-case DevEUI is normalised; tags are carried', () => {
    const ev = sample();
    ev['deviceInfo'] = { devEui: '7CF95720FC015FEF', tags: { rom: 'motesal-1' } };
    expect(parseChirpstackUplink(ev, opts)).toMatchObject({ ok: true, uplink: { devEui: '7cf95720fc015fef', tags: { rom: 'motesal-1' } } });
  });

  it('refuses corrupt base64, a bad DevEUI, non-JSON and a non-up HTTP event', () => {
    const ev = sample();
    ev['data'] = 'gAAV*RUA';
    expect(parseChirpstackUplink(ev, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_ENVELOPE' });
    const bad = sample();
    bad['deviceInfo'] = { devEui: '7cf95720fc015f' };
    expect(parseChirpstackUplink(bad, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_ENVELOPE' });
    expect(parseChirpstackHttp('up', '{"time":', opts)).toMatchObject({ ok: false, code: 'E_SOURCE_NOT_JSON' });
    expect(parseChirpstackHttp('join', '{}', opts)).toMatchObject({ ok: false, code: 'E_SOURCE_UNSUPPORTED_EVENT' });
  });
});

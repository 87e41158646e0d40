import { describe, expect, it } from 'vitest';
import { buildUplink, type LnsUplinkFields } from '../../../devices/sources/lorawan-uplink.ts';

// 2024-05-06T07:08:09.000Z
const opts = { receivedAtMs: Date.UTC(2024, 4, 6, 7, 8, 9) };
const fields = (over: Partial<LnsUplinkFields> = {}): LnsUplinkFields => ({
  devEui: 'a81758fffe0312ab',
  fPort: 5,
  fCnt: 7,
  data: 'AQI=',
  serverTime: undefined,
  gatewayTimes: [],
  rx: [],
  ...over,
});

describe('buildUplink (the step ChirpStack v4 and TTS v3 share)', () => {
  it('takes the server time when there is one, nanoseconds truncated', () => {
    const r = buildUplink(fields({ serverTime: '2024-05-06T07:08:01.123456789Z', gatewayTimes: ['2024-05-06T07:08:00.000Z'] }), opts);
    expect(r).toMatchObject({ ok: true, uplink: { time: '2024-05-06T07:08:01.123Z', timeSource: 'network' } });
  });

  it('without a server time takes the earliest gateway time, skipping gateways that gave none', () => {
    // 07:08:02+01:00 is 06:08:02Z, earlier than 06:08:03Z.
    const r = buildUplink(fields({ gatewayTimes: ['2024-05-06T06:08:03.000Z', undefined, '2024-05-06T07:08:02.500+01:00'] }), opts);
    expect(r).toMatchObject({ ok: true, uplink: { time: '2024-05-06T06:08:02.500Z', timeSource: 'gateway' } });
  });

  it('with no time at all falls back to our own receive time', () => {
    const r = buildUplink(fields({ gatewayTimes: [undefined] }), opts);
    expect(r).toMatchObject({ ok: true, uplink: { time: '2024-05-06T07:08:09.000Z', timeSource: 'gateway' } });
  });

  it('refuses an unset-clock gateway time instead of falling back past it', () => {
    const r = buildUplink(fields({ gatewayTimes: ['1970-01-01T00:00:05Z'] }), opts);
    expect(r).toMatchObject({ ok: false, code: 'E_SOURCE_TIME_IMPLAUSIBLE' });
  });

  it('decodes the payload strictly; absent is empty bytes', () => {
    const ok = buildUplink(fields(), opts);
    if (!ok.ok) throw new Error(ok.detail);
    // "AQI=" is 0x01 0x02.
    expect([...ok.uplink.bytes]).toEqual([1, 2]);
    const absent = buildUplink(fields({ data: undefined }), opts);
    if (!absent.ok) throw new Error(absent.detail);
    expect(absent.uplink.bytes.length).toBe(0);
    expect(buildUplink(fields({ data: 'AQ*=' }), opts)).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_ENVELOPE' });
  });

  it('keeps the best RSSI and SNR, a device name, and tags only when there are any', () => {
    const r = buildUplink(
      fields({ rx: [{ rssi: -100, snr: 7 }, { rssi: -80, snr: -2 }, {}], deviceName: 'dør-1', tags: {} }),
      opts,
    );
    if (!r.ok) throw new Error(r.detail);
    expect(r.uplink).toEqual({
      devEui: 'a81758fffe0312ab',
      time: '2024-05-06T07:08:09.000Z',
      timeSource: 'gateway',
      fPort: 5,
      fCnt: 7,
      bytes: Uint8Array.from([1, 2]),
      rssi: -80,
      snr: 7,
      deviceName: 'dør-1',
    });
  });
});

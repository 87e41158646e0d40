import { describe, expect, it } from 'vitest';
import { parseTtsMqtt, parseTtsTopic, parseTtsUplink, parseTtsWebhook } from '../../../devices/sources/tts-v3.ts';
import { uplinkHealthReading } from '../../../devices/sources/lorawan-uplink.ts';
import { assertContract, fixtureJson, fixtureText } from './fixtures.ts';

type Msg = { uplink_message: Record<string, unknown>; received_at?: string } & Record<string, unknown>;
const sample = (): Msg => fixtureJson<Msg>('tts-v3/uplink-docs-example.json');
const opts = { receivedAtMs: Date.UTC(2020, 1, 12, 15, 15, 47, 0) };

describe('The Things Stack v3 uplink (docs example)', () => {
  it('the example as published has a payload but no f_port: refused, a decoder needs the port', () => {
    expect(parseTtsWebhook(fixtureText('tts-v3/uplink-docs-example.json'), opts)).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_ENVELOPE' });
  });

  it('maps the sample (with an f_port) to hand-checked values', () => {
    const m = sample();
    m.uplink_message['f_port'] = 1;
    const r = parseTtsWebhook(JSON.stringify(m), opts);
    if (!r.ok) throw new Error(r.detail);
    const u = r.uplink;
    expect(u.devEui).toBe('0004a30b001c0530');
    // uplink_message.received_at "2020-02-12T15:15:45.789585559Z" (Network Server), truncated.
    expect(u.time).toBe('2020-02-12T15:15:45.789Z');
    expect(u.timeSource).toBe('network');
    expect(u.fPort).toBe(1);
    expect(u.fCnt).toBe(1);
    expect(Buffer.from(u.bytes).toString('hex')).toBe('8241de');
    expect(u.rssi).toBe(-35);
    expect(u.snr).toBe(5);
    expect(u.deviceName).toBe('dev1');
    expect(u.tags).toEqual({ key1: 'value1', key2: 'value2' });
    const h = uplinkHealthReading(u);
    expect(h).toMatchObject({ kind: 'health', device: '0004a30b001c0530', rssi: -35, snr: 5 });
    assertContract([h!]);
  });

  it('TRAP: f_cnt omitted when 0 is read as 0, not as unknown', () => {
    const m = sample();
    m.uplink_message['f_port'] = 2;
    delete m.uplink_message['f_cnt'];
    expect(parseTtsUplink(m, opts)).toMatchObject({ ok: true, uplink: { fCnt: 0, fPort: 2 } });
  });

  it('TRAP: f_port omitted (0, MAC-only frame, no payload) is not decodable, with a reason', () => {
    const m = sample();
    delete m.uplink_message['frm_payload'];
    expect(parseTtsUplink(m, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_NO_PAYLOAD' });
  });

  it('TRAP: frm_payload omitted with a port is an empty payload; snr omitted is 0 dB', () => {
    const m = sample();
    m.uplink_message['f_port'] = 5;
    delete m.uplink_message['frm_payload'];
    m.uplink_message['rx_metadata'] = [{ gateway_ids: { gateway_id: 'g' }, rssi: -97 }];
    const r = parseTtsUplink(m, opts);
    if (!r.ok) throw new Error(r.detail);
    expect(r.uplink.bytes.length).toBe(0);
    expect(r.uplink.rssi).toBe(-97);
    expect(r.uplink.snr).toBe(0);
  });

  it('falls back to the top-level received_at, then gateway time, then our receive time', () => {
    const m = sample();
    m.uplink_message['f_port'] = 2;
    delete m.uplink_message['received_at'];
    expect(parseTtsUplink(m, opts)).toMatchObject({ ok: true, uplink: { time: '2020-02-12T15:15:46.014Z', timeSource: 'network' } });
    delete m['received_at'];
    expect(parseTtsUplink(m, opts)).toMatchObject({ ok: true, uplink: { time: '2020-02-12T15:15:45.787Z', timeSource: 'gateway' } });
    m.uplink_message['rx_metadata'] = [{ rssi: -40, snr: 2 }];
    expect(parseTtsUplink(m, opts)).toMatchObject({ ok: true, uplink: { time: '2020-02-12T15:15:47.000Z', timeSource: 'gateway' } });
  });

  it('best RSSI/SNR across several gateways', () => {
    const m = sample();
    m.uplink_message['f_port'] = 2;
    m.uplink_message['rx_metadata'] = [
      { rssi: -120, snr: -7.5 },
      { rssi: -105, snr: -9 },
      { rssi: -111, snr: 3.25 },
    ];
    expect(parseTtsUplink(m, opts)).toMatchObject({ ok: true, uplink: { rssi: -105, snr: 3.25 } });
  });

  it('MQTT: topic must name the same application and device; non-up types are refused', () => {
    const m = sample();
    m.uplink_message['f_port'] = 2;
    const body = JSON.stringify(m);
    expect(parseTtsMqtt('v3/app1@tenant1/devices/dev1/up', body, opts)).toMatchObject({ ok: true, uplink: { devEui: '0004a30b001c0530' } });
    expect(parseTtsMqtt('v3/app1@tenant1/devices/dev2/up', body, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_TOPIC_MISMATCH' });
    expect(parseTtsMqtt('v3/app1@tenant1/devices/dev1/join', body, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_UNSUPPORTED_EVENT' });
    expect(parseTtsMqtt('v3/app1/devices/dev1', body, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_ENVELOPE' });
  });

  it('MQTT: The Things Stack Open Source topics carry no @tenant and are accepted', () => {
    // "For The Things Stack Open Source deployment these endpoints do not include the tenant ID"
    // (thethingsindustries.com/docs/integrations/other-integrations/mqtt/, "Note on Using the Tenant ID").
    const m = sample();
    m.uplink_message['f_port'] = 2;
    const body = JSON.stringify(m);
    expect(parseTtsMqtt('v3/app1/devices/dev1/up', body, opts)).toMatchObject({ ok: true, uplink: { devEui: '0004a30b001c0530', fPort: 2 } });
    expect(parseTtsMqtt('v3/app2/devices/dev1/up', body, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_TOPIC_MISMATCH' });
    expect(parseTtsTopic('v3/app1/devices/dev1/up')).toEqual({ applicationId: 'app1', deviceId: 'dev1', type: 'up' });
    expect(parseTtsTopic('v3/app1@ttn/devices/dev1/up')).toEqual({ applicationId: 'app1', tenantId: 'ttn', deviceId: 'dev1', type: 'up' });
  });

  it('a device without dev_eui cannot be mapped', () => {
    const m = sample();
    m.uplink_message['f_port'] = 2;
    delete (m['end_device_ids'] as Record<string, unknown>)['dev_eui'];
    expect(parseTtsUplink(m, opts)).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_ENVELOPE' });
  });
});

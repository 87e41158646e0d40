import { beforeEach, describe, expect, it } from 'vitest';
import { parseZigbeeBoolean, Zigbee2mqttSource } from '../../../devices/sources/zigbee2mqtt.ts';
import { assertContract, fixtureJson, fixtureText } from './fixtures.ts';

type Msg = { topic: string; payload: Record<string, unknown> };
const msgs = fixtureJson<Record<string, Msg>>('zigbee2mqtt/state-messages.json');
const msg = (name: string): Msg => {
  const m = msgs[name];
  if (m === undefined) throw new Error(`no fixture message ${name}`);
  return m;
};
const RECEIVED = Date.UTC(2026, 10, 24, 8, 15, 3, 250);
const RECEIVED_ISO = '2026-11-24T08:15:03.250Z';

describe('zigbee2mqtt source', () => {
  let z: Zigbee2mqttSource;
  beforeEach(() => {
    z = new Zigbee2mqttSource();
    const r = z.handleMessage('zigbee2mqtt/bridge/devices', fixtureText('zigbee2mqtt/bridge-devices.json'), RECEIVED);
    // Four entries, the coordinator skipped.
    expect(r).toMatchObject({ ok: true, kind: 'devices', devices: 3 });
  });

  const handle = (name: string, receivedAt = RECEIVED) => {
    const m = msg(name);
    return z.handleMessage(m.topic, JSON.stringify(m.payload), receivedAt);
  };

  it('TRAP: contact true means CLOSED, so open is false; linkquality and voltage give no reading', () => {
    const r = handle('door_closed');
    if (!r.ok || r.kind !== 'readings') throw new Error(JSON.stringify(r));
    expect(r.device).toBe('0x00158d0001a2b3c4');
    expect(r.readings).toEqual([
      { kind: 'door', device: '0x00158d0001a2b3c4', time: RECEIVED_ISO, timeSource: 'gateway', receivedAt: RECEIVED_ISO, open: false },
      { kind: 'health', device: '0x00158d0001a2b3c4', time: RECEIVED_ISO, timeSource: 'gateway', receivedAt: RECEIVED_ISO, battery: 91 },
    ]);
    // linkquality 102 is an LQI, not dBm: no rssi anywhere.
    expect(r.readings.some((x) => 'rssi' in x)).toBe(false);
    assertContract(r.readings);
  });

  it('contact false is open; last_seen with +01:00 becomes UTC network time', () => {
    const r = handle('door_open_last_seen');
    if (!r.ok || r.kind !== 'readings') throw new Error(JSON.stringify(r));
    expect(r.readings[0]).toEqual({
      kind: 'door',
      device: '0x00158d0001a2b3c4',
      time: '2026-11-24T08:15:02.417Z',
      timeSource: 'network',
      receivedAt: RECEIVED_ISO,
      open: true,
    });
  });

  it('occupancy maps to presence; climate fields join in one reading', () => {
    const p = handle('pir_occupied');
    if (!p.ok || p.kind !== 'readings') throw new Error(JSON.stringify(p));
    expect(p.readings.map((x) => x.kind)).toEqual(['presence', 'health']);
    expect(p.readings[0]).toMatchObject({ kind: 'presence', device: '0x00158d0002c3d4e5', occupied: true });
    expect(p.readings[1]).toMatchObject({ battery: 100 });
    const w = handle('weather');
    if (!w.ok || w.kind !== 'readings') throw new Error(JSON.stringify(w));
    expect(w.readings[0]).toEqual({
      kind: 'climate',
      device: '0x00158d0003e4f5a6',
      time: RECEIVED_ISO,
      timeSource: 'gateway',
      receivedAt: RECEIVED_ISO,
      temperature: 27.34,
      humidity: 44.72,
      pressure: 1003.4,
    });
    expect(w.readings[1]).toMatchObject({ kind: 'health', battery: 97 });
    assertContract([...p.readings, ...w.readings]);
  });

  it('TRAP: string booleans are converted explicitly ("OFF" → false, "false" contact → open)', () => {
    const p = handle('string_booleans');
    expect(p).toMatchObject({ ok: true, kind: 'readings', readings: [{ kind: 'presence', occupied: false }], issues: [] });
    const d = handle('string_booleans_door');
    expect(d).toMatchObject({ ok: true, kind: 'readings', readings: [{ kind: 'door', open: true }], issues: [] });
    expect(parseZigbeeBoolean('ON')).toBe(true);
    expect(parseZigbeeBoolean(' True ')).toBe(true);
    expect(parseZigbeeBoolean('off')).toBe(false);
    expect(parseZigbeeBoolean('yes')).toBeUndefined();
    expect(parseZigbeeBoolean(1)).toBeUndefined();
  });

  it('an uninterpretable value costs only its field and is reported', () => {
    const r = z.handleMessage('zigbee2mqtt/heggedal/motedor', JSON.stringify({ contact: 'maybe', battery: '91' , temperature: 21.5 }), RECEIVED);
    if (!r.ok || r.kind !== 'readings') throw new Error(JSON.stringify(r));
    expect(r.readings).toEqual([expect.objectContaining({ kind: 'climate', temperature: 21.5 })]);
    expect(r.issues.map((i) => [i.field, i.code])).toEqual([
      ['contact', 'E_SOURCE_BAD_VALUE'],
      ['battery', 'E_SOURCE_BAD_VALUE'],
    ]);
  });

  it('TRAP: an unknown friendly name is an error code, not a crash', () => {
    expect(z.handleMessage('zigbee2mqtt/kitchen/lamp', '{"state":"ON"}', RECEIVED)).toMatchObject({ ok: false, code: 'E_SOURCE_UNKNOWN_DEVICE' });
  });

  it('follows a rename from a new bridge/devices message', () => {
    const devices = fixtureJson<{ friendly_name: string }[]>('zigbee2mqtt/bridge-devices.json');
    devices[1]!.friendly_name = 'heggedal/hovedinngang';
    expect(z.handleMessage('zigbee2mqtt/bridge/devices', JSON.stringify(devices), RECEIVED)).toMatchObject({ ok: true, devices: 3 });
    expect(z.ieeeFor('heggedal/hovedinngang')).toBe('0x00158d0001a2b3c4');
    expect(z.handleMessage('zigbee2mqtt/heggedal/motedor', '{"contact":true}', RECEIVED)).toMatchObject({ ok: false, code: 'E_SOURCE_UNKNOWN_DEVICE' });
    expect(z.handleMessage('zigbee2mqtt/heggedal/hovedinngang', '{"contact":true}', RECEIVED)).toMatchObject({
      ok: true,
      readings: [{ kind: 'door', device: '0x00158d0001a2b3c4', open: false }],
    });
  });

  it('ignores availability/set topics and other bridge messages; refuses bad JSON and a bad device list', () => {
    expect(z.handleMessage('zigbee2mqtt/heggedal/motedor/availability', '{"state":"online"}', RECEIVED)).toMatchObject({ ok: true, kind: 'ignored' });
    expect(z.handleMessage('zigbee2mqtt/bridge/state', '{"state":"online"}', RECEIVED)).toMatchObject({ ok: true, kind: 'ignored' });
    expect(z.handleMessage('zigbee2mqtt/heggedal/motedor', '{contact:true}', RECEIVED)).toMatchObject({ ok: false, code: 'E_SOURCE_NOT_JSON' });
    expect(z.handleMessage('zigbee2mqtt/bridge/devices', '[{"ieee_address":"0x12","friendly_name":"x"}]', RECEIVED)).toMatchObject({
      ok: false,
      code: 'E_SOURCE_BAD_ENVELOPE',
    });
    // A refused list leaves the previous map in place.
    expect(z.ieeeFor('heggedal/motedor')).toBe('0x00158d0001a2b3c4');
  });

  it('last_seen at 1970 is reported and the receive time is used instead', () => {
    const r = z.handleMessage('zigbee2mqtt/heggedal/motedor', JSON.stringify({ contact: false, last_seen: 0 }), RECEIVED);
    if (!r.ok || r.kind !== 'readings') throw new Error(JSON.stringify(r));
    expect(r.readings[0]).toMatchObject({ time: RECEIVED_ISO, timeSource: 'gateway', open: true });
    expect(r.issues).toEqual([expect.objectContaining({ field: 'last_seen', code: 'E_SOURCE_TIME_IMPLAUSIBLE' })]);
  });
});

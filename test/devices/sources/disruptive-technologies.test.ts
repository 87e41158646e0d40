import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../../devices/contract/errors.ts';
import { createDtWebhookReceiver, dtDeviceId, dtEventToReadings, parseDtBoolean, verifyDtSignature } from '../../../devices/sources/disruptive-technologies.ts';
import { assertContract, fixtureJson } from './fixtures.ts';

interface WebhookSample {
  headers: Record<string, string>;
  body_str_exact_bytes_signed: string;
}
const webhook = fixtureJson<WebhookSample>('disruptive-technologies/dataconnector-webhook-temperature.json');
// Token: iat 1716978843 (2024-05-29T10:34:03Z), exp 1716982443 (2024-05-29T11:34:03Z).
const BEFORE_EXP = Date.UTC(2024, 4, 29, 11, 0, 0);
const AFTER_EXP = Date.UTC(2024, 4, 29, 11, 34, 4);
const RECEIVED = Date.UTC(2026, 10, 24, 9, 0, 0);
const RECEIVED_ISO = '2026-11-24T09:00:00.000Z';

describe('DT Data Connector signature (real signed request, secret "test-secret")', () => {
  const receiver = createDtWebhookReceiver({ secret: 'test-secret' });

  it('accepts the genuine request before exp and maps its temperature sample', async () => {
    const r = await receiver.handle({ headers: webhook.headers, body: webhook.body_str_exact_bytes_signed, nowMs: BEFORE_EXP });
    expect(r).toEqual({
      ok: true,
      device: 'emucdd6ef2eu277bo8f52vg',
      issues: [],
      readings: [
        {
          kind: 'climate',
          device: 'emucdd6ef2eu277bo8f52vg',
          time: '2024-05-29T10:34:03.970Z',
          timeSource: 'sensor',
          receivedAt: new Date(BEFORE_EXP).toISOString(),
          temperature: 27,
        },
      ],
    });
    if (r.ok) assertContract(r.readings);
  });

  it('accepts the body as bytes and the header in lower case', async () => {
    const r = await receiver.handle({
      headers: { 'x-dt-signature': webhook.headers['X-Dt-Signature']! },
      body: new TextEncoder().encode(webhook.body_str_exact_bytes_signed),
      nowMs: BEFORE_EXP,
    });
    expect(r.ok).toBe(true);
  });

  it('rejects a tampered body', async () => {
    const tampered = webhook.body_str_exact_bytes_signed.replace('"value":27,', '"value":17,');
    expect(tampered).not.toBe(webhook.body_str_exact_bytes_signed);
    const r = await receiver.handle({ headers: webhook.headers, body: tampered, nowMs: BEFORE_EXP });
    expect(r).toMatchObject({ ok: false, code: 'E_SIGNATURE_BODY_MISMATCH' });
    // Whitespace alone changes the bytes too: the checksum is over bytes, not over JSON meaning.
    const reformatted = await receiver.handle({ headers: webhook.headers, body: `${webhook.body_str_exact_bytes_signed}\n`, nowMs: BEFORE_EXP });
    expect(reformatted).toMatchObject({ ok: false, code: 'E_SIGNATURE_BODY_MISMATCH' });
  });

  it('rejects a wrong secret', async () => {
    const r = await createDtWebhookReceiver({ secret: 'test-secret2' }).handle({
      headers: webhook.headers,
      body: webhook.body_str_exact_bytes_signed,
      nowMs: BEFORE_EXP,
    });
    expect(r).toMatchObject({ ok: false, code: 'E_SIGNATURE_INVALID' });
  });

  it('rejects the token after exp (injected clock), and today', async () => {
    expect(await receiver.handle({ headers: webhook.headers, body: webhook.body_str_exact_bytes_signed, nowMs: AFTER_EXP })).toMatchObject({
      ok: false,
      code: 'E_SIGNATURE_EXPIRED',
    });
    expect(await receiver.handle({ headers: webhook.headers, body: webhook.body_str_exact_bytes_signed, nowMs: RECEIVED })).toMatchObject({
      ok: false,
      code: 'E_SIGNATURE_EXPIRED',
    });
  });

  it('rejects a missing header and a garbled token', async () => {
    expect(await receiver.handle({ headers: {}, body: webhook.body_str_exact_bytes_signed, nowMs: BEFORE_EXP })).toMatchObject({
      ok: false,
      code: 'E_SIGNATURE_MISSING',
    });
    expect(
      await receiver.handle({ headers: { 'X-Dt-Signature': 'not.a.jwt' }, body: webhook.body_str_exact_bytes_signed, nowMs: BEFORE_EXP }),
    ).toMatchObject({ ok: false, code: 'E_SIGNATURE_INVALID' });
  });

  it('checks a SHA-1-only token and refuses a token with no checksum', async () => {
    const key = new TextEncoder().encode('s3cret');
    const body = '{"event":{"eventId":"x","targetName":"projects/p/devices/d1","eventType":"touch","data":{"touch":{"updateTime":"2024-05-29T10:00:00Z"}}},"labels":{}}';
    const sha1 = createHash('sha1').update(body).digest('hex');
    const exp = Math.floor(BEFORE_EXP / 1000) + 60;
    const withSha1 = await new SignJWT({ checksum: sha1 }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(key);
    expect(await verifyDtSignature({ 'X-Dt-Signature': withSha1 }, body, { secret: 's3cret', nowMs: BEFORE_EXP })).toMatchObject({ ok: true });
    expect(await verifyDtSignature({ 'X-Dt-Signature': withSha1 }, `${body} `, { secret: 's3cret', nowMs: BEFORE_EXP })).toMatchObject({
      ok: false,
      code: 'E_SIGNATURE_BODY_MISMATCH',
    });
    const none = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(key);
    expect(await verifyDtSignature({ 'X-Dt-Signature': none }, body, { secret: 's3cret', nowMs: BEFORE_EXP })).toMatchObject({
      ok: false,
      code: 'E_SIGNATURE_INVALID',
    });
  });

  it('refuses an empty secret at construction', () => {
    expect(() => createDtWebhookReceiver({ secret: '' })).toThrow(PlatformError);
  });
});

const map = (file: string, devices?: Parameters<typeof dtEventToReadings>[1]['devices']) =>
  dtEventToReadings(fixtureJson(`disruptive-technologies/${file}`), { receivedAtMs: RECEIVED, ...(devices ? { devices } : {}) });
const base = (device: string, time: string, timeSource: 'network' | 'sensor' = 'network') => ({ device, time, timeSource, receivedAt: RECEIVED_ISO });

describe('DT events → readings (python-client samples)', () => {
  it('temperature: one reading per sample at its sampleTime (microseconds truncated)', () => {
    const r = map('temperature.json');
    expect(r).toEqual({ ok: true, device: 'device_id', issues: [], readings: [{ kind: 'climate', ...base('device_id', '2019-05-16T08:15:18.318Z', 'sensor'), temperature: 24.9 }] });
  });

  it('humidity: temperature and relative humidity in one reading', () => {
    expect(map('humidity.json')).toMatchObject({
      ok: true,
      readings: [{ kind: 'climate', ...base('device_id', '2019-05-16T06:13:46.369Z', 'sensor'), temperature: 22.45, humidity: 17 }],
    });
  });

  it('co2, motion, networkStatus, batteryStatus, objectPresentCount', () => {
    expect(map('co2.json')).toMatchObject({ ok: true, readings: [{ kind: 'climate', ...base('b6sfppl7rihg1dm4ud8g', '2022-01-27T15:50:34.471Z'), co2: 526 }] });
    expect(map('motion.json')).toMatchObject({
      ok: true,
      readings: [{ kind: 'presence', ...base('emucj4fj3epdjrin69t0v80', '2023-08-02T11:03:18.595Z'), occupied: true }],
    });
    // rssi -83 dBm; signalStrength 45 % is not dBm and is not used.
    expect(map('networkStatus.json')).toEqual({ ok: true, device: 'device_id', issues: [], readings: [{ kind: 'health', ...base('device_id', '2019-05-16T08:21:21.076Z'), rssi: -83 }] });
    expect(map('batteryStatus.json')).toMatchObject({ ok: true, readings: [{ kind: 'health', ...base('device_id', '2019-05-16T08:21:21.076Z'), battery: 100 }] });
    expect(map('objectPresentCount.json')).toMatchObject({ ok: true, readings: [{ kind: 'door', ...base('device_id', '2019-05-16T08:23:43.209Z'), openings: 4176 }] });
  });

  it('objectPresent: NOT_PRESENT (magnet away) = open by default, configurable per device', () => {
    expect(map('objectPresent.json')).toMatchObject({ ok: true, readings: [{ kind: 'door', ...base('device_id', '2019-05-16T08:37:10.711Z'), open: true }] });
    expect(map('objectPresent.json', { device_id: { objectPresent: 'present-is-open' } })).toMatchObject({ ok: true, readings: [{ kind: 'door', open: false }] });
    // Another device's setting does not apply.
    expect(map('objectPresent.json', { other: { objectPresent: 'present-is-open' } })).toMatchObject({ ok: true, readings: [{ kind: 'door', open: true }] });
  });

  it('deskOccupancy and contact (from DT docs)', () => {
    expect(map('deskOccupancy.json')).toMatchObject({
      ok: true,
      readings: [{ kind: 'presence', ...base('cj5jpe7r23r0008c1pmg', '2025-05-08T07:53:02.000Z'), occupied: true }],
    });
    expect(map('contact.json')).toMatchObject({
      ok: true,
      readings: [{ kind: 'door', ...base('emuct0q3pmvlr2b0jd4ik50', '2024-08-27T12:01:53.217Z'), open: true }],
    });
  });

  it('touch, touchCount and connectionStatus yield no reading, with the reason', () => {
    for (const f of ['touch.json', 'touchCount.json', 'connectionStatus.json']) {
      const r = map(f);
      expect(r).toMatchObject({ ok: true, readings: [] });
      expect(r.ok && typeof r.ignored).toBe('string');
    }
  });

  it('every mapped sample passes the contract', () => {
    const files = ['temperature.json', 'humidity.json', 'co2.json', 'motion.json', 'networkStatus.json', 'batteryStatus.json', 'objectPresent.json', 'objectPresentCount.json', 'deskOccupancy.json', 'contact.json', 'temperature-backfilled.json'];
    for (const f of files) {
      const r = map(f);
      if (!r.ok) throw new Error(`${f}: ${r.detail}`);
      expect(r.readings.length).toBeGreaterThan(0);
      assertContract(r.readings);
    }
  });
});

describe('DT traps', () => {
  it('backfilled samples: each becomes a reading at its own time; "False" string parsed as false', () => {
    const r = map('temperature-backfilled.json');
    expect(r).toEqual({
      ok: true,
      device: 'emucj4fj3epdjrin69t0v80',
      issues: [],
      readings: [
        { kind: 'climate', ...base('emucj4fj3epdjrin69t0v80', '2026-11-24T08:30:04.118Z', 'sensor'), temperature: 21.45 },
        { kind: 'climate', ...base('emucj4fj3epdjrin69t0v80', '2026-11-24T08:15:04.118Z', 'sensor'), temperature: 20.95 },
        { kind: 'climate', ...base('emucj4fj3epdjrin69t0v80', '2026-11-24T08:00:04.118Z', 'sensor'), temperature: 20.5 },
      ],
    });
    expect(parseDtBoolean('False')).toBe(false);
    expect(parseDtBoolean('TRUE')).toBe(true);
    expect(parseDtBoolean('0')).toBeUndefined();
  });

  it('an unreadable isBackfilled is reported but costs no sample', () => {
    const ev = fixtureJson<{ data: { temperature: Record<string, unknown> } }>('disruptive-technologies/temperature-backfilled.json');
    ev.data.temperature['isBackfilled'] = 'Nope';
    const r = dtEventToReadings(ev, { receivedAtMs: RECEIVED });
    expect(r).toMatchObject({ ok: true, issues: [{ field: 'isBackfilled', code: 'E_SOURCE_BAD_VALUE' }] });
    expect(r.ok && r.readings.length).toBe(3);
  });

  it('1970 timestamp: refused as implausible, never written as year-1970 data', () => {
    // The real objectPresent sample without its updateTime leaves only its 1970 event timestamp.
    const ev = fixtureJson<{ data: { objectPresent: Record<string, unknown> }; timestamp: string }>('disruptive-technologies/objectPresent.json');
    expect(ev.timestamp).toBe('1970-01-01T00:00:00Z');
    delete ev.data.objectPresent['updateTime'];
    expect(dtEventToReadings(ev, { receivedAtMs: RECEIVED })).toMatchObject({ ok: false, code: 'E_SOURCE_TIME_IMPLAUSIBLE' });
    const co2 = fixtureJson<{ data: { co2: Record<string, unknown> } }>('disruptive-technologies/co2.json');
    co2.data.co2['updateTime'] = '1970-01-01T00:00:00.000000Z';
    expect(dtEventToReadings(co2, { receivedAtMs: RECEIVED })).toMatchObject({ ok: false, code: 'E_SOURCE_TIME_IMPLAUSIBLE' });
  });

  it('a 1970 sample among backfilled samples costs only that sample', () => {
    const ev = fixtureJson<{ data: { temperature: { samples: { sampleTime: string }[] } } }>('disruptive-technologies/temperature-backfilled.json');
    ev.data.temperature.samples[2]!.sampleTime = '1970-01-01T00:00:00Z';
    const r = dtEventToReadings(ev, { receivedAtMs: RECEIVED });
    expect(r.ok && r.readings.map((x) => x.time)).toEqual(['2026-11-24T08:30:04.118Z', '2026-11-24T08:15:04.118Z']);
    expect(r).toMatchObject({ ok: true, issues: [{ field: 'samples[2].sampleTime', code: 'E_SOURCE_TIME_IMPLAUSIBLE' }] });
  });

  it('malformed targetName of the samples is tolerated; no devices/ segment is refused', () => {
    expect(dtDeviceId('/projets/project_id/devices/device_id ')).toBe('device_id');
    expect(dtDeviceId('projects/p/devices/emucdd6ef2eu277bo8f52vg')).toBe('emucdd6ef2eu277bo8f52vg');
    expect(dtDeviceId('projects/p')).toBeNull();
  });

  it('unknown states and unsupported event types get codes', () => {
    const desk = fixtureJson<{ data: { deskOccupancy: Record<string, unknown> } }>('disruptive-technologies/deskOccupancy.json');
    desk.data.deskOccupancy['state'] = 'INVALID';
    expect(dtEventToReadings(desk, { receivedAtMs: RECEIVED })).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_VALUE' });
    const water = { eventId: 'w', targetName: 'projects/p/devices/d', eventType: 'waterPresent', data: { waterPresent: { state: 'PRESENT' } } };
    expect(dtEventToReadings(water, { receivedAtMs: RECEIVED })).toMatchObject({ ok: false, code: 'E_SOURCE_UNSUPPORTED_EVENT' });
    const motion = fixtureJson<{ data: { motion: Record<string, unknown> } }>('disruptive-technologies/motion.json');
    motion.data.motion['state'] = false;
    expect(dtEventToReadings(motion, { receivedAtMs: RECEIVED })).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_VALUE' });
  });
});

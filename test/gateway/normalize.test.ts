import { describe, expect, it } from 'vitest';
import { normalizeReading } from '../../gateway/normalize.ts';

const RX = Date.parse('2026-11-24T09:00:00.000Z');
const limits = { maxAheadMs: 2 * 60_000, maxBehindMs: 7 * 86_400_000, maxAgeMs: 30 * 86_400_000 };

describe('normalizeReading', () => {
  it('stamps receivedAt and keeps a plausible sensor time as sensor time', () => {
    const r = normalizeReading({ kind: 'climate', device: 'a84041000181c0de', time: '2026-11-24T08:59:30.000Z', co2: 612 }, RX, limits);
    expect(r).toEqual({
      ok: true,
      reading: { kind: 'climate', device: 'a84041000181c0de', time: '2026-11-24T08:59:30.000Z', co2: 612, receivedAt: '2026-11-24T09:00:00.000Z', timeSource: 'sensor' },
    });
  });

  it('gives a reading without a time the receive time, marked as gateway time', () => {
    const r = normalizeReading({ kind: 'presence', device: 'a84041000181c0de', occupied: true }, RX, limits);
    expect(r.ok && r.reading).toMatchObject({ time: '2026-11-24T09:00:00.000Z', receivedAt: '2026-11-24T09:00:00.000Z', timeSource: 'gateway' });
    expect(r.ok && r.reading.clockSuspect).toBeUndefined();
  });

  it('keeps the network time source the parser set', () => {
    const r = normalizeReading({ kind: 'door', device: 'a84041000181c0de', time: '2026-11-24T08:59:59.000Z', timeSource: 'network', open: false }, RX, limits);
    expect(r.ok && r.reading.timeSource).toBe('network');
  });

  it('flags a sensor clock 3 min ahead (limit 2 min) and keeps both times', () => {
    const r = normalizeReading({ kind: 'door', device: 'a84041000181c0de', time: '2026-11-24T09:03:00.000Z', open: true }, RX, limits);
    expect(r.ok && r.reading).toMatchObject({ time: '2026-11-24T09:03:00.000Z', receivedAt: '2026-11-24T09:00:00.000Z', clockSuspect: true });
  });

  it('does not flag 2 min ahead exactly (the limit is exclusive)', () => {
    const r = normalizeReading({ kind: 'door', device: 'a84041000181c0de', time: '2026-11-24T09:02:00.000Z', open: true }, RX, limits);
    expect(r.ok && r.reading.clockSuspect).toBeUndefined();
  });

  it('flags a sensor clock 8 days behind (limit 7 days) and keeps both times', () => {
    const r = normalizeReading({ kind: 'door', device: 'a84041000181c0de', time: '2026-11-16T09:00:00.000Z', open: true }, RX, limits);
    expect(r.ok && r.reading).toMatchObject({ time: '2026-11-16T09:00:00.000Z', clockSuspect: true });
  });

  it('rejects a time beyond the contract future limit (5 min) with its reason code', () => {
    const r = normalizeReading({ kind: 'door', device: 'a84041000181c0de', time: '2026-11-24T09:10:00.000Z', open: true }, RX, limits);
    expect(r).toMatchObject({ ok: false, reason: 'E_READING_TIME_FUTURE' });
  });

  it('rejects a contract violation and an out-of-range value with distinct codes, without throwing', () => {
    expect(normalizeReading({ kind: 'climate', device: 'a84041000181c0de', colour: 'red', co2: 1 }, RX, limits)).toMatchObject({ ok: false, reason: 'E_READING_INVALID' });
    expect(normalizeReading({ kind: 'climate', device: 'a84041000181c0de', humidity: 140 }, RX, limits)).toMatchObject({ ok: false, reason: 'E_READING_OUT_OF_RANGE' });
    expect(normalizeReading('not a reading', RX, limits)).toMatchObject({ ok: false, reason: 'E_READING_INVALID' });
    expect(normalizeReading(null, RX, limits)).toMatchObject({ ok: false, reason: 'E_READING_INVALID' });
  });

  it('overwrites a receivedAt the source tried to set: receive time is the gateway\'s', () => {
    const r = normalizeReading({ kind: 'door', device: 'a84041000181c0de', receivedAt: '2020-01-01T00:00:00Z', open: true }, RX, limits);
    expect(r.ok && r.reading.receivedAt).toBe('2026-11-24T09:00:00.000Z');
  });
});

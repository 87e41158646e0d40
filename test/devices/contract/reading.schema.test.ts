import { describe, expect, it } from 'vitest';
import { readingSchema, envelopeSchema, SCHEMA_VERSION } from '../../../devices/contract/reading.schema.ts';
import { validateEnvelope, validateReading, DEFAULT_MAX_AGE_MS } from '../../../devices/contract/validate.ts';

const NOW = Date.parse('2026-11-24T10:00:00.000Z');
const limits = { now: NOW, maxAgeMs: DEFAULT_MAX_AGE_MS };
const t = '2026-11-24T09:59:00.000Z';

describe('reading schema', () => {
  it('accepts one reading of every kind with the contract field names', () => {
    const good = [
      { device: '24e124538b223213', time: t, kind: 'counter', line: 'line-1', periodIn: 3, periodOut: 1, periodSeconds: 300 },
      { device: '24e124538b223213', time: t, kind: 'counter', totalIn: 65535, totalOut: 0 },
      { device: '0x00158d0001a2b3c4', time: t, kind: 'presence', occupied: true, count: 4 },
      { device: 'bjmdpfo5m2a000bke9f0', time: t, kind: 'door', open: false, openings: 17 },
      { device: 'a81758fffe0312e5', time: t, kind: 'climate', temperature: -3.5, humidity: 41, co2: 812, tvoc: 120, pressure: 1003.2, illuminance: 250 },
      { device: 'a81758fffe0312e5', time: t, kind: 'health', battery: 87, rssi: -112, snr: -7.5 },
    ];
    for (const g of good) expect(readingSchema.safeParse(g).success, JSON.stringify(g)).toBe(true);
  });

  it('defaults the counting line to "main"', () => {
    const r = readingSchema.parse({ device: 'd1', time: t, kind: 'counter', totalIn: 1 });
    expect(r.kind === 'counter' && r.line).toBe('main');
  });

  it.each([
    ['co2 above 40 000 ppm', { kind: 'climate', co2: 40_001 }],
    ['negative co2', { kind: 'climate', co2: -1 }],
    ['humidity above 100 %', { kind: 'climate', humidity: 100.5 }],
    ['temperature below −40 °C', { kind: 'climate', temperature: -40.1 }],
    ['temperature above 85 °C', { kind: 'climate', temperature: 85.1 }],
    ['battery above 100 %', { kind: 'health', battery: 101 }],
    ['a negative count', { kind: 'counter', totalIn: -1 }],
  ])('refuses %s as out of range', (_name, fields) => {
    const r = validateReading({ device: 'd1', time: t, ...fields }, limits);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('E_READING_OUT_OF_RANGE');
  });

  it.each([
    ['a fractional count', { kind: 'counter', periodIn: 1.5, periodSeconds: 60 }],
    ['a string where a boolean belongs', { kind: 'presence', occupied: 'False' }],
    ['an unknown kind', { kind: 'smoke', level: 3 }],
    ['an unknown field', { kind: 'climate', co2: 500, pm25: 3 }],
    ['a counter with no counts', { kind: 'counter', line: 'main' }],
    ['period counts without their interval', { kind: 'counter', periodIn: 2 }],
    ['a door with neither state nor counter', { kind: 'door' }],
    ['a climate reading with no value', { kind: 'climate' }],
  ])('refuses %s as invalid', (_name, fields) => {
    const r = validateReading({ device: 'd1', time: t, ...fields }, limits);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('E_READING_INVALID');
  });

  it('refuses a time with an offset other than Z, and a device id with a space', () => {
    expect(validateReading({ device: 'd1', time: '2026-11-24T10:59:00+01:00', kind: 'door', open: true }, limits).ok).toBe(false);
    expect(validateReading({ device: 'd 1', time: t, kind: 'door', open: true }, limits).ok).toBe(false);
  });

  it('accepts a time exactly 5 minutes ahead and refuses one millisecond more', () => {
    const at = (ms: number) => new Date(NOW + ms).toISOString();
    expect(validateReading({ device: 'd1', time: at(300_000), kind: 'door', open: true }, limits).ok).toBe(true);
    const r = validateReading({ device: 'd1', time: at(300_001), kind: 'door', open: true }, limits);
    expect(!r.ok && r.reason).toBe('E_READING_TIME_FUTURE');
  });

  it('refuses a reading older than the configured age (default 30 days)', () => {
    const old = new Date(NOW - 30 * 86_400_000 - 1).toISOString();
    const r = validateReading({ device: 'd1', time: old, kind: 'door', open: true }, limits);
    expect(!r.ok && r.reason).toBe('E_READING_TIME_TOO_OLD');
    const edge = new Date(NOW - 30 * 86_400_000).toISOString();
    expect(validateReading({ device: 'd1', time: edge, kind: 'door', open: true }, limits).ok).toBe(true);
    // a configurable age: 1 day
    expect(validateReading({ device: 'd1', time: new Date(NOW - 86_400_001).toISOString(), kind: 'door', open: true }, { now: NOW, maxAgeMs: 86_400_000 }).ok).toBe(false);
  });
});

describe('envelope validation', () => {
  const envelope = (readings: unknown[], extra: Record<string, unknown> = {}) => ({
    v: SCHEMA_VERSION, gateway: 'gw-heggedal', torg: 'heggedal', sentAt: t, seq: 42, readings, ...extra,
  });

  it('keeps the good readings of a batch and rejects only the bad one, with its index', () => {
    const r = validateEnvelope(
      envelope([
        { device: 'd1', time: t, kind: 'door', open: true },
        { device: 'd2', time: t, kind: 'climate', co2: 99_999 },
        { device: 'd3', time: t, kind: 'presence', occupied: false },
      ]),
      limits,
      { torg: 'heggedal', gateway: 'gw-heggedal' },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.readings.map((x) => x.device)).toEqual(['d1', 'd3']);
    expect(r.timesMs).toEqual([Date.parse(t), Date.parse(t)]);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]).toMatchObject({ index: 1, reason: 'E_READING_OUT_OF_RANGE' });
    expect(r.meta).toEqual({ torg: 'heggedal', gateway: 'gw-heggedal', seq: 42, sentAt: t });
  });

  it('rejects an unknown schema version, an empty batch, and a torg that differs from the topic', () => {
    const v2 = validateEnvelope(envelope([{ device: 'd1', time: t, kind: 'door', open: true }], { v: 2 }), limits);
    expect(!v2.ok && v2.reason).toBe('E_SCHEMA_VERSION');
    const empty = validateEnvelope(envelope([]), limits);
    expect(!empty.ok && empty.reason).toBe('E_ENVELOPE_INVALID');
    const spoof = validateEnvelope(envelope([{ device: 'd1', time: t, kind: 'door', open: true }]), limits, { torg: 'tofte', gateway: 'gw-heggedal' });
    expect(!spoof.ok && spoof.reason).toBe('E_TOPIC_MISMATCH');
    const notObject = validateEnvelope([1, 2], limits);
    expect(!notObject.ok && notObject.reason).toBe('E_ENVELOPE_INVALID');
  });

  it('the full envelope schema types a valid envelope end to end', () => {
    const e = envelopeSchema.parse(envelope([{ device: 'd1', time: t, kind: 'counter', periodIn: 2, periodOut: 0, periodSeconds: 60 }]));
    expect(e.readings[0]).toMatchObject({ kind: 'counter', line: 'main', periodIn: 2 });
  });
});

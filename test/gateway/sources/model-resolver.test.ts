/**
 * Decoder choice per uplink: config `devices` first, then the LNS tags; the reporting interval of
 * VS13x / VS350 counters from the same places. Payloads are the vendor's README examples
 * (Milesight-IoT/SensorDecoders VS_Series/VS13x/README.md, VS_Series/VS350/README.md).
 */
import { describe, expect, it } from 'vitest';
import type { ReadingInput } from '../../../devices/contract/reading.schema.ts';
import { LorawanModelResolver } from '../../../gateway/sources/model-resolver.ts';

const DEV = '24e124538b223213';
const ctx = { device: DEV, time: '2026-11-24T09:15:00.000Z' };
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
/** VS13x README: period counts of four lines; line 4 has 5 in, 7 out. */
const VS13X_PERIODS = hex('05cc0000000008cc000000000bcc000000000ecc05000700');

function periodSecondsOf(readings: ReadingInput[]): number[] {
  return readings.map((r) => (r.kind === 'counter' ? r.periodSeconds ?? -1 : -1));
}

function decode(resolver: LorawanModelResolver, tags?: Record<string, string>): ReadingInput[] {
  const r = resolver.resolve(DEV, tags);
  if (!r.ok) throw new Error(`${r.code}: ${r.detail}`);
  return r.model.decode(85, VS13X_PERIODS, ctx);
}

describe('LorawanModelResolver', () => {
  it('a VS133 tagged with a 60 s interval yields 60 s periods', () => {
    const readings = decode(new LorawanModelResolver({}), { model: 'milesight-vs133', reportIntervalSeconds: '60' });
    expect(periodSecondsOf(readings)).toEqual([60, 60, 60, 60]);
    expect(readings[3]).toMatchObject({ kind: 'counter', line: 'line-4', periodIn: 5, periodOut: 7 });
  });

  it('the config interval wins over the tag, the config model over the tag model', () => {
    const resolver = new LorawanModelResolver({ [DEV.toUpperCase()]: { model: 'milesight-vs135', reportIntervalSeconds: 300 } });
    const r = resolver.resolve(DEV, { model: 'milesight-ws301', reportIntervalSeconds: '60' });
    expect(r.ok && r.model.model).toBe('VS135');
    expect(periodSecondsOf(decode(resolver, { reportIntervalSeconds: '60' }))).toEqual([300, 300, 300, 300]);
  });

  it('a config entry with only an interval takes the model from the tag', () => {
    const resolver = new LorawanModelResolver({ [DEV]: { reportIntervalSeconds: 900 } });
    expect(periodSecondsOf(decode(resolver, { model: 'milesight-vs133' }))).toEqual([900, 900, 900, 900]);
  });

  it('without any interval the VS133 keeps its documented 3600 s default', () => {
    expect(periodSecondsOf(decode(new LorawanModelResolver({}), { model: 'milesight-vs133' }))).toEqual([3600, 3600, 3600, 3600]);
  });

  it('builds the VS350 with the interval too', () => {
    const resolver = new LorawanModelResolver({});
    const r = resolver.resolve(DEV, { model: 'milesight-vs350', reportIntervalSeconds: '120' });
    if (!r.ok) throw new Error(r.detail);
    // 0x05 0xCC period in 3, out 2 (uint16 LE), VS350 channel list.
    expect(r.model.decode(85, hex('05cc03000200'), ctx)).toEqual([
      expect.objectContaining({ kind: 'counter', line: 'main', periodIn: 3, periodOut: 2, periodSeconds: 120 }),
    ]);
  });

  it('reuses one decoder per model and interval', () => {
    const resolver = new LorawanModelResolver({});
    const a = resolver.resolve(DEV, { model: 'milesight-vs133', reportIntervalSeconds: '60' });
    const b = resolver.resolve('24e1240000000002', { model: 'milesight-vs133', reportIntervalSeconds: '60' });
    expect(a.ok && b.ok && a.model === b.model).toBe(true);
  });

  it('answers with reason codes instead of throwing', () => {
    const resolver = new LorawanModelResolver({});
    expect(resolver.resolve(DEV, undefined)).toMatchObject({ ok: false, code: 'E_DECODE_UNKNOWN_DEVICE' });
    expect(resolver.resolve(DEV, { torg: 'heggedal' })).toMatchObject({ ok: false, code: 'E_DECODE_UNKNOWN_DEVICE' });
    expect(resolver.resolve(DEV, { model: 'acme-counter' })).toMatchObject({ ok: false, code: 'E_DECODE_UNKNOWN_MODEL' });
    for (const bad of ['60s', '0', '-5', '1.5', '3600000']) {
      expect(resolver.resolve(DEV, { model: 'milesight-vs133', reportIntervalSeconds: bad })).toMatchObject({ ok: false, code: 'E_DECODE_BAD_VALUE' });
    }
  });

  it('ignores the interval tag for models whose uplink needs none', () => {
    const r = new LorawanModelResolver({}).resolve(DEV, { model: 'milesight-ws301', reportIntervalSeconds: 'nonsense' });
    expect(r.ok && r.model.id).toBe('milesight-ws301');
  });
});

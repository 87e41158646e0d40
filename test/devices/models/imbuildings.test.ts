import { describe, expect, it } from 'vitest';
import { createImbuildingsPeopleCounter, imbuildingsPeopleCounter } from '../../../devices/models/imbuildings/people-counter.ts';
import { codeOf, ctx, fuzz, hex, runGoldens, strip } from './golden-harness.ts';

const V6 = '02060004a30b00f0d40e0001000000000020000d000a6a';

describe('IMBuildings golden payloads', () => {
  runGoldens('imbuildings', [[imbuildingsPeopleCounter, 'people-counter']]);
});

describe('IMBuildings people counter', () => {
  it('with a configured interval, period counts are emitted beside the totals', () => {
    // Same vendor example with counter A = 0x0005, counter B = 0x0102 (= 258).
    const bytes = hex('02060004a30b00f0d40e000100' + '0005' + '0102' + '20000d000a6a');
    const model = createImbuildingsPeopleCounter({ periodSeconds: 900 });
    expect(strip(model.decode(1, bytes, ctx))).toEqual([
      { kind: 'counter', line: 'main', periodIn: 5, periodOut: 258, periodSeconds: 900, totalIn: 13, totalOut: 10 },
    ]);
  });
  it('mounting: counterA = out swaps the directions', () => {
    const model = createImbuildingsPeopleCounter({ counterA: 'out' });
    expect(strip(model.decode(1, hex(V6), ctx))).toEqual([{ kind: 'counter', line: 'main', totalIn: 10, totalOut: 13 }]);
  });
  it('headerless variants on ports 26 and 27 read the same fields', () => {
    // Port 26: the V6 example without type, variant and id (its last 13 bytes).
    expect(strip(imbuildingsPeopleCounter.decode(26, hex(V6.slice(20)), ctx))).toEqual([{ kind: 'counter', line: 'main', totalIn: 13, totalOut: 10 }]);
    // Port 27: sensor status 0x20, totals 0x0102 = 258 and 0x0003 = 3.
    expect(strip(imbuildingsPeopleCounter.decode(27, hex('2001020003'), ctx))).toEqual([{ kind: 'counter', line: 'main', totalIn: 258, totalOut: 3 }]);
  });
  it('variant 7 with header: totals only', () => {
    expect(strip(imbuildingsPeopleCounter.decode(1, hex('02070004a30b00f0d40e000100' + '20' + '0007' + '0009'), ctx))).toEqual([
      { kind: 'counter', line: 'main', totalIn: 7, totalOut: 9 },
    ]);
  });
  it('variant 5 (period only) is refused without a configured interval, decoded with one', () => {
    const v5 = hex('02050004a30b00f0d40e000100' + '0004' + '0002' + '206a');
    expect(codeOf(() => imbuildingsPeopleCounter.decode(1, v5, ctx))).toBe('E_DECODE_BAD_VALUE');
    expect(strip(createImbuildingsPeopleCounter({ periodSeconds: 600 }).decode(1, v5, ctx))).toEqual([
      { kind: 'counter', line: 'main', periodIn: 4, periodOut: 2, periodSeconds: 600 },
    ]);
  });
  it('wrong type, variant, length and port are refused', () => {
    expect(codeOf(() => imbuildingsPeopleCounter.decode(1, hex('01' + V6.slice(2)), ctx))).toBe('E_DECODE_UNKNOWN_CHANNEL');
    expect(codeOf(() => imbuildingsPeopleCounter.decode(1, hex('0209' + V6.slice(4)), ctx))).toBe('E_DECODE_UNKNOWN_CHANNEL');
    expect(codeOf(() => imbuildingsPeopleCounter.decode(1, hex(V6.slice(0, -2)), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => imbuildingsPeopleCounter.decode(1, hex('02'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => imbuildingsPeopleCounter.decode(2, hex(V6), ctx))).toBe('E_DECODE_BAD_PORT');
  });
  it('fuzz', () => {
    const model = createImbuildingsPeopleCounter({ periodSeconds: 900 });
    expect(fuzz(model, [1, 1, 26, 27], 24, [[2, 5], [2, 6], [2, 7]])).toBeGreaterThan(0);
  });
});

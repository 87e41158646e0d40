import { describe, expect, it } from 'vitest';
import { draginoLds02 } from '../../../devices/models/dragino/lds02.ts';
import { codeOf, ctx, fuzz, hex, runGoldens, strip } from './golden-harness.ts';

describe('Dragino golden payloads', () => {
  runGoldens('dragino', [[draginoLds02, 'lds02']]);
});

describe('Dragino LDS02 traps', () => {
  it('polarity: bit 15 set is OPEN, clear is closed (Dragino: 1 = open)', () => {
    expect(strip(draginoLds02.decode(10, hex('8c100100000300000000'), ctx))).toEqual([{ kind: 'door', open: true, openings: 3 }]);
    expect(strip(draginoLds02.decode(10, hex('0c100100000300000000'), ctx))).toEqual([{ kind: 'door', open: false, openings: 3 }]);
  });
  it('battery bits do not leak into the door state (0x7FFF battery field, bit 15 clear)', () => {
    expect(strip(draginoLds02.decode(10, hex('3fff01ffffff00000000'), ctx))).toEqual([{ kind: 'door', open: false, openings: 16_777_215 }]);
  });
  it('mode 3 reports the state without counters; water-leak mode 2 is refused', () => {
    expect(strip(draginoLds02.decode(10, hex('8b880300000000000001'), ctx))).toEqual([{ kind: 'door', open: true }]);
    expect(codeOf(() => draginoLds02.decode(10, hex('8b880200000100000000'), ctx))).toBe('E_DECODE_BAD_VALUE');
  });
  it('truncated payloads and foreign ports are refused', () => {
    expect(codeOf(() => draginoLds02.decode(10, hex('0b88010025000100'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => draginoLds02.decode(10, new Uint8Array(), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => draginoLds02.decode(42, hex('0b880100250001000000'), ctx))).toBe('E_DECODE_BAD_PORT');
  });
  it('fuzz', () => {
    expect(fuzz(draginoLds02, [10, 10, 10, 5], 14, [[0x0b, 0x88, 0x01], [0x8b, 0x88, 0x03]])).toBeGreaterThan(0);
  });
});

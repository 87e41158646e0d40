import { describe, expect, it } from 'vitest';
import { browanTbdw100 } from '../../../devices/models/browan/tbdw100.ts';
import { browanTbhv110 } from '../../../devices/models/browan/tbhv110.ts';
import { browanTbms100 } from '../../../devices/models/browan/tbms100.ts';
import { codeOf, ctx, fuzz, hex, runGoldens, strip } from './golden-harness.ts';

describe('Browan golden payloads', () => {
  runGoldens('browan', [
    [browanTbdw100, 'tbdw100'],
    [browanTbms100, 'tbms100'],
    [browanTbhv110, 'tbhv110'],
  ]);
});

describe('Browan traps', () => {
  it('TBDW100: only bit 0 is the door; other status bits do not open it', () => {
    expect(strip(browanTbdw100.decode(100, hex('fecb350000010000'), ctx))).toEqual([{ kind: 'door', open: false, openings: 1 }]);
  });
  it('TBDW100: the 24-bit count is little-endian', () => {
    // 0x030201 = 197121
    expect(strip(browanTbdw100.decode(100, hex('01cb350000010203'), ctx))).toEqual([{ kind: 'door', open: true, openings: 197_121 }]);
  });
  it('TBHV110: out-of-range temperature (7-bit 0x7F - 32 = 95 °C) is dropped, the rest kept', () => {
    expect(strip(browanTbhv110.decode(103, hex('610b351ebf03010051007f'), ctx))).toEqual([{ kind: 'climate', humidity: 30, co2: 959, tvoc: 1 }]);
  });
  it('TBHV110: humidity above 100 % (0x7F = 127) is dropped', () => {
    expect(strip(browanTbhv110.decode(103, hex('610b357fbf030100510036'), ctx))).toEqual([{ kind: 'climate', temperature: 22, co2: 959, tvoc: 1 }]);
  });
  it('truncated payloads and wrong ports are refused', () => {
    expect(codeOf(() => browanTbdw100.decode(100, hex('00cb3500008a3a'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => browanTbms100.decode(102, hex('01'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => browanTbhv110.decode(103, hex('610b351ebf0301005100'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => browanTbdw100.decode(42, hex('01'), ctx))).toBe('E_DECODE_BAD_PORT');
    expect(codeOf(() => browanTbms100.decode(100, hex('01bb340400dc7801'), ctx))).toBe('E_DECODE_BAD_PORT');
  });
  it('fuzz', () => {
    expect(fuzz(browanTbdw100, [100, 101], 10)).toBeGreaterThan(0);
    expect(fuzz(browanTbms100, [102, 1], 10)).toBeGreaterThan(0);
    expect(fuzz(browanTbhv110, [103], 14)).toBeGreaterThan(0);
  });
});

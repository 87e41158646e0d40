import { describe, expect, it } from 'vitest';
import { createPcr2Model, parametricPcr2 } from '../../../devices/models/parametric/pcr2.ts';
import { codeOf, ctx, fuzz, hex, runGoldens, strip } from './golden-harness.ts';

describe('Parametric golden payloads', () => {
  runGoldens('parametric', [[parametricPcr2, 'pcr2']]);
});

describe('Parametric PCR2 traps', () => {
  it('mounting: leftToRight = out swaps in and out, for period counts and totals', () => {
    const mirrored = createPcr2Model({ leftToRight: 'out', periodSeconds: 300 });
    expect(strip(mirrored.decode(14, hex('be01030001000200030004640ce40139'), ctx))).toEqual([
      { kind: 'counter', line: 'main', periodIn: 2, periodOut: 1, periodSeconds: 300, totalIn: 4, totalOut: 3 },
    ]);
  });
  it('an Elsys payload with only the LTR record gives an in count only; PCR2 refuses Elsys types it does not send', () => {
    expect(strip(parametricPcr2.decode(14, hex('0a0005'), ctx))).toEqual([{ kind: 'counter', line: 'main', periodIn: 5, periodSeconds: 600 }]);
    expect(codeOf(() => parametricPcr2.decode(14, hex('0a00051400'), ctx))).toBe('E_DECODE_UNKNOWN_CHANNEL');
  });
  it('wrong lengths, unknown payload types and ports are refused', () => {
    expect(codeOf(() => parametricPcr2.decode(14, hex('be01030001000200030004640ce401'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => parametricPcr2.decode(14, hex('be01030001000200030004640ce4013900'), ctx))).toBe('E_DECODE_BAD_VALUE');
    expect(codeOf(() => parametricPcr2.decode(14, hex('0a00'), ctx))).toBe('E_DECODE_TRUNCATED');
    expect(codeOf(() => parametricPcr2.decode(14, hex('0066010203'), ctx))).toBe('E_DECODE_UNKNOWN_CHANNEL');
    expect(codeOf(() => parametricPcr2.decode(190, hex('0003'), ctx))).toBe('E_DECODE_BAD_VALUE');
    expect(codeOf(() => parametricPcr2.decode(1, hex('0a0001'), ctx))).toBe('E_DECODE_BAD_PORT');
  });
  it('fuzz', () => {
    expect(fuzz(parametricPcr2, [14, 14, 190], 20, [[0x0a], [0xbe, 0x01, 0x03], [0xbe, 0x01, 0x04]])).toBeGreaterThan(0);
  });
});

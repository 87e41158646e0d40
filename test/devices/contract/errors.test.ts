import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_REASONS, ERROR_CODES, PlatformError } from '../../../devices/contract/errors.ts';

describe('error catalogue', () => {
  it('documents every code in the README', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const code of Object.keys(ERROR_CODES)) expect(readme, code).toContain(code);
  });
  it('dead-letter reasons are all permanent errors', () => {
    for (const r of DEAD_LETTER_REASONS) expect(ERROR_CODES[r].retriable, r).toBe(false);
  });
  it('a PlatformError carries its code and whether a retry helps', () => {
    const e = new PlatformError('E_INFLUX_UNAVAILABLE', 'connect ECONNREFUSED');
    expect(e.code).toBe('E_INFLUX_UNAVAILABLE');
    expect(e.retriable).toBe(true);
    expect(e.message).toContain('ECONNREFUSED');
  });
});

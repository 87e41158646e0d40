import { describe, expect, it } from 'vitest';
import { instantFromEpochMs, parseInstant } from '../../../devices/sources/source-time.ts';

describe('parseInstant', () => {
  it('truncates ChirpStack nanoseconds with a +00:00 offset to milliseconds', () => {
    const r = parseInstant('2022-10-03T03:17:10.427430120+00:00');
    expect(r).toEqual({ ok: true, iso: '2022-10-03T03:17:10.427Z', ms: Date.UTC(2022, 9, 3, 3, 17, 10, 427) });
  });

  it('never rounds .999999999 into the next second, day or year', () => {
    const r = parseInstant('2025-12-31T23:59:59.999999999Z');
    expect(r.ok && r.iso).toBe('2025-12-31T23:59:59.999Z');
  });

  it('converts a non-zero offset to UTC', () => {
    // 09:15:02.417 at +01:00 is 08:15:02.417 UTC.
    const r = parseInstant('2026-11-24T09:15:02.417+01:00');
    expect(r.ok && r.iso).toBe('2026-11-24T08:15:02.417Z');
    // 00:30 at -02:30 is 03:00 UTC.
    const n = parseInstant('2026-03-01T00:30:00.123456-02:30');
    expect(n.ok && n.iso).toBe('2026-03-01T03:00:00.123Z');
  });

  it('pads short fractions and accepts none', () => {
    expect(parseInstant('2024-05-29T10:34:03.9Z')).toMatchObject({ ok: true, iso: '2024-05-29T10:34:03.900Z' });
    expect(parseInstant('2024-05-29T10:34:03Z')).toMatchObject({ ok: true, iso: '2024-05-29T10:34:03.000Z' });
  });

  it('refuses dates that do not exist and text that is not RFC 3339', () => {
    expect(parseInstant('2023-02-29T00:00:00Z')).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_TIME' });
    expect(parseInstant('2024-05-29 10:34:03Z')).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_TIME' });
    expect(parseInstant('2024-05-29T10:34:03.1234567890Z')).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_TIME' });
    expect(parseInstant('2024-05-29T10:34:03')).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_TIME' });
  });

  it('refuses the 1970 epoch of an unset clock as implausible', () => {
    expect(parseInstant('1970-01-01T00:00:00Z')).toMatchObject({ ok: false, code: 'E_SOURCE_TIME_IMPLAUSIBLE' });
    expect(instantFromEpochMs(0)).toMatchObject({ ok: false, code: 'E_SOURCE_TIME_IMPLAUSIBLE' });
  });

  it('takes epoch milliseconds', () => {
    expect(instantFromEpochMs(1_764_000_000_123)).toMatchObject({ ok: true, iso: '2025-11-24T16:00:00.123Z' });
    expect(instantFromEpochMs(1.5)).toMatchObject({ ok: false, code: 'E_SOURCE_BAD_TIME' });
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_AGE_MS, validateEnvelope } from '../../../devices/contract/validate.ts';

const NOW = Date.parse('2026-11-24T10:00:00.000Z');
const limits = { now: NOW, maxAgeMs: DEFAULT_MAX_AGE_MS };

/**
 * JSON nested deeper than V8's JSON.stringify recursion allows (JSON.parse is iterative and takes it;
 * 200 000 levels are 400 kB, well under the ingest's 2 MiB message limit).
 */
const DEEP = '['.repeat(200_000) + ']'.repeat(200_000);

describe('validateEnvelope on hostile input', () => {
  it('refuses a deeply nested schema version with E_SCHEMA_VERSION instead of throwing', () => {
    const json: unknown = JSON.parse(`{"v":${DEEP},"torg":"t","gateway":"g","seq":1,"sentAt":"2026-11-24T09:59:00Z","readings":[]}`);
    const r = validateEnvelope(json, limits);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('E_SCHEMA_VERSION');
    expect(!r.ok && r.detail.length).toBeLessThan(1000);
  });

  it('refuses a short unsupported version naming it', () => {
    const r = validateEnvelope({ v: 2 }, limits);
    expect(r).toEqual({ ok: false, reason: 'E_SCHEMA_VERSION', detail: 'v=2, supported: 1' });
  });
});

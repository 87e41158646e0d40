import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configKeyPath, parseConfig, readJsonConfig } from '../../../devices/contract/config-file.ts';
import { PlatformError } from '../../../devices/contract/errors.ts';

const doc = { torg: [{ id: 'asker-sentrum', zones: [{ id: 'mote-1' }, { name: 'no id' }] }] };

describe('configKeyPath', () => {
  it('names array items by id where they have one (ids)', () => {
    expect(configKeyPath(doc, ['torg', 0, 'zones', 0, 'capacity'])).toBe('torg[asker-sentrum].zones[mote-1].capacity');
    expect(configKeyPath(doc, ['torg', 0, 'zones', 1, 'capacity'])).toBe('torg[asker-sentrum].zones[1].capacity');
  });
  it('uses indices or dots when asked, and (root) for an empty path', () => {
    expect(configKeyPath(doc, ['torg', 0, 'zones', 0], 'indices')).toBe('torg[0].zones[0]');
    expect(configKeyPath(doc, ['torg', 0, 'zones', 0], 'dots')).toBe('torg.0.zones.0');
    expect(configKeyPath(doc, [])).toBe('(root)');
    expect(configKeyPath(doc, [], 'dots')).toBe('(root)');
  });
});

describe('parseConfig', () => {
  const schema = z.object({ items: z.array(z.object({ id: z.string(), n: z.number() })) });
  it('returns the parsed value', () => {
    expect(parseConfig(schema, { items: [{ id: 'a', n: 1 }] }, 'x')).toEqual({ items: [{ id: 'a', n: 1 }] });
  });
  it('throws E_CONFIG_INVALID naming source and key', () => {
    try {
      parseConfig(schema, { items: [{ id: 'a', n: 'one' }] }, 'my.json');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PlatformError);
      expect((e as PlatformError).code).toBe('E_CONFIG_INVALID');
      expect((e as Error).message).toMatch(/^E_CONFIG_INVALID: configuration is invalid: my\.json: items\[a\]\.n: /);
    }
  });
  it('lists at most 10 issues', () => {
    const bad = { items: Array.from({ length: 12 }, (_, i) => ({ id: `i${i}`, n: 'x' })) };
    try {
      parseConfig(schema, bad, 's');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message.split('; ')).toHaveLength(10);
      expect((e as Error).message).toContain('items[i9].n');
      expect((e as Error).message).not.toContain('items[i10]');
    }
  });
});

describe('readJsonConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-file-'));
  it('reads JSON', () => {
    const f = join(dir, 'ok.json');
    writeFileSync(f, '{"a":[1,2]}');
    expect(readJsonConfig(f)).toEqual({ a: [1, 2] });
  });
  it('a missing or non-JSON file is E_CONFIG_INVALID naming the file', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, '{"a":');
    expect(() => readJsonConfig(f)).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }) as Error);
    expect(() => readJsonConfig(f)).toThrow(`E_CONFIG_INVALID: configuration is invalid: ${f}: `);
    expect(() => readJsonConfig(join(dir, 'missing.json'))).toThrow(/missing\.json: ENOENT/);
  });
});

/**
 * Provisioning keys on SQLite with an injected clock. Expected values are written out by hand from
 * the key format in ingest/provisioning/key-store.ts and the calls made here.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { provisioningKeySchema } from '../../../devices/contract/provisioning.schema.ts';
import { SqliteProvisioningKeyStore } from '../../../ingest/provisioning/key-store.ts';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
let dir: string;
let now: number;
let store: SqliteProvisioningKeyStore;
const open = () => new SqliteProvisioningKeyStore({ path: join(dir, 'registry.db'), now: () => now });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'itorg-keys-'));
  now = T0;
  store = open();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteProvisioningKeyStore', () => {
  it('creates itpk_<torg>_<secret> once, valid for its torg only, and stores no plaintext', async () => {
    const { key, record } = await store.create('heggedal');
    expect(key).toMatch(/^itpk_heggedal_[A-Za-z0-9_-]{43}$/);
    expect(provisioningKeySchema.safeParse(key).success).toBe(true);
    expect(record).toEqual({ id: expect.stringMatching(/^[a-z2-7]{12}$/), torg: 'heggedal', status: 'active', createdAt: T0, disabledAt: null });
    expect(await store.verify('heggedal', key)).toBe('ok');
    // The same secret under another torg's prefix, or presented for another torg, is not a key.
    expect(await store.verify('tofte', key)).toBe('invalid');
    expect(await store.verify('tofte', key.replace('itpk_heggedal_', 'itpk_tofte_'))).toBe('invalid');
    const secret = key.slice('itpk_heggedal_'.length);
    const flipped = `${secret.startsWith('A') ? 'B' : 'A'}${secret.slice(1)}`;
    expect(await store.verify('heggedal', `itpk_heggedal_${flipped}`)).toBe('invalid');
    expect(await store.verify('heggedal', 'itpk_heggedal_short')).toBe('invalid');
    await store.close();
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).includes(Buffer.from(secret))).toBe(false);
    store = open();
    expect(await store.verify('heggedal', key)).toBe('ok');
  });

  it('a disabled key is recognised as disabled; disabling is idempotent and keeps the first instant', async () => {
    const { key, record } = await store.create('heggedal');
    now = T0 + 60_000;
    expect(await store.disable(record.id)).toEqual({ ...record, status: 'disabled', disabledAt: T0 + 60_000 });
    now = T0 + 120_000;
    expect((await store.disable(record.id))?.disabledAt).toBe(T0 + 60_000);
    expect(await store.verify('heggedal', key)).toBe('disabled');
    expect(await store.disable('aaaaaaaaaaaa')).toBeNull();
  });

  it('rotate disables every other active key of the torg, not those of other torg', async () => {
    const a1 = await store.create('heggedal');
    now += 1;
    const a2 = await store.create('heggedal');
    now += 1;
    const b = await store.create('tofte');
    now += 1;
    const rotated = await store.rotate('heggedal');
    expect(rotated.disabled).toEqual([a1.record.id, a2.record.id]);
    expect(rotated.record).toMatchObject({ torg: 'heggedal', status: 'active', createdAt: T0 + 3 });
    expect(await store.verify('heggedal', a1.key)).toBe('disabled');
    expect(await store.verify('heggedal', a2.key)).toBe('disabled');
    expect(await store.verify('heggedal', rotated.key)).toBe('ok');
    expect(await store.verify('tofte', b.key)).toBe('ok');
    // A second rotation disables only the key the first one created.
    now += 1;
    expect((await store.rotate('heggedal')).disabled).toEqual([rotated.record.id]);

    const list = await store.list('heggedal');
    expect(list.map((k) => k.status)).toEqual(['disabled', 'disabled', 'disabled', 'active']);
    expect(list.map((k) => k.disabledAt)).toEqual([T0 + 3, T0 + 3, T0 + 4, null]);
    expect((await store.list()).map((k) => k.torg)).toEqual(['heggedal', 'heggedal', 'tofte', 'heggedal', 'heggedal']);
  });

  it('refuses a torg that is not a slug', async () => {
    await expect(store.create('Heggedal/#')).rejects.toThrow();
    await expect(store.rotate('a_b')).rejects.toThrow();
  });
});

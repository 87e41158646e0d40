import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../ingest/api/route.ts';
import { SqliteTokenStore } from '../../../ingest/api/token-store.ts';

const T0 = Date.parse('2026-11-24T08:00:00.000Z');

describe('SqliteTokenStore', () => {
  let dir: string;
  let path: string;
  let clock: { now: number };
  const open: SqliteTokenStore[] = [];
  const store = () => {
    const s = new SqliteTokenStore({ path, now: () => clock.now });
    open.push(s);
    return s;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'token-store-'));
    path = join(dir, 'registry.sqlite');
    clock = { now: T0 };
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates itorg_<12 base32>_<43 base64url> tokens that verify to their name and role', async () => {
    const s = store();
    const { token, record } = await s.create({ name: 'skjerm', role: 'viewer' });
    expect(token).toMatch(/^itorg_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    expect(token.slice(6, 18)).toBe(record.id);
    expect(record).toEqual({ id: record.id, name: 'skjerm', role: 'viewer', createdAt: T0, expiresAt: null, revokedAt: null, lastUsedAt: null });
    expect(await s.verify(token)).toEqual({ tokenId: record.id, name: 'skjerm', role: 'viewer' });
  });

  it('refuses a wrong secret for a known id, an unknown id and malformed tokens', async () => {
    const s = store();
    const { token } = await s.create({ name: 'a', role: 'admin' });
    const secret = token.slice(19);
    const flipped = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
    expect(await s.verify(`${token.slice(0, 19)}${flipped}`)).toBeNull();
    expect(await s.verify(`itorg_aaaaaaaaaaaa_${secret}`)).toBeNull();
    expect(await s.verify(token.slice(0, -1))).toBeNull();
    expect(await s.verify('')).toBeNull();
    expect(await s.verify(`${token} `)).toBeNull();
  });

  it('stores only SHA-256 of the secret: the plaintext is in neither the database nor its WAL', async () => {
    const s = store();
    const { token } = await s.create({ name: 'drift', role: 'admin' });
    const secret = token.slice(19);
    await s.close();
    const files = [path, `${path}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f));
    const all = Buffer.concat(files);
    expect(all.includes(Buffer.from(secret))).toBe(false);
    expect(all.includes(Buffer.from(secret, 'base64url'))).toBe(false);
    // The hash is there: the test reads the file the store writes.
    expect(all.includes(createHash('sha256').update(secret).digest())).toBe(true);
    // And it survives reopening.
    expect((await store().verify(token))?.role).toBe('admin');
  });

  it('expires at expiresAt by the injected clock (valid 1 ms before, refused at the instant)', async () => {
    const s = store();
    const { token } = await s.create({ name: 'vikar', role: 'viewer', expiresAt: T0 + 3_600_000 });
    clock.now = T0 + 3_599_999;
    expect(await s.verify(token)).not.toBeNull();
    clock.now = T0 + 3_600_000;
    expect(await s.verify(token)).toBeNull();
  });

  it('refuses an expiry that is not in the future (epoch seconds by mistake) with E_API_INVALID_REQUEST', async () => {
    const s = store();
    const err = await s.create({ name: 'x', role: 'viewer', expiresAt: Math.floor(T0 / 1000) + 3600 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('E_API_INVALID_REQUEST');
    expect((err as ApiError).status).toBe(400);
    expect(await s.list()).toEqual([]);
  });

  it('revokes idempotently, keeping the first revocation time; unknown ids answer false', async () => {
    const s = store();
    const { token, record } = await s.create({ name: 'x', role: 'analyst' });
    clock.now = T0 + 1000;
    expect(await s.revoke(record.id)).toBe(true);
    clock.now = T0 + 2000;
    expect(await s.revoke(record.id)).toBe(true);
    expect(await s.verify(token)).toBeNull();
    expect((await s.list())[0]?.revokedAt).toBe(T0 + 1000);
    expect(await s.revoke('bbbbbbbbbbbb')).toBe(false);
  });

  it('records last use on first use and then at most once a minute, even with a clock near zero', async () => {
    clock.now = 5;
    const s = store();
    const { token } = await s.create({ name: 'x', role: 'viewer' });
    clock.now = 10;
    await s.verify(token);
    expect((await s.list())[0]?.lastUsedAt).toBe(10);
    clock.now = 10 + 59_999;
    await s.verify(token);
    expect((await s.list())[0]?.lastUsedAt).toBe(10);
    clock.now = 10 + 60_000;
    await s.verify(token);
    expect((await s.list())[0]?.lastUsedAt).toBe(60_010);
  });

  it('lists tokens in creation order without any secret', async () => {
    const s = store();
    const a = await s.create({ name: 'a', role: 'viewer' });
    clock.now = T0 + 1;
    const b = await s.create({ name: 'b', role: 'admin' });
    const list = await s.list();
    expect(list.map((r) => r.name)).toEqual(['a', 'b']);
    const text = JSON.stringify(list);
    expect(text).not.toContain(a.token.slice(19));
    expect(text).not.toContain(b.token.slice(19));
  });
});

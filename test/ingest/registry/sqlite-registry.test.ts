import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SqliteRegistry } from '../../../ingest/registry/sqlite-registry.ts';
import type { SqliteRegistryOptions } from '../../../ingest/registry/sqlite-registry.ts';
import { COUNTER, DOOR, MIN, T0, counterBirth, doorBirth, expectRegistryError, registryContract, samplePlaces } from './registry.contract.ts';

registryContract('SqliteRegistry', ({ dir, knownPlaces, now }) => new SqliteRegistry({ path: join(dir, 'registry.db'), knownPlaces, now }));

describe('SqliteRegistry storage', () => {
  let dir: string;
  let path: string;
  const open: { close(): unknown }[] = [];
  const registry = (over: Partial<SqliteRegistryOptions> = {}): SqliteRegistry => {
    const r = new SqliteRegistry({ path, knownPlaces: samplePlaces(), now: () => T0, ...over });
    open.push(r);
    return r;
  };
  const raw = (): Database.Database => {
    const db = new Database(path);
    open.push(db);
    return db;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-registry-'));
    path = join(dir, 'registry.db');
  });
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the schema at user_version 3 in WAL mode, and reopening does not migrate again', async () => {
    await registry().close();
    const db = raw();
    expect(MIGRATIONS).toHaveLength(3);
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    // The migration has no IF NOT EXISTS: running it twice would throw, so a clean reopen proves it was skipped.
    const again = registry();
    expect(await again.listTorg()).toHaveLength(7);
  });

  it('migrates a version-1 database in place: existing devices become enabled, with no interval override, not moved', async () => {
    const db = raw();
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.prepare("INSERT INTO torg (id, name, in_model) VALUES ('asker-sentrum', 'Asker sentrum', 1)").run();
    db.prepare("INSERT INTO gateway (torg, id, status, created_at) VALUES ('asker-sentrum', 'gw-asker', 'active', ?)").run(T0);
    db.prepare(
      `INSERT INTO device (id, torg, gateway, model, kinds, units, device_class, expected_interval_s, status, first_seen_at, last_seen_at)
       VALUES (?, 'asker-sentrum', 'gw-asker', 'milesight-vs133', '["counter"]', '{}', 'mains', 300, 'pending', ?, ?)`,
    ).run(COUNTER, T0, T0);
    db.close();
    const r = registry();
    expect(await r.getDevice(COUNTER)).toMatchObject({ id: COUNTER, torg: 'asker-sentrum', gateway: 'gw-asker', enabled: true, expectedIntervalS: 300, firstSeenAt: T0 });
    expect(await r.getDevice(COUNTER)).not.toHaveProperty('gatewayTorg');
    expect(raw().pragma('user_version', { simple: true })).toBe(3);
  });

  it('refuses a database written by a newer schema', () => {
    const db = raw();
    db.pragma('user_version = 99');
    db.close();
    let err: unknown;
    try {
      registry();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'E_REGISTRY_SCHEMA_NEWER', retriable: false });
  });

  it('keeps one record per hardware id when two connections announce the same device', async () => {
    const a = registry({ now: () => T0 });
    const b = registry({ now: () => T0 + MIN });
    await a.upsertGateway({ torg: 'asker-sentrum', id: 'gw-asker' });
    expect((await a.announceDevice(counterBirth())).created).toBe(true);
    const fromB = await b.announceDevice(counterBirth());
    expect(fromB.created).toBe(false);
    expect(fromB.device.firstSeenAt).toBe(T0);
    expect(fromB.device.lastSeenAt).toBe(T0 + MIN);
    expect(raw().prepare('SELECT COUNT(*) AS n FROM device').get()).toEqual({ n: 1 });
  });

  it('enforces one open assignment per device in the database itself', async () => {
    const r = registry();
    await r.upsertGateway({ torg: 'asker-sentrum', id: 'gw-asker' });
    await r.announceDevice(counterBirth());
    await r.assign({ device: COUNTER, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' }, at: T0 });
    const db = raw();
    expect(() =>
      db
        .prepare("INSERT INTO assignment (device, torg, place_type, zone, valid_from) VALUES (?, 'asker-sentrum', 'zone', 'sal', ?)")
        .run(COUNTER, T0 + MIN),
    ).toThrow(/UNIQUE/);
    expect(() =>
      db.prepare('UPDATE assignment SET valid_to = ? WHERE device = ?').run(T0 - 1, COUNTER),
    ).toThrow(/CHECK/);
  });

  it('reports a write blocked by another connection\'s lock as retriable E_REGISTRY_UNAVAILABLE', async () => {
    const r = registry({ busyTimeoutMs: 20 });
    await r.upsertGateway({ torg: 'asker-sentrum', id: 'gw-asker' });
    const db = raw();
    db.exec('BEGIN IMMEDIATE');
    await expectRegistryError(r.announceDevice(counterBirth()), 'E_REGISTRY_UNAVAILABLE', true);
    db.exec('ROLLBACK');
    expect((await r.announceDevice(counterBirth())).created).toBe(true);
  });

  it('keeps a torg that left the model, marked inModel: false, with its devices', async () => {
    const first = registry();
    await first.upsertGateway({ torg: 'heggedal', id: 'gw-heggedal' });
    await first.announceDevice(doorBirth());
    await first.close();
    const withoutHeggedal = new Map(samplePlaces());
    withoutHeggedal.delete('heggedal');
    const second = registry({ knownPlaces: withoutHeggedal });
    const torg = await second.listTorg();
    expect(torg).toHaveLength(7);
    expect(torg.find((t) => t.id === 'heggedal')?.inModel).toBe(false);
    expect(torg.filter((t) => t.inModel)).toHaveLength(6);
    expect((await second.getDevice(DOOR))?.torg).toBe('heggedal');
    await expectRegistryError(second.announceDevice(doorBirth()), 'E_REGISTRY_UNKNOWN_TORG');
  });
});

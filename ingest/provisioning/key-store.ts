/**
 * Per-torg provisioning keys (issue 4 "Auto-provisioning"): a new gateway proves it belongs to a
 * torg with its torg's key; keys can be disabled and rotated, and a disabled key gets a clear refusal
 * (E_PROVISION_KEY_DISABLED, devices/contract/provisioning.schema.ts) rather than "invalid".
 *
 * A key is `itpk_<torg>_<secret>` (the contract's provisioningKeySchema): the secret is 32 random
 * bytes in base64url; only SHA-256(secret) is stored. A fast hash is right for a 256-bit random
 * secret, which cannot be guessed (same reasoning as ingest/api/token-store.ts). Verification
 * compares the presented hash with every key of the torg in constant time and without stopping at
 * the first match, so timing tells nothing about which key (if any) matched.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { slugSchema } from '../../devices/contract/reading.schema.ts';
import { openSqlite } from '../sqlite-database.ts';

export const KEY_STATUSES = ['active', 'disabled'] as const;

export const provisioningKeyRecordSchema = z
  .object({
    id: z.string().regex(/^[a-z2-7]{12}$/),
    torg: slugSchema,
    status: z.enum(KEY_STATUSES),
    createdAt: z.number().int().nonnegative(),
    disabledAt: z.number().int().nonnegative().nullable(),
  })
  .strict()
  .meta({ id: 'ProvisioningKey' });
export type ProvisioningKeyRecord = z.infer<typeof provisioningKeyRecordSchema>;

export type KeyVerdict = 'ok' | 'invalid' | 'disabled';

export interface ProvisioningKeyStore {
  /** A new active key for the torg; the plaintext is returned here only. */
  create(torg: string): Promise<{ key: string; record: ProvisioningKeyRecord }>;
  /** 'disabled' only for a key that was valid for this torg and has been disabled. */
  verify(torg: string, key: string): Promise<KeyVerdict>;
  /** Idempotent (keeps the first disabledAt); null when no such key. */
  disable(id: string): Promise<ProvisioningKeyRecord | null>;
  /** A new active key; every other active key of the torg disabled in the same transaction. */
  rotate(torg: string): Promise<{ key: string; record: ProvisioningKeyRecord; disabled: string[] }>;
  /** Ordered by creation, then id. */
  list(torg?: string): Promise<ProvisioningKeyRecord[]>;
  close(): Promise<void>;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
function newId(): string {
  let s = '';
  for (const b of randomBytes(12)) s += BASE32[b & 31];
  return s;
}
function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
/** Torg slugs have no '_' (SLUG_PATTERN), so the first '_' after the prefix ends the torg. */
const KEY_PATTERN = /^itpk_([a-z0-9][a-z0-9-]{0,62})_([A-Za-z0-9_-]{43})$/;

interface Row {
  id: string;
  torg: string;
  secret_hash: Buffer;
  status: string;
  created_at: number;
  disabled_at: number | null;
}
function toRecord(r: Row): ProvisioningKeyRecord {
  return provisioningKeyRecordSchema.parse({ id: r.id, torg: r.torg, status: r.status, createdAt: r.created_at, disabledAt: r.disabled_at });
}

export interface SqliteKeyStoreOptions {
  /** Database file (the registry's file by default: one file to back up); `:memory:` in unit tests. */
  path: string;
  now: () => number;
}

/** Own table in a SQLite file; WAL and FULL sync as the registry (ingest/registry/sqlite-registry.ts). */
export class SqliteProvisioningKeyStore implements ProvisioningKeyStore {
  private readonly db: Database.Database;

  constructor(private readonly opts: SqliteKeyStoreOptions) {
    this.db = openSqlite(opts.path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS provisioning_key (
      id TEXT PRIMARY KEY,
      torg TEXT NOT NULL,
      secret_hash BLOB NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
      created_at INTEGER NOT NULL,
      disabled_at INTEGER,
      CHECK ((status = 'active') = (disabled_at IS NULL))
    ) STRICT;
    CREATE INDEX IF NOT EXISTS provisioning_key_by_torg ON provisioning_key (torg, created_at, id);`);
  }

  private insert(torg: string): { key: string; record: ProvisioningKeyRecord } {
    const t = slugSchema.parse(torg);
    const id = newId();
    const secret = randomBytes(32).toString('base64url');
    this.db
      .prepare("INSERT INTO provisioning_key (id, torg, secret_hash, status, created_at) VALUES (?, ?, ?, 'active', ?)")
      .run(id, t, hashSecret(secret), this.opts.now());
    return { key: `itpk_${t}_${secret}`, record: toRecord(this.db.prepare('SELECT * FROM provisioning_key WHERE id = ?').get(id) as Row) };
  }

  async create(torg: string): Promise<{ key: string; record: ProvisioningKeyRecord }> {
    return this.insert(torg);
  }

  async verify(torg: string, key: string): Promise<KeyVerdict> {
    const m = KEY_PATTERN.exec(key);
    if (!m || m[1] !== torg) return 'invalid';
    const presented = hashSecret(m[2]!);
    const rows = this.db.prepare('SELECT * FROM provisioning_key WHERE torg = ?').all(torg) as Row[];
    let verdict: KeyVerdict = 'invalid';
    for (const row of rows) {
      if (timingSafeEqual(row.secret_hash, presented)) verdict = row.status === 'active' ? 'ok' : 'disabled';
    }
    return verdict;
  }

  async disable(id: string): Promise<ProvisioningKeyRecord | null> {
    this.db.prepare("UPDATE provisioning_key SET status = 'disabled', disabled_at = ? WHERE id = ? AND status = 'active'").run(this.opts.now(), id);
    const row = this.db.prepare('SELECT * FROM provisioning_key WHERE id = ?').get(id) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  async rotate(torg: string): Promise<{ key: string; record: ProvisioningKeyRecord; disabled: string[] }> {
    const t = slugSchema.parse(torg);
    return this.db.transaction(() => {
      const old = (this.db.prepare("SELECT id FROM provisioning_key WHERE torg = ? AND status = 'active' ORDER BY created_at, id").all(t) as { id: string }[]).map((r) => r.id);
      this.db.prepare("UPDATE provisioning_key SET status = 'disabled', disabled_at = ? WHERE torg = ? AND status = 'active'").run(this.opts.now(), t);
      return { ...this.insert(t), disabled: old };
    })();
  }

  async list(torg?: string): Promise<ProvisioningKeyRecord[]> {
    const rows =
      torg === undefined
        ? this.db.prepare('SELECT * FROM provisioning_key ORDER BY created_at, id').all()
        : this.db.prepare('SELECT * FROM provisioning_key WHERE torg = ? ORDER BY created_at, id').all(torg);
    return (rows as Row[]).map(toRecord);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

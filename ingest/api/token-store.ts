/**
 * API tokens (issue 4 "Security"): created with a role, shown once, stored hashed, revocable.
 *
 * A token is `itorg_<id>_<secret>`: the id (public, 12 base32 chars) finds the row without scanning,
 * the secret is 32 random bytes (256 bits) in base64url. Only SHA-256(secret) is stored. A slow
 * password hash (scrypt, argon2) protects *low-entropy* secrets against guessing; a 256-bit random
 * secret cannot be guessed, so a fast hash loses nothing and keeps every request cheap (the same
 * reasoning as GitHub's token scheme). Comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { openSqlite } from '../sqlite-database.ts';
import { ApiError, ROLES, type Principal, type Role } from './route.ts';

export const tokenRecordSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    createdAt: z.number().int(),
    expiresAt: z.number().int().nullable(),
    revokedAt: z.number().int().nullable(),
    lastUsedAt: z.number().int().nullable(),
  })
  .meta({ id: 'ApiToken' });
export type TokenRecord = z.infer<typeof tokenRecordSchema>;

export const tokenCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    role: z.enum(ROLES),
    /** Epoch ms; omitted = no expiry. */
    expiresAt: z.number().int().positive().optional(),
  })
  .strict();
export type TokenCreate = z.infer<typeof tokenCreateSchema>;

export interface TokenStore {
  /** Returns the plaintext token once; only its hash is kept. */
  create(input: TokenCreate): Promise<{ token: string; record: TokenRecord }>;
  /** The principal for a presented token, or null (unknown, wrong secret, revoked, expired). */
  verify(token: string): Promise<Principal | null>;
  list(): Promise<TokenRecord[]>;
  /** Idempotent; false when no such token. */
  revoke(id: string): Promise<boolean>;
  close(): Promise<void>;
}

const TOKEN_PATTERN = /^itorg_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function newId(): string {
  const bytes = randomBytes(12);
  let s = '';
  for (const b of bytes) s += BASE32[b & 31];
  return s;
}
function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

interface Row {
  id: string;
  name: string;
  role: string;
  secret_hash: Buffer;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

function toRecord(r: Row): TokenRecord {
  return tokenRecordSchema.parse({
    id: r.id,
    name: r.name,
    role: r.role,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  });
}

/**
 * Tokens in a SQLite file (the registry's file by default: one file to back up). Own table, created
 * if missing; WAL and FULL sync as the registry (ingest/registry/sqlite-registry.ts).
 */
export class SqliteTokenStore implements TokenStore {
  private readonly db: Database.Database;
  /** last_used_at is written at most once a minute per token: a busy live page must not fsync per request. */
  private readonly lastTouched = new Map<string, number>();

  constructor(private readonly opts: { path: string; now: () => number }) {
    this.db = openSqlite(opts.path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS api_token (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
      secret_hash BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER,
      revoked_at INTEGER,
      last_used_at INTEGER
    ) STRICT`);
  }

  async create(input: TokenCreate): Promise<{ token: string; record: TokenRecord }> {
    const { name, role, expiresAt } = tokenCreateSchema.parse(input);
    const now = this.opts.now();
    // An expiry in the past is a mistake, most often epoch seconds where milliseconds are meant.
    if (expiresAt !== undefined && expiresAt <= now)
      throw ApiError.of('E_API_INVALID_REQUEST', { in: 'body', issues: [{ path: 'expiresAt', message: 'must be in the future (epoch milliseconds)' }] });
    const id = newId();
    const secret = randomBytes(32).toString('base64url');
    this.db
      .prepare('INSERT INTO api_token (id, name, role, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, name, role, hashSecret(secret), now, expiresAt ?? null);
    const row = this.db.prepare('SELECT * FROM api_token WHERE id = ?').get(id) as Row;
    return { token: `itorg_${id}_${secret}`, record: toRecord(row) };
  }

  async verify(token: string): Promise<Principal | null> {
    const m = TOKEN_PATTERN.exec(token);
    if (!m) return null;
    const row = this.db.prepare('SELECT * FROM api_token WHERE id = ?').get(m[1]) as Row | undefined;
    if (!row) return null;
    if (!timingSafeEqual(row.secret_hash, hashSecret(m[2]!))) return null;
    const now = this.opts.now();
    if (row.revoked_at !== null) return null;
    if (row.expires_at !== null && now >= row.expires_at) return null;
    const last = this.lastTouched.get(row.id);
    if (last === undefined || now - last >= 60_000) {
      this.lastTouched.set(row.id, now);
      this.db.prepare('UPDATE api_token SET last_used_at = ? WHERE id = ?').run(now, row.id);
    }
    return { tokenId: row.id, name: row.name, role: row.role as Role };
  }

  async list(): Promise<TokenRecord[]> {
    return (this.db.prepare('SELECT * FROM api_token ORDER BY created_at, id').all() as Row[]).map(toRecord);
  }

  async revoke(id: string): Promise<boolean> {
    const r = this.db.prepare('UPDATE api_token SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?').run(this.opts.now(), id);
    return r.changes > 0;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

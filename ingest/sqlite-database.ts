/**
 * Opens one of the ingest's SQLite files (registry, API tokens, provisioning keys, broker users) with
 * the settings they all need:
 * - WAL, so readers (API, CLI) do not block the ingest's writes (https://www.sqlite.org/wal.html);
 * - `synchronous=FULL`, because a record an admin was told is saved must survive a power cut
 *   (https://www.sqlite.org/pragma.html#pragma_synchronous); these writes are rare, so the fsync per
 *   commit costs nothing that matters;
 * - `busy_timeout`, because the CLI may open the same file while the ingest writes: a writer waits for
 *   the lock instead of failing at once (https://www.sqlite.org/pragma.html#pragma_busy_timeout);
 * - `foreign_keys` when asked: it is off by default in every connection
 *   (https://www.sqlite.org/foreignkeys.html#fk_enable).
 */
import Database from 'better-sqlite3';

export interface OpenSqliteOptions {
  /** How long a writer waits for the lock; 5000 ms when absent. */
  busyTimeoutMs?: number | undefined;
  foreignKeys?: boolean;
}

export function openSqlite(path: string, opts: OpenSqliteOptions = {}): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000))}`);
    if (opts.foreignKeys === true) db.pragma('foreign_keys = ON');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

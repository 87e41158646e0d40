/**
 * Broker credentials (issue 4 "Security"): who may log in to Mosquitto, kept as mosquitto_passwd
 * hashes (never plaintext at rest), and the step that turns them into the broker's password and ACL
 * files and makes the running broker load them.
 *
 * Principals:
 *   gateway   user `gw-<torg>-<gateway>`, a random password issued at provisioning (sent to the
 *             gateway once), revocable (gateway disabled) and replaced when the gateway provisions
 *             again (a gateway that lost its disk gets a new password; the old one stops working).
 *   ingest, admin  service users, passwords from the services' configuration.
 *   bootstrap the user shared by unprovisioned gateways (ingest/broker-acl/mosquitto-acl.ts
 *             bootstrapRules: its own request/response topics only).
 *
 * Mosquitto re-reads password_file and acl_file on SIGHUP (mosquitto(8), "SIGNALS") and, as
 * test/ingest/provisioning shows on 2.0.11, disconnects a connected client whose user is gone.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type Database from 'better-sqlite3';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';
import { slugSchema } from '../../devices/contract/reading.schema.ts';
import { hashPasswords, writeBrokerAuthFiles, type BrokerAuthFiles, type HashedPrincipal } from '../broker-acl/mosquitto-acl.ts';
import { openSqlite } from '../sqlite-database.ts';

export const SERVICE_ROLES = ['ingest', 'admin', 'bootstrap'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/** The broker username of a gateway; the contract's response allows at most 64 characters. */
export function gatewayUsername(torg: string, gateway: string): string {
  return `gw-${torg}-${gateway}`;
}

/** Thrown when a gateway cannot get a broker user (name too long, or taken by another torg/gateway pair). */
export class CredentialConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialConflictError';
  }
}

/**
 * 24 random bytes in base64url: 192 bits, no ':' (the password-file separator) and no characters
 * that need quoting in a gateway's env file.
 */
function newBrokerPassword(): string {
  return randomBytes(24).toString('base64url');
}

export interface BrokerCredentialStore {
  /** Creates or replaces a service user's password (hashed before it is stored). */
  setService(input: { role: ServiceRole; username: string; password: string }): Promise<void>;
  /**
   * Issues a new random password for the gateway's user (created active, or replaced and re-activated);
   * returns the plaintext, which is not kept.
   */
  issueGateway(torg: string, gateway: string): Promise<{ username: string; password: string }>;
  /** Revokes (false) or restores (true) the gateway's current password; false when it has no user. */
  setGatewayEnabled(torg: string, gateway: string, enabled: boolean): Promise<boolean>;
  /** Active principals with their hashes, services first, then gateways by torg and id. */
  principals(): Promise<HashedPrincipal[]>;
  close(): Promise<void>;
}

interface Row {
  username: string;
  role: string;
  torg: string | null;
  gateway: string | null;
  hash: string;
  status: string;
}

export interface SqliteBrokerCredentialStoreOptions {
  /** Database file (the registry's file by default); `:memory:` in unit tests. */
  path: string;
  now: () => number;
  /** Path of mosquitto_passwd (default /usr/bin/mosquitto_passwd). */
  mosquittoPasswd?: string;
}

/** Own table in a SQLite file; WAL and FULL sync as the registry (ingest/registry/sqlite-registry.ts). */
export class SqliteBrokerCredentialStore implements BrokerCredentialStore {
  private readonly db: Database.Database;

  constructor(private readonly opts: SqliteBrokerCredentialStoreOptions) {
    this.db = openSqlite(opts.path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS broker_user (
      username TEXT PRIMARY KEY,
      role TEXT NOT NULL CHECK (role IN ('gateway', 'ingest', 'admin', 'bootstrap')),
      torg TEXT,
      gateway TEXT,
      hash TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      CHECK ((role = 'gateway') = (torg IS NOT NULL AND gateway IS NOT NULL))
    ) STRICT;
    CREATE UNIQUE INDEX IF NOT EXISTS broker_user_gateway ON broker_user (torg, gateway) WHERE role = 'gateway';`);
  }

  private async hash(username: string, password: string): Promise<string> {
    const hashes = await hashPasswords([{ username, password }], this.opts.mosquittoPasswd === undefined ? {} : { mosquittoPasswd: this.opts.mosquittoPasswd });
    return hashes.get(username)!;
  }

  async setService(input: { role: ServiceRole; username: string; password: string }): Promise<void> {
    const role = z.enum(SERVICE_ROLES).parse(input.role);
    const hash = await this.hash(input.username, input.password);
    const now = this.opts.now();
    this.db.transaction(() => {
      const existing = this.db.prepare('SELECT * FROM broker_user WHERE username = ?').get(input.username) as Row | undefined;
      if (existing && existing.role !== role) throw new PlatformError('E_CONFIG_INVALID', `broker user ${input.username} already exists with role ${existing.role}`);
      this.db
        .prepare(
          `INSERT INTO broker_user (username, role, hash, status, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?)
           ON CONFLICT (username) DO UPDATE SET hash = excluded.hash, status = 'active', updated_at = excluded.updated_at`,
        )
        .run(input.username, role, hash, now, now);
    })();
  }

  async issueGateway(torg: string, gateway: string): Promise<{ username: string; password: string }> {
    slugSchema.parse(torg);
    slugSchema.parse(gateway);
    const username = gatewayUsername(torg, gateway);
    if (username.length > 64) throw new CredentialConflictError(`broker username ${username} is longer than 64 characters; shorten the gateway id`);
    const password = newBrokerPassword();
    const hash = await this.hash(username, password);
    const now = this.opts.now();
    this.db.transaction(() => {
      const existing = this.db.prepare('SELECT * FROM broker_user WHERE username = ?').get(username) as Row | undefined;
      // `gw-a-b-c` is both torg a-b/gateway c and torg a/gateway b-c: the first to provision keeps it.
      if (existing && (existing.role !== 'gateway' || existing.torg !== torg || existing.gateway !== gateway)) {
        throw new CredentialConflictError(`broker username ${username} already belongs to ${existing.role === 'gateway' ? `${existing.torg}/${existing.gateway}` : existing.role}`);
      }
      this.db
        .prepare(
          `INSERT INTO broker_user (username, role, torg, gateway, hash, status, created_at, updated_at) VALUES (?, 'gateway', ?, ?, ?, 'active', ?, ?)
           ON CONFLICT (username) DO UPDATE SET hash = excluded.hash, status = 'active', updated_at = excluded.updated_at`,
        )
        .run(username, torg, gateway, hash, now, now);
    })();
    return { username, password };
  }

  async setGatewayEnabled(torg: string, gateway: string, enabled: boolean): Promise<boolean> {
    const r = this.db
      .prepare("UPDATE broker_user SET status = ?, updated_at = ? WHERE role = 'gateway' AND torg = ? AND gateway = ?")
      .run(enabled ? 'active' : 'revoked', this.opts.now(), torg, gateway);
    return r.changes > 0;
  }

  async principals(): Promise<HashedPrincipal[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM broker_user WHERE status = 'active'
         ORDER BY CASE role WHEN 'admin' THEN 0 WHEN 'ingest' THEN 1 WHEN 'bootstrap' THEN 2 ELSE 3 END, torg, gateway, username`,
      )
      .all() as Row[];
    return rows.map((r): HashedPrincipal =>
      r.role === 'gateway'
        ? { role: 'gateway', username: r.username, torg: r.torg!, gateway: r.gateway!, hash: r.hash }
        : { role: z.enum(SERVICE_ROLES).parse(r.role), username: r.username, hash: r.hash },
    );
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Files and reload

/**
 * How the running broker is told to re-read its files. Built by the caller from its validated
 * config (ingest/service.ts), so a type rather than a schema.
 */
export type BrokerReload =
  | { pidFile: string }
  /** e.g. ['systemctl', 'reload', 'mosquitto'] (Debian's unit sends SIGHUP). */
  | { command: string[] }
  /** Files only: for writing the initial files before the broker starts. */
  | { none: true };

export async function reloadBroker(how: BrokerReload): Promise<void> {
  if ('none' in how) return;
  if ('pidFile' in how) {
    const text = (await readFile(how.pidFile, 'utf8')).trim();
    const pid = Number(text);
    if (!Number.isInteger(pid) || pid <= 1) throw new PlatformError('E_MQTT_UNAVAILABLE', `broker pid file ${how.pidFile} holds no pid`);
    try {
      process.kill(pid, 'SIGHUP');
    } catch (error) {
      throw new PlatformError('E_MQTT_UNAVAILABLE', `cannot signal broker pid ${pid}: ${(error as Error).message}`, { cause: error });
    }
    return;
  }
  const [bin, ...args] = how.command;
  await new Promise<void>((resolve, reject) => {
    execFile(bin!, args, { timeout: 30_000 }, (error, _out, stderr) => {
      if (error) reject(new PlatformError('E_MQTT_UNAVAILABLE', `broker reload command failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve();
    });
  });
}

/**
 * The broker applies a SIGHUP in its main loop, a moment after the signal. Provisioning answers a
 * gateway only once the broker accepts the new password, so the gateway's first connect cannot race
 * the reload: this connects with the credential until CONNACK is success or `timeoutMs` passes.
 */
export async function awaitBrokerAccepts(opts: { url: string; username: string; password: string; timeoutMs?: number; intervalMs?: number; ca?: Buffer }): Promise<boolean> {
  const intervalMs = opts.intervalMs ?? 50;
  // Counted in attempts rather than against a clock: each refused attempt returns at once on loopback.
  const attempts = Math.max(1, Math.ceil((opts.timeoutMs ?? 5_000) / intervalMs));
  for (let attempt = 1; ; attempt++) {
    try {
      const c = await mqtt.connectAsync(opts.url, {
        username: opts.username,
        password: opts.password,
        clientId: `probe-${randomBytes(6).toString('hex')}`,
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        clean: true,
      });
      await c.endAsync();
      return true;
    } catch {
      if (attempt >= attempts) return false;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export interface BrokerAuthSyncOptions {
  store: BrokerCredentialStore;
  /** Directory of `passwd` and `acl` (the broker's config points at them: securityConfigLines). */
  dir: string;
  reload: BrokerReload;
  mosquittoPasswd?: string;
  logger?: Logger;
}

/**
 * Writes the files from the store and reloads the broker. Calls are serialised: two provisionings at
 * once must not interleave their renames, and the last write must reflect the last store change.
 */
export class BrokerAuthSync {
  private chain: Promise<unknown> = Promise.resolve();
  constructor(private readonly opts: BrokerAuthSyncOptions) {}

  sync(): Promise<BrokerAuthFiles> {
    const run = async (): Promise<BrokerAuthFiles> => {
      const principals = await this.opts.store.principals();
      const files = await writeBrokerAuthFiles(this.opts.dir, principals, this.opts.mosquittoPasswd === undefined ? {} : { mosquittoPasswd: this.opts.mosquittoPasswd });
      await reloadBroker(this.opts.reload);
      this.opts.logger?.info({ users: principals.length, dir: this.opts.dir }, 'broker auth files written and broker reloaded');
      return files;
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

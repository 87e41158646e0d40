/**
 * The registry on SQLite (better-sqlite3), the embedded default of issue 4.
 *
 * - Opened by openSqlite (ingest/sqlite-database.ts, which says why): WAL, `synchronous=FULL`,
 *   `busy_timeout` and, here, `foreign_keys`. A write still locked out after the busy timeout
 *   (default 5 s) is the retriable E_REGISTRY_UNAVAILABLE.
 * - Schema versions live in `PRAGMA user_version`; each migration runs in one transaction with its
 *   version bump, so a crash mid-migration leaves the previous version intact.
 * - The database enforces the history rules too (one open assignment per device by a partial unique
 *   index, validTo > validFrom by CHECK), so a second writer or a bug cannot corrupt the history.
 *
 * better-sqlite3 is synchronous; the methods are async to satisfy the `Registry` interface that a
 * networked store can implement as well.
 */
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { z } from 'zod';
import { deviceIdSchema } from '../../devices/contract/reading.schema.ts';
import { describeIssues } from '../../devices/contract/validate.ts';
import { openSqlite } from '../sqlite-database.ts';
import { RegistryError } from './registry-errors.ts';
import {
  GATEWAY_STATUSES,
  assignInputSchema,
  assignmentRecordSchema,
  deviceAnnounceSchema,
  deviceConfigInputSchema,
  deviceFilterSchema,
  deviceRecordSchema,
  gatewayInputSchema,
  gatewayRecordSchema,
  instantSchema,
  torgRecordSchema,
} from './registry.ts';
import type {
  AnnounceResult,
  AssignInput,
  AssignmentRecord,
  DeviceAnnounce,
  DeviceConfigInput,
  DeviceFilter,
  DeviceRecord,
  GatewayInput,
  GatewayRecord,
  GatewayStatus,
  KnownPlaces,
  Place,
  Registry,
  TorgRecord,
} from './registry.ts';

export interface SqliteRegistryOptions {
  /** Database file; `:memory:` for a throwaway registry. */
  path: string;
  /** Torg, zones, entrances and lines of the torg model (knownPlacesFromTorgConfig). */
  knownPlaces: KnownPlaces;
  /** Epoch ms; injected so that tests place assignments at exact instants. */
  now: () => number;
  logger?: Logger;
  /** How long a write waits for another connection's lock before E_REGISTRY_UNAVAILABLE (default 5000 ms). */
  busyTimeoutMs?: number;
}

/**
 * Migration n (0-based) takes the database from user_version n to n+1. Append only: a shipped
 * migration is never edited, since databases in the field have already run it.
 * STRICT tables refuse a value of the wrong type instead of storing it (https://www.sqlite.org/stricttables.html).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE torg (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    in_model INTEGER NOT NULL CHECK (in_model IN (0, 1))
  ) STRICT;

  CREATE TABLE gateway (
    torg TEXT NOT NULL REFERENCES torg (id),
    id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    credentials_ref TEXT,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER,
    PRIMARY KEY (torg, id)
  ) STRICT;

  CREATE TABLE device (
    id TEXT PRIMARY KEY,
    torg TEXT NOT NULL,
    gateway TEXT NOT NULL,
    model TEXT NOT NULL,
    kinds TEXT NOT NULL,
    units TEXT NOT NULL,
    device_class TEXT NOT NULL CHECK (device_class IN ('mains', 'battery')),
    expected_interval_s INTEGER,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'decommissioned')),
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    FOREIGN KEY (torg, gateway) REFERENCES gateway (torg, id)
  ) STRICT;
  CREATE INDEX device_by_torg_status ON device (torg, status, first_seen_at, id);

  CREATE TABLE assignment (
    device TEXT NOT NULL REFERENCES device (id),
    torg TEXT NOT NULL REFERENCES torg (id),
    place_type TEXT NOT NULL CHECK (place_type IN ('zone', 'entrance')),
    zone TEXT,
    entrance TEXT,
    line TEXT,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER,
    PRIMARY KEY (device, valid_from),
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    CHECK ((place_type = 'zone' AND zone IS NOT NULL AND entrance IS NULL AND line IS NULL)
        OR (place_type = 'entrance' AND zone IS NULL AND entrance IS NOT NULL AND line IS NOT NULL))
  ) STRICT;
  -- At most one open assignment per device (https://www.sqlite.org/partialindex.html).
  CREATE UNIQUE INDEX assignment_one_open ON assignment (device) WHERE valid_to IS NULL;
  `,
  // Per-device config set by an admin (issue 4 "Per-device config"). The override is kept apart from
  // the interval the device reports, because every birth replaces the reported one.
  `
  ALTER TABLE device ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1));
  ALTER TABLE device ADD COLUMN interval_override_s INTEGER CHECK (interval_override_s IS NULL OR interval_override_s > 0);
  `,
  // An admin's move to another torg (AssignInput.moveTorg). torg/gateway keep naming the gateway that
  // announced the device (their foreign key to gateway holds); moved_to_torg is the torg the device
  // belongs to until a gateway of that torg announces it, which clears it. ADD COLUMN keeps the
  // table (a rebuild would need foreign_keys off, https://www.sqlite.org/lang_altertable.html#otheralter).
  `
  ALTER TABLE device ADD COLUMN moved_to_torg TEXT REFERENCES torg (id);
  `,
];

interface TorgRow {
  id: string;
  name: string;
  in_model: number;
}
interface GatewayRow {
  torg: string;
  id: string;
  status: string;
  credentials_ref: string | null;
  created_at: number;
  last_seen_at: number | null;
}
interface DeviceRow {
  id: string;
  torg: string;
  gateway: string;
  model: string;
  kinds: string;
  units: string;
  device_class: string;
  expected_interval_s: number | null;
  status: string;
  first_seen_at: number;
  last_seen_at: number;
  enabled: number;
  interval_override_s: number | null;
  moved_to_torg: string | null;
}
interface AssignmentRow {
  device: string;
  torg: string;
  place_type: string;
  zone: string | null;
  entrance: string | null;
  line: string | null;
  valid_from: number;
  valid_to: number | null;
}

/** SQLite result codes that describe the moment, not the data (https://www.sqlite.org/rescode.html). */
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL)/;

function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new RegistryError('E_REGISTRY_INVALID_INPUT', `${what}: ${describeIssues(r.error)}`);
}

/** Rows were written by this code through CHECK-ed STRICT tables; parsing them still catches a hand-edited file. */
function toTorg(r: TorgRow): TorgRecord {
  return torgRecordSchema.parse({ id: r.id, name: r.name, inModel: r.in_model === 1 });
}
function toGateway(r: GatewayRow): GatewayRecord {
  return gatewayRecordSchema.parse({
    torg: r.torg,
    id: r.id,
    status: r.status,
    credentialsRef: r.credentials_ref,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
  });
}
/** The torg the device belongs to (DeviceRecord.torg). */
function torgOf(r: DeviceRow): string {
  return r.moved_to_torg ?? r.torg;
}
function toDevice(r: DeviceRow): DeviceRecord {
  return deviceRecordSchema.parse({
    id: r.id,
    torg: torgOf(r),
    gateway: r.gateway,
    ...(r.moved_to_torg !== null ? { gatewayTorg: r.torg } : {}),
    model: r.model,
    kinds: JSON.parse(r.kinds) as unknown,
    units: JSON.parse(r.units) as unknown,
    deviceClass: r.device_class,
    expectedIntervalS: r.interval_override_s ?? r.expected_interval_s,
    status: r.status,
    enabled: r.enabled === 1,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
  });
}
function toAssignment(r: AssignmentRow): AssignmentRecord {
  const place: Place = r.place_type === 'zone' ? { type: 'zone', zone: r.zone ?? '' } : { type: 'entrance', entrance: r.entrance ?? '', line: r.line ?? '' };
  return assignmentRecordSchema.parse({ device: r.device, torg: r.torg, place, validFrom: r.valid_from, validTo: r.valid_to });
}

function samePlace(row: AssignmentRow, torg: string, place: Place): boolean {
  if (row.torg !== torg || row.place_type !== place.type) return false;
  return place.type === 'zone' ? row.zone === place.zone : row.entrance === place.entrance && row.line === place.line;
}

export class SqliteRegistry implements Registry {
  private readonly db: Database.Database;
  private readonly places: KnownPlaces;
  private readonly now: () => number;
  private closed = false;

  private readonly stmt: {
    listTorg: Database.Statement<[], TorgRow>;
    getGateway: Database.Statement<[string, string], GatewayRow>;
    listGateways: Database.Statement<[], GatewayRow>;
    listGatewaysOfTorg: Database.Statement<[string], GatewayRow>;
    insertGateway: Database.Statement<[string, string, string | null, number]>;
    updateGatewayCredentials: Database.Statement<[string, string, string]>;
    gatewaySeen: Database.Statement<[number, string, string]>;
    gatewayStatus: Database.Statement<[string, string, string]>;
    getDevice: Database.Statement<[string], DeviceRow>;
    listDevices: Database.Statement<{ torg: string | null; status: string | null }, DeviceRow>;
    insertDevice: Database.Statement<unknown[]>;
    updateDevice: Database.Statement<unknown[]>;
    deviceStatus: Database.Statement<[string, string]>;
    moveDevice: Database.Statement<{ id: string; torg: string }>;
    deviceConfig: Database.Statement<{ id: string; enabled: number | null; setInterval: number; interval: number | null }>;
    lastAssignment: Database.Statement<[string], AssignmentRow>;
    assignmentAt: Database.Statement<[string, number, number], AssignmentRow>;
    history: Database.Statement<[string], AssignmentRow>;
    allAssignments: Database.Statement<[], AssignmentRow>;
    closeOpen: Database.Statement<[number, string]>;
    insertAssignment: Database.Statement<unknown[]>;
  };
  private readonly assignTx: (input: AssignInput & { at: number }) => AssignmentRow;
  private readonly decommissionTx: (device: string, at: number) => DeviceRow;
  private readonly announceTx: (input: z.output<typeof deviceAnnounceSchema>, at: number) => AnnounceResult;

  constructor(opts: SqliteRegistryOptions) {
    this.places = opts.knownPlaces;
    this.now = opts.now;
    this.db = guard(() => openSqlite(opts.path, { busyTimeoutMs: opts.busyTimeoutMs, foreignKeys: true }));
    try {
      this.migrate(opts.logger);
      this.syncTorg();
    } catch (err) {
      this.db.close();
      throw err;
    }

    const db = this.db;
    this.stmt = {
      listTorg: db.prepare('SELECT id, name, in_model FROM torg ORDER BY id'),
      getGateway: db.prepare('SELECT * FROM gateway WHERE torg = ? AND id = ?'),
      listGateways: db.prepare('SELECT * FROM gateway ORDER BY torg, id'),
      listGatewaysOfTorg: db.prepare('SELECT * FROM gateway WHERE torg = ? ORDER BY id'),
      insertGateway: db.prepare("INSERT INTO gateway (torg, id, status, credentials_ref, created_at) VALUES (?, ?, 'active', ?, ?)"),
      updateGatewayCredentials: db.prepare('UPDATE gateway SET credentials_ref = ? WHERE torg = ? AND id = ?'),
      // MAX: a late or replayed sighting never moves last-seen backwards.
      gatewaySeen: db.prepare('UPDATE gateway SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE torg = ? AND id = ?'),
      gatewayStatus: db.prepare('UPDATE gateway SET status = ? WHERE torg = ? AND id = ?'),
      getDevice: db.prepare('SELECT * FROM device WHERE id = ?'),
      listDevices: db.prepare(
        'SELECT * FROM device WHERE (:torg IS NULL OR COALESCE(moved_to_torg, torg) = :torg) AND (:status IS NULL OR status = :status) ORDER BY first_seen_at, id',
      ),
      insertDevice: db.prepare(
        `INSERT INTO device (id, torg, gateway, model, kinds, units, device_class, expected_interval_s, status, first_seen_at, last_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      ),
      updateDevice: db.prepare(
        `UPDATE device SET torg = ?, gateway = ?, model = ?, kinds = ?, units = ?, device_class = ?, expected_interval_s = ?,
           last_seen_at = MAX(last_seen_at, ?), moved_to_torg = NULL WHERE id = ?`,
      ),
      deviceStatus: db.prepare('UPDATE device SET status = ? WHERE id = ?'),
      // Moving back to the announcing gateway's torg needs no override.
      moveDevice: db.prepare('UPDATE device SET moved_to_torg = CASE WHEN torg = :torg THEN NULL ELSE :torg END WHERE id = :id'),
      deviceConfig: db.prepare(
        `UPDATE device SET enabled = COALESCE(:enabled, enabled),
           interval_override_s = CASE WHEN :setInterval = 1 THEN :interval ELSE interval_override_s END WHERE id = :id`,
      ),
      lastAssignment: db.prepare('SELECT * FROM assignment WHERE device = ? ORDER BY valid_from DESC LIMIT 1'),
      assignmentAt: db.prepare(
        'SELECT * FROM assignment WHERE device = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)',
      ),
      history: db.prepare('SELECT * FROM assignment WHERE device = ? ORDER BY valid_from'),
      // The primary key (device, valid_from) gives this order without a sort.
      allAssignments: db.prepare('SELECT * FROM assignment ORDER BY device, valid_from'),
      closeOpen: db.prepare('UPDATE assignment SET valid_to = ? WHERE device = ? AND valid_to IS NULL'),
      insertAssignment: db.prepare(
        'INSERT INTO assignment (device, torg, place_type, zone, entrance, line, valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)',
      ),
    };

    this.announceTx = db.transaction((a: z.output<typeof deviceAnnounceSchema>, at: number): AnnounceResult => {
      this.requireTorg(a.torg);
      if (!this.stmt.getGateway.get(a.torg, a.gateway)) throw new RegistryError('E_REGISTRY_UNKNOWN_GATEWAY', `${a.torg}/${a.gateway}`);
      const fields = [a.torg, a.gateway, a.model, JSON.stringify(a.kinds), JSON.stringify(a.units), a.deviceClass, a.expectedIntervalS ?? null];
      const existing = this.stmt.getDevice.get(a.id);
      // A gateway's credentials let it announce any hardware id, so a birth from another torg is not
      // evidence that the device moved; only an admin moves it (assign with moveTorg).
      if (existing && torgOf(existing) !== a.torg) return { device: toDevice(existing), created: false, torgConflict: true };
      if (existing) this.stmt.updateDevice.run(...fields, at, a.id);
      else this.stmt.insertDevice.run(a.id, ...fields, at, at);
      return { device: toDevice(this.stmt.getDevice.get(a.id)!), created: !existing, torgConflict: false };
    });

    this.assignTx = db.transaction((input: AssignInput & { at: number }): AssignmentRow => {
      const { device, torg, place, at, moveTorg } = input;
      this.requirePlace(torg, place);
      const dev = this.stmt.getDevice.get(device);
      if (!dev) throw new RegistryError('E_REGISTRY_UNKNOWN_DEVICE', device);
      if (dev.status === 'decommissioned') throw new RegistryError('E_REGISTRY_DECOMMISSIONED', device);
      // The ingest dead-letters a reading whose device is assigned to another torg than its gateway's
      // (issue 4, spoofing), so such an assignment would silently discard every reading of the device.
      const move = torgOf(dev) !== torg;
      if (move && moveTorg !== true) throw new RegistryError('E_REGISTRY_TORG_MISMATCH', `${device} belongs to ${torgOf(dev)}, not ${torg}`);
      const last = this.stmt.lastAssignment.get(device);
      if (last) {
        if (last.valid_to === null && samePlace(last, torg, place)) return last;
        const notBefore = last.valid_to ?? last.valid_from + 1;
        if (at < notBefore) {
          throw new RegistryError(
            'E_REGISTRY_HISTORY_ORDER',
            `${device}: ${new Date(at).toISOString()} is not after ${new Date(last.valid_to ?? last.valid_from).toISOString()}`,
          );
        }
        if (last.valid_to === null) this.stmt.closeOpen.run(at, device);
      }
      this.stmt.insertAssignment.run(
        device,
        torg,
        place.type,
        place.type === 'zone' ? place.zone : null,
        place.type === 'entrance' ? place.entrance : null,
        place.type === 'entrance' ? place.line : null,
        at,
      );
      this.stmt.deviceStatus.run('active', device);
      if (move) this.stmt.moveDevice.run({ id: device, torg });
      return this.stmt.lastAssignment.get(device)!;
    });

    this.decommissionTx = db.transaction((device: string, at: number): DeviceRow => {
      const dev = this.stmt.getDevice.get(device);
      if (!dev) throw new RegistryError('E_REGISTRY_UNKNOWN_DEVICE', device);
      if (dev.status === 'decommissioned') return dev;
      const last = this.stmt.lastAssignment.get(device);
      if (last && last.valid_to === null) {
        if (at <= last.valid_from) {
          throw new RegistryError('E_REGISTRY_HISTORY_ORDER', `${device}: ${new Date(at).toISOString()} is not after ${new Date(last.valid_from).toISOString()}`);
        }
        this.stmt.closeOpen.run(at, device);
      }
      this.stmt.deviceStatus.run('decommissioned', device);
      return this.stmt.getDevice.get(device)!;
    });
  }

  private migrate(logger: Logger | undefined): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new RegistryError('E_REGISTRY_SCHEMA_NEWER', `database schema ${version}, this version knows up to ${MIGRATIONS.length}`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      guard(() =>
        this.db.transaction(() => {
          this.db.exec(MIGRATIONS[v]!);
          // user_version is part of the database header and is committed or rolled back with the transaction.
          this.db.pragma(`user_version = ${v + 1}`);
        })(),
      );
      logger?.info({ from: v, to: v + 1 }, 'registry schema migrated');
    }
  }

  /** Torg of the model are upserted; torg that left the model stay (history refers to them) with in_model = 0. */
  private syncTorg(): void {
    const upsert = this.db.prepare(
      'INSERT INTO torg (id, name, in_model) VALUES (?, ?, 1) ON CONFLICT (id) DO UPDATE SET name = excluded.name, in_model = 1',
    );
    guard(() =>
      this.db.transaction(() => {
        this.db.prepare('UPDATE torg SET in_model = 0').run();
        for (const t of this.places.values()) upsert.run(t.id, t.name);
      })(),
    );
  }

  private requireTorg(torg: string): void {
    if (!this.places.has(torg)) throw new RegistryError('E_REGISTRY_UNKNOWN_TORG', torg);
  }

  private requirePlace(torg: string, place: Place): void {
    const t = this.places.get(torg);
    if (!t) throw new RegistryError('E_REGISTRY_UNKNOWN_TORG', torg);
    if (place.type === 'zone') {
      if (!t.zones.has(place.zone)) throw new RegistryError('E_REGISTRY_UNKNOWN_PLACE', `zone ${torg}/${place.zone}`);
      return;
    }
    const lines = t.entrances.get(place.entrance);
    if (!lines) throw new RegistryError('E_REGISTRY_UNKNOWN_PLACE', `entrance ${torg}/${place.entrance}`);
    if (!lines.has(place.line)) throw new RegistryError('E_REGISTRY_UNKNOWN_PLACE', `line ${torg}/${place.entrance}/${place.line}`);
  }

  /** Runs a store operation: refuses after close and maps transient SQLite failures to a retriable code. */
  private op<T>(fn: () => T): T {
    if (this.closed) throw new RegistryError('E_REGISTRY_CLOSED');
    return guard(fn);
  }

  async listTorg(): Promise<TorgRecord[]> {
    return this.op(() => this.stmt.listTorg.all().map(toTorg));
  }

  async upsertGateway(input: GatewayInput): Promise<GatewayRecord> {
    const g = parseInput(gatewayInputSchema, input, 'gateway');
    return this.op(() =>
      this.db.transaction(() => {
        this.requireTorg(g.torg);
        if (this.stmt.getGateway.get(g.torg, g.id)) {
          if (g.credentialsRef !== undefined) this.stmt.updateGatewayCredentials.run(g.credentialsRef, g.torg, g.id);
        } else {
          this.stmt.insertGateway.run(g.torg, g.id, g.credentialsRef ?? null, this.now());
        }
        return toGateway(this.stmt.getGateway.get(g.torg, g.id)!);
      })(),
    );
  }

  async getGateway(torg: string, id: string): Promise<GatewayRecord | null> {
    return this.op(() => {
      const row = this.stmt.getGateway.get(torg, id);
      return row ? toGateway(row) : null;
    });
  }

  async listGateways(torg?: string): Promise<GatewayRecord[]> {
    return this.op(() => (torg === undefined ? this.stmt.listGateways.all() : this.stmt.listGatewaysOfTorg.all(torg)).map(toGateway));
  }

  async gatewaySeen(torg: string, id: string, at?: number): Promise<GatewayRecord> {
    const when = parseInput(instantSchema, at ?? this.now(), 'gatewaySeen.at');
    return this.op(() => {
      if (this.stmt.gatewaySeen.run(when, torg, id).changes === 0) throw new RegistryError('E_REGISTRY_UNKNOWN_GATEWAY', `${torg}/${id}`);
      return toGateway(this.stmt.getGateway.get(torg, id)!);
    });
  }

  async setGatewayStatus(torg: string, id: string, status: GatewayStatus): Promise<GatewayRecord> {
    const s = parseInput(z.enum(GATEWAY_STATUSES), status, 'gateway status');
    return this.op(() => {
      if (this.stmt.gatewayStatus.run(s, torg, id).changes === 0) throw new RegistryError('E_REGISTRY_UNKNOWN_GATEWAY', `${torg}/${id}`);
      return toGateway(this.stmt.getGateway.get(torg, id)!);
    });
  }

  async announceDevice(input: DeviceAnnounce): Promise<AnnounceResult> {
    const a = parseInput(deviceAnnounceSchema, input, 'device birth');
    return this.op(() => this.announceTx(a, this.now()));
  }

  async getDevice(id: string): Promise<DeviceRecord | null> {
    return this.op(() => {
      const row = this.stmt.getDevice.get(id);
      return row ? toDevice(row) : null;
    });
  }

  async listDevices(filter: DeviceFilter = {}): Promise<DeviceRecord[]> {
    const f = parseInput(deviceFilterSchema, filter, 'device filter');
    return this.op(() => this.stmt.listDevices.all({ torg: f.torg ?? null, status: f.status ?? null }).map(toDevice));
  }

  async assign(input: AssignInput): Promise<AssignmentRecord> {
    const a = parseInput(assignInputSchema, input, 'assignment');
    return this.op(() => toAssignment(this.assignTx({ ...a, at: a.at ?? this.now() })));
  }

  async assignmentAt(device: string, at: number): Promise<AssignmentRecord | null> {
    const id = parseInput(deviceIdSchema, device, 'device');
    const when = parseInput(instantSchema, at, 'assignmentAt.at');
    return this.op(() => {
      const row = this.stmt.assignmentAt.get(id, when, when);
      return row ? toAssignment(row) : null;
    });
  }

  async assignmentHistory(device: string): Promise<AssignmentRecord[]> {
    const id = parseInput(deviceIdSchema, device, 'device');
    return this.op(() => this.stmt.history.all(id).map(toAssignment));
  }

  async listAssignments(): Promise<AssignmentRecord[]> {
    return this.op(() => this.stmt.allAssignments.all().map(toAssignment));
  }

  async decommission(device: string, at?: number): Promise<DeviceRecord> {
    const id = parseInput(deviceIdSchema, device, 'device');
    const when = parseInput(instantSchema, at ?? this.now(), 'decommission.at');
    return this.op(() => toDevice(this.decommissionTx(id, when)));
  }

  async setDeviceConfig(device: string, input: DeviceConfigInput): Promise<DeviceRecord> {
    const id = parseInput(deviceIdSchema, device, 'device');
    const c = parseInput(deviceConfigInputSchema, input, 'device config');
    return this.op(() => {
      const params = {
        id,
        enabled: c.enabled === undefined ? null : c.enabled ? 1 : 0,
        setInterval: c.expectedIntervalS === undefined ? 0 : 1,
        interval: c.expectedIntervalS ?? null,
      };
      if (this.stmt.deviceConfig.run(params).changes === 0) throw new RegistryError('E_REGISTRY_UNKNOWN_DEVICE', id);
      return toDevice(this.stmt.getDevice.get(id)!);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    if (err instanceof Database.SqliteError && TRANSIENT_SQLITE.test(err.code)) {
      throw new RegistryError('E_REGISTRY_UNAVAILABLE', err.message, { cause: err });
    }
    throw err;
  }
}

/**
 * The gateway's durable list of the devices it has heard (SQLite, beside the outbox): what each
 * reports, when it was first and last seen, and whether its birth still has to be sent.
 *
 * Ordering births before readings: a device's birth is marked due (committed, synchronous=FULL)
 * BEFORE its first reading of the run is appended to the outbox, and the uplink sends every due
 * birth and waits for its PUBACK before it publishes an envelope (gateway/uplink/mqtt-uplink.ts).
 * The broker has therefore received the birth before the envelope with the device's first reading,
 * and forwards them to a subscriber in that order. The flag is durable, so a crash between append
 * and birth still sends the birth first after the restart.
 *
 * Bounded: at most `maxDevices` devices; readings of further devices still flow (the ingest then
 * dead-letters them as unknown, which is visible) and are counted as untracked here.
 */
import Database from 'better-sqlite3';
import { DEVICE_MESSAGES_VERSION, type DeviceBirth, type DeviceClass, type DeviceSource, type Inventory } from '../../devices/contract/device-messages.schema.ts';
import type { Reading, ReadingKind } from '../../devices/contract/reading.schema.ts';
import { READING_KINDS } from '../../devices/contract/reading.schema.ts';
import type { Clock } from '../clock.ts';
import { GATEWAY_DEFAULTS } from '../config.ts';
import { DEFAULT_DEVICE_CLASS, FIELD_UNITS, measuredFields, UNKNOWN_MODEL, type DeviceFacts } from './device-facts.ts';

interface StoredFacts {
  model: string;
  kinds: ReadingKind[];
  units: Record<string, string>;
  deviceClass: DeviceClass;
  expectedIntervalS?: number;
  name?: string;
  labels: Record<string, string>;
}

interface Entry {
  device: string;
  source: DeviceSource;
  facts: StoredFacts;
  firstSeenAt: number;
  lastSeenAt: number;
  due: boolean;
  /** Bumped whenever the birth becomes due again; a PUBACK of an older birth does not clear a newer need. */
  gen: number;
  inFlight: boolean;
  seenThisRun: boolean;
  lastSeenDirty: boolean;
}

export interface DueBirth {
  device: string;
  gen: number;
  birth: DeviceBirth;
}

export type ObserveOutcome = 'new' | 'changed' | 'rebirth' | 'known' | 'untracked';

export interface DeviceCatalogOptions {
  path: string;
  clock: Clock;
  maxDevices?: number;
  /** Interval to announce when the device reports none (the platform's per-device config). */
  intervalFallback?: (device: string) => number | undefined;
}

const DEFAULT_MAX_DEVICES = GATEWAY_DEFAULTS.maxDevices;

export class DeviceCatalog {
  private readonly db: Database.Database;
  private readonly entries = new Map<string, Entry>();
  private readonly maxDevices: number;
  private readonly upsert: Database.Statement<[string, string, string, number, number, number]>;
  private readonly setDue: Database.Statement<[number, string]>;
  private readonly setLastSeen: Database.Statement<[number, string]>;
  private untrackedCount = 0;

  constructor(private readonly o: DeviceCatalogOptions) {
    this.maxDevices = o.maxDevices ?? DEFAULT_MAX_DEVICES;
    this.db = new Database(o.path);
    this.db.pragma('journal_mode = WAL');
    // FULL: the due flag must be on disk before the reading it precedes (see header).
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS devices (
      device TEXT PRIMARY KEY, source TEXT NOT NULL, facts TEXT NOT NULL,
      first_seen_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, birth_due INTEGER NOT NULL)`);
    this.upsert = this.db.prepare(
      `INSERT INTO devices (device, source, facts, first_seen_at, last_seen_at, birth_due) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(device) DO UPDATE SET source = excluded.source, facts = excluded.facts,
         last_seen_at = excluded.last_seen_at, birth_due = excluded.birth_due`,
    );
    this.setDue = this.db.prepare('UPDATE devices SET birth_due = ? WHERE device = ?');
    this.setLastSeen = this.db.prepare('UPDATE devices SET last_seen_at = ? WHERE device = ?');
    const rows = this.db
      .prepare<[], { device: string; source: string; facts: string; first_seen_at: number; last_seen_at: number; birth_due: number }>('SELECT * FROM devices')
      .all();
    for (const r of rows) {
      this.entries.set(r.device, {
        device: r.device,
        source: r.source as DeviceSource,
        facts: JSON.parse(r.facts) as StoredFacts,
        firstSeenAt: r.first_seen_at,
        lastSeenAt: r.last_seen_at,
        due: r.birth_due === 1,
        gen: 0,
        inFlight: false,
        seenThisRun: false,
        lastSeenDirty: false,
      });
    }
  }

  /**
   * Records readings of one device (already validated). Marks its birth due when the device is new,
   * first seen in this run, or reports something its last birth did not say (a new kind or field).
   */
  observe(source: DeviceSource, device: string, readings: readonly Reading[], facts: DeviceFacts | undefined, atMs: number): ObserveOutcome {
    const old = this.entries.get(device);
    if (old === undefined && this.entries.size >= this.maxDevices) {
      this.untrackedCount++;
      return 'untracked';
    }
    const kinds = new Set<ReadingKind>([...(old?.facts.kinds ?? []), ...(facts?.kinds ?? [])]);
    const units: Record<string, string> = { ...(old?.facts.units ?? {}) };
    for (const r of readings) {
      kinds.add(r.kind);
      for (const f of measuredFields(r)) units[f] = FIELD_UNITS[f] ?? '';
    }
    const next: StoredFacts = {
      model: facts?.model ?? old?.facts.model ?? UNKNOWN_MODEL,
      // Contract order (READING_KINDS), so that the same set always serialises the same way.
      kinds: READING_KINDS.filter((k) => kinds.has(k)),
      units: Object.fromEntries(Object.entries(units).sort(([a], [b]) => a.localeCompare(b))),
      deviceClass: facts?.deviceClass ?? old?.facts.deviceClass ?? DEFAULT_DEVICE_CLASS,
      labels: { ...(facts?.labels ?? old?.facts.labels ?? {}) },
    };
    const interval = facts?.expectedIntervalS ?? old?.facts.expectedIntervalS;
    if (interval !== undefined) next.expectedIntervalS = interval;
    const name = facts?.name ?? old?.facts.name;
    if (name !== undefined) next.name = name;

    if (old === undefined) {
      const e: Entry = { device, source, facts: next, firstSeenAt: atMs, lastSeenAt: atMs, due: true, gen: 1, inFlight: false, seenThisRun: true, lastSeenDirty: false };
      this.upsert.run(device, source, JSON.stringify(next), atMs, atMs, 1);
      this.entries.set(device, e);
      return 'new';
    }
    const changed = JSON.stringify(next) !== JSON.stringify(old.facts) || source !== old.source;
    old.lastSeenAt = Math.max(old.lastSeenAt, atMs);
    if (!changed && old.seenThisRun) {
      old.lastSeenDirty = true;
      return 'known';
    }
    const outcome: ObserveOutcome = changed ? 'changed' : 'rebirth';
    old.facts = next;
    old.source = source;
    old.seenThisRun = true;
    old.due = true;
    old.gen++;
    old.lastSeenDirty = false;
    this.upsert.run(device, source, JSON.stringify(next), old.firstSeenAt, old.lastSeenAt, 1);
    return outcome;
  }

  /** Every known device's birth becomes due (an ingest came online). One transaction. */
  markAllDue(): number {
    this.db.transaction(() => {
      for (const e of this.entries.values()) {
        e.due = true;
        e.gen++;
        this.setDue.run(1, e.device);
      }
    })();
    return this.entries.size;
  }

  dueCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.due && !e.inFlight) n++;
    return n;
  }

  /** Up to `max` due births not already being sent, stamped `at` now. */
  takeDue(max: number): DueBirth[] {
    const out: DueBirth[] = [];
    const at = this.o.clock.now();
    for (const e of this.entries.values()) {
      if (out.length >= max) break;
      if (!e.due || e.inFlight) continue;
      e.inFlight = true;
      out.push({ device: e.device, gen: e.gen, birth: this.birthOf(e, at) });
    }
    return out;
  }

  /** The broker acknowledged these births: clear their due flag unless they became due again meanwhile. */
  markSent(sent: readonly DueBirth[]): void {
    this.db.transaction(() => {
      for (const s of sent) {
        const e = this.entries.get(s.device);
        if (e === undefined) continue;
        e.inFlight = false;
        if (e.gen !== s.gen) continue;
        e.due = false;
        this.setDue.run(0, e.device);
      }
    })();
  }

  /** These births were not acknowledged (connection lost): they stay due. */
  release(items: readonly DueBirth[]): void {
    for (const s of items) {
      const e = this.entries.get(s.device);
      if (e !== undefined) e.inFlight = false;
    }
  }

  birth(device: string): DeviceBirth | undefined {
    const e = this.entries.get(device);
    return e === undefined ? undefined : this.birthOf(e, this.o.clock.now());
  }

  private birthOf(e: Entry, at: number): DeviceBirth {
    const interval = e.facts.expectedIntervalS ?? this.o.intervalFallback?.(e.device);
    return {
      v: DEVICE_MESSAGES_VERSION,
      device: e.device,
      model: e.facts.model,
      kinds: e.facts.kinds,
      units: e.facts.units,
      deviceClass: e.facts.deviceClass,
      ...(interval !== undefined ? { expectedIntervalS: interval } : {}),
      source: e.source,
      ...(e.facts.name !== undefined ? { name: e.facts.name } : {}),
      labels: e.facts.labels,
      firstSeenAt: e.firstSeenAt,
      at,
    };
  }

  inventory(): Inventory {
    const devices = [...this.entries.values()]
      .map((e) => ({ device: e.device, model: e.facts.model, lastSeenAt: e.lastSeenAt }))
      .sort((a, b) => a.device.localeCompare(b.device));
    return { v: DEVICE_MESSAGES_VERSION, devices, at: this.o.clock.now() };
  }

  /** Writes last-seen times kept in memory since the last flush (one transaction; called with the inventory). */
  flushLastSeen(): void {
    this.db.transaction(() => {
      for (const e of this.entries.values()) {
        if (!e.lastSeenDirty) continue;
        e.lastSeenDirty = false;
        this.setLastSeen.run(e.lastSeenAt, e.device);
      }
    })();
  }

  size(): number {
    return this.entries.size;
  }

  /** Readings' devices not tracked because the catalogue was full, since start. */
  untracked(): number {
    return this.untrackedCount;
  }

  close(): void {
    this.flushLastSeen();
    this.db.close();
  }
}

/**
 * The ingest's view of the registry on the reading path (issue 4): for every device, its status and the
 * torg its readings must arrive from. In memory, one Map lookup per reading (the ingest handles about
 * 100 000 readings/s; a registry query per reading is out of the question).
 *
 * The instance that owns the registry fills it from the control plane (ingest/control/control-plane.ts)
 * synchronously as births and admin actions happen; other instances of a shared subscription group
 * fill it from the retained directory snapshot (`topics.registryDirectory()`, see
 * devices/contract/device-messages.schema.ts), so every instance checks against the same data.
 */
import { DEVICE_MESSAGES_VERSION, type Directory, type DirectoryEntry } from '../../devices/contract/device-messages.schema.ts';

/** What the pipeline needs: the entry of a device, or undefined when the registry never heard of it. */
export interface DeviceLookup {
  lookup(device: string): DirectoryEntry | undefined;
}

/**
 * How long a provisional entry (a birth seen on the reading connection, before the registry answered)
 * survives snapshots that do not have it yet. A control plane that refuses the birth (unregistered
 * gateway) withdraws it in its next snapshot; this bounds how long such an entry lets readings in.
 */
export const PROVISIONAL_TTL_MS = 60_000;

/**
 * Unconfirmed provisional entries held at once. Births come from authenticated gateways, but a gateway
 * can announce any number of hardware ids; beyond this bound a device's readings wait for the registry
 * (dead-lettered E_DEVICE_UNKNOWN, replayable) instead of the directory growing without limit.
 */
export const MAX_PROVISIONALS = 10_000;

export class DeviceDirectory implements DeviceLookup {
  private entries = new Map<string, DirectoryEntry>();
  private appliedVersion = -1;
  /** Device → when its provisional entry was made (see provisional()). */
  private readonly provisionals = new Map<string, number>();
  /** Births not provisioned because MAX_PROVISIONALS entries were waiting. */
  provisionalsRefused = 0;

  lookup(device: string): DirectoryEntry | undefined {
    return this.entries.get(device);
  }

  /** Sets (or with null removes) one device. */
  set(device: string, entry: DirectoryEntry | null): void {
    // The registry's answer (the control plane) replaces a provisional entry, which then never expires.
    this.provisionals.delete(device);
    if (entry === null) this.entries.delete(device);
    else this.entries.set(device, entry);
  }

  /**
   * Replaces the whole directory with a snapshot, unless it is not newer than the one applied last: a
   * retained snapshot delivered on (re)subscribe may be older than one already received live. Returns
   * whether it was applied. The Map is swapped, not mutated, so no reading sees half a snapshot.
   */
  applySnapshot(dir: Directory): boolean {
    if (dir.version <= this.appliedVersion) return false;
    const next = new Map(Object.entries(dir.devices));
    for (const [device, madeAt] of this.provisionals) {
      if (next.has(device) || dir.at - madeAt > PROVISIONAL_TTL_MS) this.provisionals.delete(device);
      else next.set(device, this.entries.get(device) ?? { s: 'pending', t: '' });
    }
    this.entries = next;
    this.appliedVersion = dir.version;
    return true;
  }

  /**
   * A device birth seen on the ingest's own reading connection (ingest/writer.ts). A gateway publishes
   * a device's birth before the envelope with its first reading on the same connection, and the broker
   * delivers one session's messages in order, so marking an unknown device pending here, synchronously,
   * means its first readings are stored (flagged pending) instead of dead-lettered E_DEVICE_UNKNOWN
   * while the control plane, on its own connection, is still writing the birth to the registry.
   * A known device is left as it is (a decommissioned one stays decommissioned).
   */
  provisional(device: string, torg: string, at: number): void {
    this.expireProvisionals(at);
    if (this.entries.has(device)) return;
    if (this.provisionals.size >= MAX_PROVISIONALS) {
      this.provisionalsRefused++;
      return;
    }
    this.entries.set(device, { s: 'pending', t: torg });
    this.provisionals.set(device, at);
  }

  /**
   * Removes provisional entries older than PROVISIONAL_TTL_MS that neither the control plane (set) nor
   * a snapshot confirmed. The instance that owns the registry receives no snapshots, so without this a
   * birth the control plane refused could leave its pending entry forever. Map iteration is insertion
   * order, i.e. oldest first, so the walk stops at the first young entry.
   */
  private expireProvisionals(now: number): void {
    for (const [device, madeAt] of this.provisionals) {
      if (now - madeAt <= PROVISIONAL_TTL_MS) break;
      this.provisionals.delete(device);
      this.entries.delete(device);
    }
  }

  toSnapshot(version: number, at: number): Directory {
    return { v: DEVICE_MESSAGES_VERSION, version, at, devices: Object.fromEntries(this.entries) };
  }

  /** Version of the last applied snapshot; -1 before any. */
  get version(): number {
    return this.appliedVersion;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every entry (for gauges, tests). */
  entriesView(): ReadonlyMap<string, DirectoryEntry> {
    return this.entries;
  }
}

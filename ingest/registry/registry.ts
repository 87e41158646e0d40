/**
 * The device registry (issue 4): torg, gateways, devices and the history of where each device was
 * placed. An interface with one shared contract test (test/ingest/registry/registry.contract.ts)
 * so another store can be added beside the SQLite one (style: MQTT.js src/lib/store.ts).
 *
 * Identity rules:
 * - a device is keyed by its hardware id (the reading's `device`: DevEUI, Zigbee IEEE address, DT
 *   id), so announcing it again finds the same record, never a second one;
 * - a gateway is keyed by (torg, gateway), the pair in its topics (devices/contract/mqtt-topics.ts);
 * - an assignment is a half-open interval [validFrom, validTo) of epoch milliseconds. Assigning
 *   closes the open one at that instant and opens the next, so a device that moves rooms keeps its
 *   old readings attributed to the old room: `assignmentAt(device, reading time)` answers where it was.
 *
 * Torg, zones, entrances and lines come from the torg model (devices/torg/torg-config.schema.ts) as
 * `KnownPlaces`; the registry refuses places the model does not have rather than storing ids that
 * no dashboard could resolve.
 */
import { z } from 'zod';
import { DEVICE_CLASSES, DEVICE_STATUSES, placeSchema } from '../../devices/contract/device-messages.schema.ts';
import { READING_KINDS, deviceIdSchema, slugSchema } from '../../devices/contract/reading.schema.ts';
import type { TorgConfig } from '../../devices/torg/torg-config.schema.ts';

/** Epoch milliseconds, the unit of the injected clock and of InfluxDB's `ms` precision. */
export const instantSchema = z.number().int().min(0).max(8.64e15);

// Shared with the gateway through the wire contract (config topic payloads carry them).
export { DEVICE_CLASSES, DEVICE_STATUSES, placeSchema } from '../../devices/contract/device-messages.schema.ts';
export type { DeviceClass, DeviceStatus, Place } from '../../devices/contract/device-messages.schema.ts';
export const GATEWAY_STATUSES = ['active', 'disabled'] as const;
export type GatewayStatus = (typeof GATEWAY_STATUSES)[number];

// ---------------------------------------------------------------------------------------------
// Torg model view

export interface KnownTorg {
  id: string;
  name: string;
  zones: ReadonlySet<string>;
  /** Entrance id → its counting lines. */
  entrances: ReadonlyMap<string, ReadonlySet<string>>;
}
/** The places the torg model has, by torg id. */
export type KnownPlaces = ReadonlyMap<string, KnownTorg>;

/** Builds the validated place set from a parsed torg model (loadTorgConfig / parseTorgConfig). */
export function knownPlacesFromTorgConfig(config: TorgConfig): KnownPlaces {
  return new Map(
    config.torg.map((t) => [
      t.id,
      {
        id: t.id,
        name: t.name,
        zones: new Set(t.zones.map((z) => z.id)),
        entrances: new Map(t.entrances.map((e) => [e.id, new Set(e.lines)])),
      },
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Records (what the registry returns)

export const torgRecordSchema = z
  .object({
    id: slugSchema,
    name: z.string().min(1),
    /** False for a torg that was in the model once (devices refer to it) but is no longer. */
    inModel: z.boolean(),
  })
  .strict();
export type TorgRecord = z.infer<typeof torgRecordSchema>;

/**
 * A reference to where a gateway's broker credentials are kept (a username, a secret-store key),
 * never the secret itself: the registry is read by the API and the CLI, which must not see secrets.
 */
export const credentialsRefSchema = z.string().min(1).max(256);

export const gatewayRecordSchema = z
  .object({
    torg: slugSchema,
    id: slugSchema,
    status: z.enum(GATEWAY_STATUSES),
    credentialsRef: credentialsRefSchema.nullable(),
    createdAt: instantSchema,
    lastSeenAt: instantSchema.nullable(),
  })
  .strict();
export type GatewayRecord = z.infer<typeof gatewayRecordSchema>;

/** Field name (the reading field, e.g. `temperature`) → unit as the device reports it (e.g. `°C`). */
export const unitsSchema = z.record(z.string().min(1).max(64), z.string().max(32));

export const deviceRecordSchema = z
  .object({
    id: deviceIdSchema,
    /**
     * The torg the device belongs to: set by its first birth, changed only by an admin (AssignInput
     * `moveTorg`). A birth from a gateway of another torg never changes it (issue 4, spoofing).
     */
    torg: slugSchema,
    /** The gateway of `torg` that announced the device most recently (of `gatewayTorg` when that is set). */
    gateway: slugSchema,
    /**
     * Present only after an admin moved the device to another torg and before a gateway of the new
     * torg announced it: the torg of `gateway`, whose retained config the move cleared.
     */
    gatewayTorg: slugSchema.optional(),
    model: z.string().min(1).max(128),
    kinds: z.array(z.enum(READING_KINDS)).min(1),
    units: unitsSchema,
    deviceClass: z.enum(DEVICE_CLASSES),
    expectedIntervalS: z.number().int().positive().nullable(),
    status: z.enum(DEVICE_STATUSES),
    /**
     * Set by an admin (PATCH /api/v1/devices/{id}/config); false makes the gateway drop the device's
     * readings at the source (devices/contract/device-messages.schema.ts `enabled`). A new device is enabled.
     */
    enabled: z.boolean(),
    firstSeenAt: instantSchema,
    lastSeenAt: instantSchema,
  })
  .strict();
export type DeviceRecord = z.infer<typeof deviceRecordSchema>;


export const assignmentRecordSchema = z
  .object({
    device: deviceIdSchema,
    torg: slugSchema,
    place: placeSchema,
    validFrom: instantSchema,
    /** Exclusive end; null while the assignment holds. */
    validTo: instantSchema.nullable(),
  })
  .strict();
export type AssignmentRecord = z.infer<typeof assignmentRecordSchema>;

// ---------------------------------------------------------------------------------------------
// Inputs (what callers hand in; validated by every implementation)

export const gatewayInputSchema = z
  .object({ torg: slugSchema, id: slugSchema, credentialsRef: credentialsRefSchema.optional() })
  .strict();
export type GatewayInput = z.infer<typeof gatewayInputSchema>;

/**
 * What a gateway's device birth reports (`itorg/v1/{torg}/{gateway}/devices/{device}/birth`), with
 * the torg and gateway taken from the topic. `expectedIntervalS` is optional: not every vendor
 * exposes its reporting interval; liveness then falls back to the class timeout.
 */
export const deviceAnnounceSchema = z
  .object({
    id: deviceIdSchema,
    torg: slugSchema,
    gateway: slugSchema,
    model: z.string().min(1).max(128),
    kinds: z
      .array(z.enum(READING_KINDS))
      .min(1)
      .transform((k) => [...new Set(k)].sort()),
    units: unitsSchema.default({}),
    deviceClass: z.enum(DEVICE_CLASSES),
    expectedIntervalS: z.number().int().positive().max(7 * 86_400).optional(),
  })
  .strict();
export type DeviceAnnounce = z.input<typeof deviceAnnounceSchema>;

export const assignInputSchema = z
  .object({
    device: deviceIdSchema,
    torg: slugSchema,
    place: placeSchema,
    /** When the device was placed there; default now. May lie in the past (an admin backdates to first sighting). */
    at: instantSchema.optional(),
    /**
     * Required to assign the device to another torg than its record's: moving a device between torg is
     * an explicit admin action, never a side effect of which gateway announced it.
     */
    moveTorg: z.boolean().optional(),
  })
  .strict();
export type AssignInput = z.infer<typeof assignInputSchema>;

export const deviceFilterSchema = z
  .object({ torg: slugSchema.optional(), status: z.enum(DEVICE_STATUSES).optional() })
  .strict();
export type DeviceFilter = z.infer<typeof deviceFilterSchema>;

/**
 * An admin's per-device settings. `expectedIntervalS: null` clears an override so the interval the
 * device reports in its next birth (or the class default) applies again; absent keys are left as they are.
 */
export const deviceConfigInputSchema = z
  .object({
    enabled: z.boolean().optional(),
    expectedIntervalS: z.number().int().positive().max(7 * 86_400).nullable().optional(),
  })
  .strict();
export type DeviceConfigInput = z.infer<typeof deviceConfigInputSchema>;

export interface AnnounceResult {
  device: DeviceRecord;
  /** True when this announce created the record (a new pending device). */
  created: boolean;
  /**
   * True when the birth came from a gateway of another torg than the record's: the record is returned
   * unchanged (no field, not even lastSeenAt, is taken from such a birth).
   */
  torgConflict: boolean;
}

export interface Registry {
  /** Torg known to the registry: those of the current model, plus any that left it but are referenced. */
  listTorg(): Promise<TorgRecord[]>;

  /** Registers a gateway (status active) or updates its credentials reference; keyed by (torg, id). */
  upsertGateway(input: GatewayInput): Promise<GatewayRecord>;
  getGateway(torg: string, id: string): Promise<GatewayRecord | null>;
  listGateways(torg?: string): Promise<GatewayRecord[]>;
  /** Marks the gateway seen (state birth, inventory) at `at` (default now). */
  gatewaySeen(torg: string, id: string, at?: number): Promise<GatewayRecord>;
  setGatewayStatus(torg: string, id: string, status: GatewayStatus): Promise<GatewayRecord>;

  /**
   * A device birth. Unknown hardware id: a new **pending** record. Known, announced by a gateway of
   * the record's torg: the same record, its reported fields (gateway, model, kinds, units, class,
   * interval) replaced and lastSeenAt moved; the status is kept (a decommissioned device stays
   * decommissioned). Known, announced by a gateway of another torg (whatever the status): nothing
   * changes and `torgConflict` is true — otherwise any torg's gateway could take a device out of its
   * torg by announcing its hardware id (issue 4, spoofing).
   */
  announceDevice(input: DeviceAnnounce): Promise<AnnounceResult>;
  getDevice(id: string): Promise<DeviceRecord | null>;
  /** Devices ordered by first sighting, then id. */
  listDevices(filter?: DeviceFilter): Promise<DeviceRecord[]>;

  /**
   * Places a device at `at` (default now), in one transaction: closes the open assignment at `at`,
   * opens the new one, sets the status active. Another torg than the record's is refused
   * (E_REGISTRY_TORG_MISMATCH) unless `moveTorg` is set; then the record's torg becomes the new one
   * and its gateway stays (with `gatewayTorg` the old torg) until a gateway of the new torg announces it. Assigning the place it already holds returns the open
   * assignment unchanged (re-running an assignment rule does not fragment the history).
   */
  assign(input: AssignInput): Promise<AssignmentRecord>;
  /** The assignment that held at `at` (half-open intervals), or null. */
  assignmentAt(device: string, at: number): Promise<AssignmentRecord | null>;
  /** Every assignment of the device, oldest first. */
  assignmentHistory(device: string): Promise<AssignmentRecord[]>;
  /**
   * Every assignment of every device, by device id and then oldest first: one read for a caller that
   * needs all histories (the place cache, the control plane's start-up) instead of one per device.
   */
  listAssignments(): Promise<AssignmentRecord[]>;
  /** Closes the open assignment at `at` (default now) and sets status decommissioned. Idempotent. */
  decommission(device: string, at?: number): Promise<DeviceRecord>;
  /**
   * Sets `enabled` and/or the expected interval of a known device. An interval set here is the admin's
   * and survives later births (which otherwise replace the reported interval); null hands it back to
   * the births.
   */
  setDeviceConfig(device: string, input: DeviceConfigInput): Promise<DeviceRecord>;

  close(): Promise<void>;
}

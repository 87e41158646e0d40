/**
 * Device provisioning messages between gateways and the platform (issue 4 "Auto-provisioning"),
 * defined once for both sides. Topics in devices/contract/mqtt-topics.ts.
 *
 *   birth       itorg/v1/{torg}/{gateway}/devices/{device}/birth     gateway → registry, QoS 1, not retained
 *               What one device reports. Sent when the gateway first sees the device in this run, and
 *               again for every device it knows whenever an ingest announces itself online (so the
 *               registry converges after a restart of either side; the Sparkplug B "rebirth" idea).
 *   inventory   itorg/v1/{torg}/{gateway}/inventory                  gateway → registry, QoS 1, retained
 *               Every device the gateway knows, so a late subscriber sees the whole set at once.
 *   config      itorg/v1/{torg}/{gateway}/config/devices/{device}    platform → gateway, QoS 1, retained
 *               Per-device config (place, interval, enabled). Retained so a gateway that (re)connects
 *               gets it without asking; an empty retained payload deletes it [MQTT-3.3.1-10].
 *   directory   itorg/v1/_sys/registry/directory                      platform → ingest instances, retained
 *               Status and torg of every device, one message, so that every ingest instance of a shared
 *               subscription group checks readings against the same snapshot (no per-device race).
 */
import { z } from 'zod';
import { READING_KINDS, deviceIdSchema, slugSchema } from './reading.schema.ts';

export const DEVICE_MESSAGES_VERSION = 1;

/** Epoch milliseconds. */
const instant = z.number().int().min(0).max(8.64e15);

export const DEVICE_CLASSES = ['mains', 'battery'] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];
export const DEVICE_STATUSES = ['pending', 'active', 'decommissioned'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** Where the gateway heard the device: the rules engine matches on it (issue 4: by gateway, LoRaWAN tag, zigbee friendly-name pattern, DT label). */
export const DEVICE_SOURCES = ['chirpstack', 'tts', 'zigbee2mqtt', 'disruptive-technologies', 'direct'] as const;
export type DeviceSource = (typeof DEVICE_SOURCES)[number];

export const deviceBirthSchema = z
  .object({
    v: z.literal(DEVICE_MESSAGES_VERSION),
    device: deviceIdSchema,
    /** Device model id (devices/models: e.g. `milesight-vs133`). */
    model: z.string().min(1).max(128),
    kinds: z.array(z.enum(READING_KINDS)).min(1),
    /** Reading field → unit as the device reports it (`temperature` → `°C`). */
    units: z.record(z.string().min(1).max(64), z.string().max(32)).default({}),
    deviceClass: z.enum(DEVICE_CLASSES),
    /** The device's reporting interval when known (LNS tag `reportIntervalSeconds`, model default). */
    expectedIntervalS: z.number().int().positive().max(7 * 86_400).optional(),
    source: z.enum(DEVICE_SOURCES),
    /** Human name in the source (LNS device name, zigbee2mqtt friendly_name, DT label `name`). */
    name: z.string().max(256).optional(),
    /** LoRaWAN device tags (ChirpStack `tags`, TTS attributes) or DT labels, verbatim. */
    labels: z.record(z.string().max(128), z.string().max(1024)).default({}),
    /** When the gateway first saw the device (this gateway, any run), and when this birth was sent. */
    firstSeenAt: instant,
    at: instant,
  })
  .strict();
export type DeviceBirth = z.output<typeof deviceBirthSchema>;
export type DeviceBirthInput = z.input<typeof deviceBirthSchema>;

export const inventorySchema = z
  .object({
    v: z.literal(DEVICE_MESSAGES_VERSION),
    devices: z
      .array(z.object({ device: deviceIdSchema, model: z.string().min(1).max(128), lastSeenAt: instant }).strict())
      .max(100_000),
    at: instant,
  })
  .strict();
export type Inventory = z.infer<typeof inventorySchema>;

/** Where a device is placed: a room/zone, or one counting line of an entrance (the registry's place). */
export const placeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('zone'), zone: slugSchema }).strict(),
  z.object({ type: z.literal('entrance'), entrance: slugSchema, line: slugSchema }).strict(),
]);
export type Place = z.infer<typeof placeSchema>;

export const deviceConfigSchema = z
  .object({
    v: z.literal(DEVICE_MESSAGES_VERSION),
    device: deviceIdSchema,
    status: z.enum(DEVICE_STATUSES),
    /**
     * False: the gateway drops the device's readings at the source (counted in its metrics), e.g. a
     * sensor being moved. Decommissioned devices are always disabled.
     */
    enabled: z.boolean(),
    /** Null while pending or decommissioned. */
    place: placeSchema.nullable(),
    /** Display name of the place (zone name or entrance name), for the gateway's local UI/logs. */
    placeName: z.string().max(256).nullable(),
    /** Reporting interval the platform expects (and the gateway may push to devices that accept it). */
    expectedIntervalS: z.number().int().positive().nullable(),
    updatedAt: instant,
  })
  .strict();
export type DeviceConfig = z.infer<typeof deviceConfigSchema>;

/** One device in the directory: `s` status, `t` the torg its readings must arrive from. Short keys: thousands of entries in one message. */
export const directoryEntrySchema = z.object({ s: z.enum(DEVICE_STATUSES), t: slugSchema }).strict();
export type DirectoryEntry = z.infer<typeof directoryEntrySchema>;

export const directorySchema = z
  .object({
    v: z.literal(DEVICE_MESSAGES_VERSION),
    /** Increases with every published snapshot (a reader ignores an older one). */
    version: z.number().int().nonnegative(),
    at: instant,
    devices: z.record(deviceIdSchema, directoryEntrySchema),
  })
  .strict();
export type Directory = z.infer<typeof directorySchema>;

/** The ingest's retained `_sys/ingest/{instance}/state`; gateways re-send births on `online: true`. */
export const ingestStateSchema = z.object({ online: z.boolean() }).passthrough();

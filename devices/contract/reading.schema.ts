/**
 * The reading contract: everything that crosses the wire from a gateway to the ingest.
 *
 * Defined once here (zod), imported by the gateway, the simulator, the CLI and the ingest. The
 * TypeScript types are inferred from the schemas, so a field cannot exist in one side only.
 *
 * Units are fixed by field name (see README "Data model"); a decoder converts vendor units before a
 * value enters a reading. Physical limits are enforced here so that a broken sensor or decoder is
 * caught at the boundary, not in a dashboard weeks later.
 */
import { z } from 'zod';

/** Bumped on any incompatible change; the ingest refuses versions it does not know. */
export const SCHEMA_VERSION = 1 as const;

/** Reading kinds, in the order they appear in the README. */
export const READING_KINDS = ['counter', 'presence', 'door', 'climate', 'health'] as const;
export type ReadingKind = (typeof READING_KINDS)[number];

/**
 * Torg, gateway, line and zone ids: lower-case slugs. They appear in MQTT topic levels and as
 * InfluxDB tag values, so they exclude every character either one treats specially
 * (`/ + # $` in MQTT [MQTT-4.7.1], `, = space` in line protocol).
 */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62})$/;
export const slugSchema = z.string().regex(SLUG_PATTERN, 'must be a lower-case slug: a-z, 0-9 and "-", 1-63 characters');

/**
 * Hardware-derived device id: a LoRaWAN DevEUI (16 hex digits), a Zigbee IEEE address
 * (`0x` + 16 hex digits), or a vendor device id (Disruptive Technologies: 20 base32 characters).
 * Case is kept as the vendor writes it; normalisation (DevEUI in lower case) is the decoder's job.
 */
export const deviceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be a hardware id: letters, digits and . _ : -, at most 128 characters');

/** Non-negative integer count. */
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * UTC instant, ISO 8601 with a `Z` suffix and at most millisecond precision
 * (e.g. `2026-11-24T09:15:00.000Z` or `2026-11-24T09:15:00Z`). Offsets other than Z are refused so
 * that no reading is ever ambiguous about its zone, and sub-millisecond digits are refused so that a
 * producer truncates nanosecond timestamps (ChirpStack) deliberately instead of a parser rounding
 * them somewhere downstream.
 */
export const utcInstantSchema = z.iso
  .datetime({ offset: false, local: false })
  .regex(/:\d{2}(?:\.\d{1,3})?Z$/, 'must be UTC (Z) with at most millisecond precision');

const baseReading = {
  device: deviceIdSchema,
  time: utcInstantSchema,
  /** When the gateway received it (UTC); set by the gateway, kept beside `time` (issue 3). */
  receivedAt: utcInstantSchema.optional(),
  /**
   * Where `time` came from: the sensor's own clock, the network server, or the gateway's receive
   * time for sensors without a clock. `clockSuspect` marks a sensor clock that disagreed
   * implausibly with the receive time (both kept, nothing corrected silently).
   */
  timeSource: z.enum(['sensor', 'network', 'gateway']).optional(),
  clockSuspect: z.boolean().optional(),
};

export const counterReadingSchema = z
  .object({
    ...baseReading,
    kind: z.literal('counter'),
    /** Counting line on the device; a VS133 has up to four. */
    line: slugSchema.default('main'),
    /** People crossing in/out in the interval of `periodSeconds` ending at `time`. */
    periodIn: count.optional(),
    periodOut: count.optional(),
    periodSeconds: z.number().int().min(1).max(86_400).optional(),
    /** Running totals since the device's last reset; they may roll over or reset. */
    totalIn: count.optional(),
    totalOut: count.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const hasPeriod = r.periodIn !== undefined || r.periodOut !== undefined;
    const hasTotal = r.totalIn !== undefined || r.totalOut !== undefined;
    if (!hasPeriod && !hasTotal) {
      ctx.addIssue({ code: 'custom', message: 'a counter reading needs periodIn/periodOut or totalIn/totalOut' });
    }
    if (hasPeriod && r.periodSeconds === undefined) {
      ctx.addIssue({ code: 'custom', path: ['periodSeconds'], message: 'period counts need their interval length (periodSeconds)' });
    }
  });

export const presenceReadingSchema = z
  .object({
    ...baseReading,
    kind: z.literal('presence'),
    occupied: z.boolean(),
    /** People in the room/zone, where the sensor counts heads (VS121, VS350, ERS Eye). */
    count: count.max(10_000).optional(),
  })
  .strict();

export const doorReadingSchema = z
  .object({
    ...baseReading,
    kind: z.literal('door'),
    /** true = open. Decoders normalise vendor polarity (zigbee2mqtt `contact: true` = closed). */
    open: z.boolean().optional(),
    /** Running count of openings, for sensors that report a counter rather than a state. */
    openings: count.optional(),
  })
  .strict()
  .refine((r) => r.open !== undefined || r.openings !== undefined, { message: 'a door reading needs open or openings' });

export const climateReadingSchema = z
  .object({
    ...baseReading,
    kind: z.literal('climate'),
    /** °C; the limits are the operating range of the indoor sensors we support. */
    temperature: z.number().min(-40).max(85).optional(),
    /** % relative humidity. */
    humidity: z.number().min(0).max(100).optional(),
    /** ppm; NDIR sensors in this class measure up to 10 000 and some to 40 000. */
    co2: z.number().min(0).max(40_000).optional(),
    /** TVOC in ppb (Milesight's own decoders report "tvoc" in ppb or an index; decoders convert). */
    tvoc: z.number().min(0).max(100_000).optional(),
    /** hPa. */
    pressure: z.number().min(300).max(1_100).optional(),
    /** lux. */
    illuminance: z.number().min(0).max(200_000).optional(),
  })
  .strict()
  .refine(
    (r) =>
      r.temperature !== undefined ||
      r.humidity !== undefined ||
      r.co2 !== undefined ||
      r.tvoc !== undefined ||
      r.pressure !== undefined ||
      r.illuminance !== undefined,
    { message: 'a climate reading needs at least one value' },
  );

export const healthReadingSchema = z
  .object({
    ...baseReading,
    kind: z.literal('health'),
    /** % remaining. */
    battery: z.number().min(0).max(100).optional(),
    /** dBm of the last uplink as heard by the best gateway. */
    rssi: z.number().min(-200).max(20).optional(),
    /** dB. */
    snr: z.number().min(-40).max(40).optional(),
  })
  .strict()
  .refine((r) => r.battery !== undefined || r.rssi !== undefined || r.snr !== undefined, {
    message: 'a health reading needs battery, rssi or snr',
  });

/** The schema of each kind, for callers that dispatch on `kind` themselves (the ingest's hot path). */
export const readingSchemasByKind = {
  counter: counterReadingSchema,
  presence: presenceReadingSchema,
  door: doorReadingSchema,
  climate: climateReadingSchema,
  health: healthReadingSchema,
} as const;

export const readingSchema = z.discriminatedUnion('kind', [
  counterReadingSchema,
  presenceReadingSchema,
  doorReadingSchema,
  climateReadingSchema,
  healthReadingSchema,
]);

export type Reading = z.infer<typeof readingSchema>;
/** What a producer writes; `line` on counters may be omitted (defaults to "main"). */
export type ReadingInput = z.input<typeof readingSchema>;
export type CounterReading = z.infer<typeof counterReadingSchema>;
export type PresenceReading = z.infer<typeof presenceReadingSchema>;
export type DoorReading = z.infer<typeof doorReadingSchema>;
export type ClimateReading = z.infer<typeof climateReadingSchema>;
export type HealthReading = z.infer<typeof healthReadingSchema>;

/** Upper bound on readings per envelope; keeps one message well under the ingest's size limit. */
export const MAX_READINGS_PER_ENVELOPE = 5_000;

/**
 * The envelope a gateway publishes. The header is validated strictly; readings are validated one by
 * one so that a bad reading costs only itself (issue 2: "one bad reading in a batch does not lose
 * the good ones").
 */
export const envelopeHeaderSchema = z
  .object({
    v: z.literal(SCHEMA_VERSION),
    gateway: slugSchema,
    torg: slugSchema,
    sentAt: utcInstantSchema,
    /** Per-gateway sequence number, monotonically increasing within a gateway's outbox. */
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    readings: z.array(z.unknown()).min(1).max(MAX_READINGS_PER_ENVELOPE),
  })
  .strict();

export const envelopeSchema = envelopeHeaderSchema.extend({
  readings: z.array(readingSchema).min(1).max(MAX_READINGS_PER_ENVELOPE),
});

export type Envelope = z.infer<typeof envelopeSchema>;
export type EnvelopeInput = z.input<typeof envelopeSchema>;

/**
 * What the alert engine needs to know about one torg at one evaluation. The live-state service builds
 * it from the latest readings and the liveness tracker; the engine never reads InfluxDB or MQTT.
 *
 * `null` means unknown: no fresh reading (the live state marks it stale) or no sensor for it. Unknown
 * is never read as 0 or false (issue 5: "Stale is a state, not a zero"), and the engine treats it as
 * "no evidence either way": an unknown value neither starts, fires nor resolves a threshold alert.
 */
import { z } from 'zod';
import { LIVENESS_STATES } from '../live/live.schema.ts';

export const zoneFactsSchema = z
  .object({
    /** Zone id from the torg model. */
    id: z.string().min(1),
    /** Someone present (presence sensor or head count > 0); null when unknown or stale. */
    occupied: z.boolean().nullable(),
    /** Head count where a sensor gives one; null otherwise. */
    count: z.number().int().nonnegative().nullable(),
    /** Latest fresh CO2 in ppm; null when stale or no CO2 sensor in the zone. */
    co2: z.number().nonnegative().nullable(),
    /** The zone's fire-safety maximum (torg model `fireMax`). */
    fireMax: z.number().int().positive(),
  })
  .strict();

export const doorFactsSchema = z
  .object({
    device: z.string().min(1),
    /** Zone or entrance name to show staff, e.g. "Hovedinngang". */
    name: z.string().min(1).optional(),
    zone: z.string().min(1).optional(),
    /** Null when the door sensor is stale. */
    open: z.boolean().nullable(),
  })
  .strict();

export const deviceFactsSchema = z
  .object({
    device: z.string().min(1),
    class: z.enum(['mains', 'battery']),
    /** From ingest/liveness/liveness.ts at the evaluation instant. */
    liveness: z.enum(LIVENESS_STATES),
    /** Latest battery level in percent; null for mains devices or when unknown. */
    battery: z.number().min(0).max(100).nullable(),
    name: z.string().min(1).optional(),
  })
  .strict();

export const alertFactsSchema = z
  .object({
    zones: z.array(zoneFactsSchema),
    doors: z.array(doorFactsSchema),
    devices: z.array(deviceFactsSchema),
  })
  .strict();

export type ZoneFacts = z.infer<typeof zoneFactsSchema>;
export type DoorFacts = z.infer<typeof doorFactsSchema>;
export type DeviceFacts = z.infer<typeof deviceFactsSchema>;
export type AlertFacts = z.infer<typeof alertFactsSchema>;

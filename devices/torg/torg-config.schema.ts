/**
 * The torg model: the buildings, their opening hours, entrances and rooms. One JSON file for the
 * municipality (config/torg.json; config/torg.asker.sample.json ships as sample data).
 *
 * Opening hours are local wall-clock times in the torg's time zone (Europe/Oslo), split into
 * staffed hours and meråpent hours (self-service with access control, no staff). Everything that
 * needs "open time" (metrics, alerts, live reset at closing) derives it from this model through
 * devices/torg/opening-hours.ts, never from UTC.
 */
import { z } from 'zod';
import { parseConfig, readJsonConfig } from '../contract/config-file.ts';
import { slugSchema } from '../contract/reading.schema.ts';

/** `HH:MM`, 00:00–24:00 (24:00 = end of day). */
export const clockTimeSchema = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be a local time HH:MM (00:00–24:00)');

/** A half-open local interval [from, to). */
export const intervalSchema = z
  .tuple([clockTimeSchema, clockTimeSchema])
  .refine(([a, b]) => a < b, { message: 'an interval must end after it starts (HH:MM, from < to)' });

export const dayHoursSchema = z
  .object({
    staffed: z.array(intervalSchema).default([]),
    meraapent: z.array(intervalSchema).default([]),
  })
  .strict()
  .superRefine((d, ctx) => {
    const all = [...d.staffed.map((i) => ({ i, k: 'staffed' })), ...d.meraapent.map((i) => ({ i, k: 'meraapent' }))].sort(
      (a, b) => (a.i[0] < b.i[0] ? -1 : 1),
    );
    for (let n = 1; n < all.length; n++) {
      if (all[n]!.i[0] < all[n - 1]!.i[1]) {
        ctx.addIssue({ code: 'custom', message: `intervals overlap: ${all[n - 1]!.i.join('–')} and ${all[n]!.i.join('–')}` });
      }
    }
  });

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const isoDate = z.iso.date();

export const exceptionSchema = z
  .object({
    /** First day (local date, inclusive). */
    from: isoDate,
    /** Last day (local date, inclusive); defaults to `from`. */
    to: isoDate.optional(),
    name: z.string().min(1),
    /** Closed all day, or these hours instead of the weekly ones. */
    closed: z.boolean().default(false),
    hours: dayHoursSchema.optional(),
  })
  .strict()
  .refine((e) => e.closed !== (e.hours !== undefined), { message: 'an exception is either closed: true or has hours' })
  .refine((e) => e.to === undefined || e.to >= e.from, { message: '"to" must not be before "from"' });

export const MODULE_TYPES = ['innbyggerservice', 'møterom', 'arbeidsplasser', 'arrangement', 'bibliotek', 'meråpent-sone'] as const;
export type ModuleType = (typeof MODULE_TYPES)[number];

export const zoneSchema = z
  .object({
    id: slugSchema,
    name: z.string().min(1),
    module: z.enum(MODULE_TYPES),
    /** Seats or people the module is dimensioned for (utilisation = occupancy ÷ capacity). */
    capacity: z.number().int().min(1),
    /** Maximum people allowed by the fire-safety approval (branntillatelse); alerts above it. */
    fireMax: z.number().int().min(1),
    /** Bookable through the municipality's booking system (ICS feed), for ghost-booking analysis. */
    bookable: z.boolean().default(false),
  })
  .strict()
  .refine((z) => z.fireMax >= z.capacity, { message: 'fireMax must be at least capacity' });

export const entranceSchema = z
  .object({
    id: slugSchema,
    name: z.string().min(1),
    /** Counting lines at this entrance, as the counter device reports them (e.g. "line-1"). */
    lines: z.array(slugSchema).min(1).default(['main']),
  })
  .strict()
  .superRefine((e, ctx) => {
    // The line name is the InfluxDB `line` tag: two lines of one name would write one series.
    e.lines.forEach((l, i) => {
      if (e.lines.indexOf(l) !== i) ctx.addIssue({ code: 'custom', path: ['lines', i], message: `duplicate line "${l}"` });
    });
  });

export const torgSchema = z
  .object({
    id: slugSchema,
    name: z.string().min(1),
    /** Residents in the torg's catchment area (for visits per 1000 residents). */
    population: z.number().int().min(1),
    timeZone: z.literal('Europe/Oslo').default('Europe/Oslo'),
    /** Public holidays that close the torg, by ISO country code (computed, e.g. Easter moves). */
    holidays: z.enum(['NO', 'none']).default('NO'),
    openingHours: z.object(Object.fromEntries(WEEKDAYS.map((d) => [d, dayHoursSchema])) as Record<Weekday, typeof dayHoursSchema>).strict(),
    exceptions: z.array(exceptionSchema).default([]),
    entrances: z.array(entranceSchema).min(1),
    zones: z.array(zoneSchema).min(1),
    /** Maximum people in the whole torg (sum of fire approvals), for the torg-level capacity. */
    capacity: z.number().int().min(1),
  })
  .strict()
  .superRefine((t, ctx) => {
    const entranceIds = new Set<string>();
    t.entrances.forEach((e, i) => {
      if (entranceIds.has(e.id)) ctx.addIssue({ code: 'custom', path: ['entrances', i, 'id'], message: `duplicate entrance id "${e.id}"` });
      entranceIds.add(e.id);
    });
    const seen = new Set<string>();
    t.zones.forEach((z, i) => {
      if (seen.has(z.id)) ctx.addIssue({ code: 'custom', path: ['zones', i, 'id'], message: `duplicate zone id "${z.id}"` });
      seen.add(z.id);
    });
  });

export const torgConfigSchema = z
  .object({
    /** Marks shipped sample data, so nobody mistakes it for the municipality's real figures. */
    sample: z.boolean().default(false),
    municipality: z.string().min(1),
    torg: z.array(torgSchema).min(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.torg.forEach((t, i) => {
      if (seen.has(t.id)) ctx.addIssue({ code: 'custom', path: ['torg', i, 'id'], message: `duplicate torg id "${t.id}"` });
      seen.add(t.id);
    });
  });

export type TorgConfig = z.infer<typeof torgConfigSchema>;
export type Torg = z.infer<typeof torgSchema>;
export type Zone = z.infer<typeof zoneSchema>;
export type Entrance = z.infer<typeof entranceSchema>;
export type DayHours = z.infer<typeof dayHoursSchema>;
export type OpeningException = z.infer<typeof exceptionSchema>;

/** Parses a torg config value; throws E_CONFIG_INVALID naming the bad key(s), by id: `torg[heggedal].zones[mote-1].capacity`. */
export function parseTorgConfig(input: unknown, source = 'torg config'): TorgConfig {
  return parseConfig(torgConfigSchema, input, source);
}

export function loadTorgConfig(file: string): TorgConfig {
  return parseTorgConfig(readJsonConfig(file), file);
}

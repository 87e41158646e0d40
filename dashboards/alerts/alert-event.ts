/**
 * An alert lifecycle event, as published on `itorg/v1/{torg}/alerts/{id}`, POSTed to webhooks and kept
 * in InfluxDB. Subscribers validate it with `alertEventSchema`. The texts are for facility staff, in
 * Norwegian bokmål with English beside it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RULE_IDS, SEVERITIES, type RuleId } from './alert-config.schema.ts';

const instant = z.number().int().nonnegative();

export const alertEventSchema = z
  .object({
    /** Stable for one occurrence: the same from firing to resolved, new when the condition returns. */
    id: z.string().regex(/^[0-9a-f]{16}$/),
    rule: z.enum(RULE_IDS),
    torg: z.string(),
    /** Zone id (co2_high, over_fire_max) or device id (the other rules). */
    subject: z.string(),
    /** Human name of the subject (zone name, device name), for texts and the live page. */
    subjectName: z.string(),
    severity: z.enum(SEVERITIES),
    state: z.enum(['firing', 'resolved']),
    /** When the condition began (ms since epoch). */
    since: instant,
    /** When this event happened: the firing or the resolution. */
    at: instant,
    /** The measured value at `at` (ppm, people, %), null where the rule has none or it is unknown. */
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    message: z.object({ nb: z.string(), en: z.string() }),
  })
  .strict();
export type AlertEvent = z.infer<typeof alertEventSchema>;

/**
 * 16 hex digits of SHA-256 over rule, torg, subject and the start of the condition: the same
 * occurrence gets the same id after a restart that rebuilds it from the same facts, and a later
 * occurrence of the same condition gets a new one. 64 bits make a collision among the few thousand
 * alerts a year negligible.
 */
export function alertId(rule: RuleId, torg: string, subject: string, sinceMs: number): string {
  return createHash('sha256').update(`${rule}\n${torg}\n${subject}\n${sinceMs}`).digest('hex').slice(0, 16);
}

/** Whole minutes, rounded down: "i 15 min" should not appear before 15 minutes have passed. */
function minutes(ms: number): number {
  return Math.max(0, Math.floor(ms / 60_000));
}

function num(n: number | null, lang: 'nb' | 'en'): string {
  if (n === null) return lang === 'nb' ? 'ukjent' : 'unknown';
  const rounded = Math.round(n * 10) / 10;
  // Norwegian uses a decimal comma (Språkrådet, "Tal og tidsuttrykk").
  return lang === 'nb' ? String(rounded).replace('.', ',') : String(rounded);
}

export interface MessageInput {
  rule: RuleId;
  state: 'firing' | 'resolved';
  subjectName: string;
  value: number | null;
  threshold: number | null;
  /** at − since. */
  durationMs: number;
}

/** The bokmål and English texts of an event. */
export function alertMessage(m: MessageInput): { nb: string; en: string } {
  const min = minutes(m.durationMs);
  const s = m.subjectName;
  const t = m.threshold;
  switch (m.rule) {
    case 'co2_high':
      return m.state === 'firing'
        ? { nb: `CO2 over ${num(t, 'nb')} ppm i ${s} i ${min} min (nå ${num(m.value, 'nb')} ppm)`, en: `CO2 above ${num(t, 'en')} ppm in ${s} for ${min} min (now ${num(m.value, 'en')} ppm)` }
        : { nb: `CO2 i ${s} er i orden igjen etter ${min} min (nå ${num(m.value, 'nb')} ppm)`, en: `CO2 in ${s} is back to normal after ${min} min (now ${num(m.value, 'en')} ppm)` };
    case 'over_fire_max':
      return m.state === 'firing'
        ? { nb: `${num(m.value, 'nb')} personer i ${s}, over brannmaks ${num(t, 'nb')}`, en: `${num(m.value, 'en')} people in ${s}, above the fire-safety maximum of ${num(t, 'en')}` }
        : { nb: `${s} er under brannmaks ${num(t, 'nb')} igjen (nå ${num(m.value, 'nb')} personer)`, en: `${s} is within the fire-safety maximum of ${num(t, 'en')} again (now ${num(m.value, 'en')} people)` };
    case 'door_open_outside_hours':
      return m.state === 'firing'
        ? { nb: `Døren ${s} har stått åpen i ${min} min utenfor åpningstid`, en: `Door ${s} has been open for ${min} min outside opening hours` }
        : { nb: `Døren ${s} er lukket igjen eller torget har åpnet (etter ${min} min)`, en: `Door ${s} is closed again or the torg has opened (after ${min} min)` };
    case 'device_offline':
      return m.state === 'firing'
        ? { nb: `Enheten ${s} svarer ikke (frakoblet) i åpningstiden`, en: `Device ${s} is not responding (offline) during opening hours` }
        : { nb: `Enheten ${s} er tilkoblet igjen etter ${min} min`, en: `Device ${s} is back online after ${min} min` };
    case 'battery_low':
      return m.state === 'firing'
        ? { nb: `Lavt batteri på ${s}: ${num(m.value, 'nb')} % (under ${num(t, 'nb')} %), bytt batteri`, en: `Low battery on ${s}: ${num(m.value, 'en')} % (below ${num(t, 'en')} %), replace the battery` }
        : { nb: `Batteriet på ${s} er i orden igjen (${num(m.value, 'nb')} %)`, en: `Battery on ${s} is fine again (${num(m.value, 'en')} %)` };
  }
}

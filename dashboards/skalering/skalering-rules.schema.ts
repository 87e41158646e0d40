/**
 * Skalering rules (config/skalering.sample.json): when a module of a torg should be scaled up or
 * down, converted, or the torg's meråpent hours extended. Every rule counts ISO weeks: it fires when
 * its condition held in at least `minWeeks` of the last `windowWeeks` complete ISO weeks (Oslo).
 */
import { z } from 'zod';
import { parseConfig, readJsonConfig } from '../../devices/contract/config-file.ts';
import { MODULE_TYPES } from '../../devices/torg/torg-config.schema.ts';
import { SPLITS } from '../metrics/metric-row.schema.ts';

const share = z.number().min(0).max(1);
const minWeeks = z.number().int().min(1);

export const skaleringRulesSchema = z
  .object({
    version: z.string().min(1),
    sample: z.boolean().default(false),
    /** M: the last M complete ISO weeks before the evaluation instant. */
    windowWeeks: z.number().int().min(1).max(104),
    /** Which split of the week rows utilisation is read from (`all` = all open time). */
    split: z.enum(SPLITS).default('all'),
    /** Module types evaluated; all module types of each torg when absent. */
    modules: z.array(z.enum(MODULE_TYPES)).min(1).optional(),
    scaleUp: z.object({ utilisationAbove: share, peakShareAbove: z.number().min(0), minWeeks }).strict(),
    scaleDown: z.object({ utilisationBelow: share, minWeeks }).strict(),
    extendMeraapent: z
      .object({
        /** Torg hour-row value read in the first and last hour of each day's meråpent opening. */
        metric: z.enum(['avgOccupancy', 'peakOccupancy', 'visits']),
        /** A week meets the rule when the mean of the edge hours is above this (people, or visits per hour). */
        above: z.number().min(0),
        minWeeks,
      })
      .strict(),
    convert: z.object({ ghostShareAbove: share, minWeeks }).strict(),
    dimensioning: z
      .object({
        /** Demand percentile the capacity must cover, e.g. 0.9. */
        percentile: z.number().gt(0).max(1),
        weeks: z.number().int().min(1).max(104),
      })
      .strict(),
  })
  .strict()
  .superRefine((r, ctx) => {
    for (const k of ['scaleUp', 'scaleDown', 'extendMeraapent', 'convert'] as const) {
      if (r[k].minWeeks > r.windowWeeks) ctx.addIssue({ code: 'custom', path: [k, 'minWeeks'], message: `must not exceed windowWeeks (${r.windowWeeks})` });
    }
    if (r.scaleDown.utilisationBelow >= r.scaleUp.utilisationAbove) {
      ctx.addIssue({ code: 'custom', path: ['scaleDown', 'utilisationBelow'], message: 'must be below scaleUp.utilisationAbove' });
    }
  });
export type SkaleringRules = z.infer<typeof skaleringRulesSchema>;

/** Throws E_CONFIG_INVALID naming the bad key(s), e.g. `scaleUp.minWeeks`. */
export function parseSkaleringRules(input: unknown, source = 'skalering rules'): SkaleringRules {
  return parseConfig(skaleringRulesSchema, input, source, 'dots');
}

export function loadSkaleringRules(file: string): SkaleringRules {
  return parseSkaleringRules(readJsonConfig(file), file);
}

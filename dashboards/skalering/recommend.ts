/**
 * Skalering recommendations per module and torg from week (and hour) metric rows and ghost-booking
 * facts, under configurable rules (skalering-rules.schema.ts). Pure: the evaluation instant is
 * passed in; every recommendation carries the numbers of each week it was decided from.
 */
import { z } from 'zod';
import { dayIntervals, localDay, localIsoWeek } from '../../devices/torg/opening-hours.ts';
import type { LocalPeriod } from '../../devices/torg/opening-hours.ts';
import { MODULE_TYPES } from '../../devices/torg/torg-config.schema.ts';
import type { ModuleType, Torg } from '../../devices/torg/torg-config.schema.ts';
import type { MetricRow } from '../metrics/metric-row.schema.ts';
import type { SkaleringRules } from './skalering-rules.schema.ts';

const HOUR_MS = 3_600_000;

/**
 * What skalering needs from bookings (dashboards/bookings, built separately): booked and ghost hours
 * per bookable zone and ISO week. Declared here so neither module imports the other.
 */
export const ghostWeekSchema = z
  .object({
    torg: z.string().min(1),
    zone: z.string().min(1),
    /** ISO week label `2026-W43` (Oslo). */
    week: z.string().regex(/^\d{4}-W\d{2}$/),
    /** Booked hours of slots whose presence was known (slots with unknown presence are left out of both hours, so they never count as used or ghost). */
    bookedHours: z.number().min(0),
    /** Booked hours of slots with no presence for at least 15 minutes (product.md "ghost booking"). */
    ghostHours: z.number().min(0),
  })
  .strict()
  .refine((g) => g.ghostHours <= g.bookedHours, { message: 'ghostHours must not exceed bookedHours', path: ['ghostHours'] });
export type GhostWeek = z.infer<typeof ghostWeekSchema>;

export const RECOMMENDATION_KINDS = ['scale-up', 'scale-down', 'extend-meraapent-earlier', 'extend-meraapent-later', 'convert', 'hold'] as const;
export type RecommendationKind = (typeof RECOMMENDATION_KINDS)[number];

export const weekEvidenceSchema = z
  .object({
    week: z.string(),
    /** The week's numbers the rule read (null: no data that week). */
    values: z.record(z.string(), z.number().nullable()),
    /** The rule's condition held in a week with sufficient data; never true for a low-completeness week. */
    met: z.boolean(),
    /**
     * The week's rows were below the completeness threshold: insufficient data. Such a week never
     * counts towards N of M, since a partial week's average or peak can not be told from a real one.
     */
    lowCompleteness: z.boolean(),
  })
  .strict();
export type WeekEvidence = z.infer<typeof weekEvidenceSchema>;

export const recommendationSchema = z
  .object({
    torg: z.string(),
    /** null for torg-wide recommendations (meråpent hours). */
    module: z.enum(MODULE_TYPES).nullable(),
    kind: z.enum(RECOMMENDATION_KINDS),
    message: z.object({ nb: z.string(), en: z.string() }).strict(),
    thresholds: z.record(z.string(), z.number()),
    weeksMet: z.number().int().min(0),
    weeksWithData: z.number().int().min(0),
    minWeeks: z.number().int().min(0),
    windowWeeks: z.number().int().min(1),
    evidence: z.array(weekEvidenceSchema),
  })
  .strict();
export type Recommendation = z.infer<typeof recommendationSchema>;

export const recommendationResultSchema = z
  .object({
    rulesVersion: z.string(),
    /** The ISO weeks evaluated, oldest first. */
    weeks: z.array(z.string()),
    recommendations: z.array(recommendationSchema),
  })
  .strict();
export type RecommendationResult = z.infer<typeof recommendationResultSchema>;

export interface RecommendInputs {
  torg: readonly Torg[];
  /** Torg hour rows (split meraapent) of the window, for the meråpent-edge rule. */
  hourRows: readonly MetricRow[];
  ghostWeeks: readonly GhostWeek[];
  /** Evaluation instant (from the injected clock): the window is the complete ISO weeks before its week. */
  asOfMs: number;
}

/** The `count` complete ISO weeks (Oslo) before the week containing `asOfMs`, oldest first. */
export function lastIsoWeeks(asOfMs: number, count: number, zone = 'Europe/Oslo'): LocalPeriod[] {
  const out: LocalPeriod[] = [];
  let w = localIsoWeek(asOfMs, zone);
  for (let i = 0; i < count; i++) {
    w = localIsoWeek(w.startMs - 1, zone);
    out.unshift(w);
  }
  return out;
}

const pct = (x: number): string => `${Math.round(x * 100)} %`;

const MODULE_EN: Record<ModuleType, string> = {
  innbyggerservice: 'citizen service',
  møterom: 'meeting rooms',
  arbeidsplasser: 'co-working seats',
  arrangement: 'event space',
  bibliotek: 'library',
  'meråpent-sone': 'meråpent zone',
};

function decide(
  base: Pick<Recommendation, 'torg' | 'module' | 'kind' | 'message' | 'thresholds'>,
  evidence: WeekEvidence[],
  minWeeks: number,
  windowWeeks: number,
): Recommendation & { fires: boolean } {
  const weeksMet = evidence.filter((e) => e.met).length;
  const weeksWithData = evidence.filter((e) => Object.values(e.values).some((v) => v !== null)).length;
  return { ...base, weeksMet, weeksWithData, minWeeks, windowWeeks, evidence, fires: weeksMet >= minWeeks };
}

export function recommend(rules: SkaleringRules, weekRows: readonly MetricRow[], inputs: RecommendInputs): RecommendationResult {
  const weeks = lastIsoWeeks(inputs.asOfMs, rules.windowWeeks);
  const M = rules.windowWeeks;
  const byKey = new Map<string, MetricRow>();
  for (const r of weekRows) {
    if (r.period === 'week' && r.split === rules.split) byKey.set(`${r.scope}|${r.torg ?? ''}|${r.scopeId}|${r.label}`, r);
  }
  const out: Recommendation[] = [];
  for (const torg of inputs.torg) {
    const modules = [...new Set(torg.zones.map((z) => z.module))].filter((m) => !rules.modules || rules.modules.includes(m));
    for (const module of modules) {
      const zones = torg.zones.filter((z) => z.module === module);
      const fired: Recommendation[] = [];
      const up: WeekEvidence[] = [];
      const down: WeekEvidence[] = [];
      const conv: WeekEvidence[] = [];
      for (const w of weeks) {
        const m = byKey.get(`module|${torg.id}|${torg.id}/${module}|${w.label}`);
        const util = m?.utilisation ?? null;
        // Peak against capacity only where the zone counts heads (time at target known); a presence-only
        // room's "peak" is 1 and says nothing about seats.
        let peakShare: number | null = null;
        let lowZone = false;
        for (const z of zones) {
          const zr = byKey.get(`zone|${torg.id}|${z.id}|${w.label}`);
          if (!zr || zr.peakOccupancy === null || zr.timeAtTarget.under60 === null) continue;
          lowZone ||= zr.lowCompleteness;
          peakShare = Math.max(peakShare ?? 0, zr.peakOccupancy / z.capacity);
        }
        const low = (m?.lowCompleteness ?? false) || lowZone;
        const upMet = (util !== null && util > rules.scaleUp.utilisationAbove) || (peakShare !== null && peakShare > rules.scaleUp.peakShareAbove);
        up.push({ week: w.label, values: { utilisation: util, peakShare }, met: upMet && !low, lowCompleteness: low });
        // A week whose peak filled a room is not a quiet week, however low its average: counting it for
        // both rules would recommend scaling the same module up and down at once.
        down.push({
          week: w.label,
          values: { utilisation: util, peakShare },
          met: util !== null && util < rules.scaleDown.utilisationBelow && !upMet && !low,
          lowCompleteness: low,
        });
        let booked = 0;
        let ghost = 0;
        for (const g of inputs.ghostWeeks) {
          if (g.torg === torg.id && g.week === w.label && zones.some((z) => z.id === g.zone)) {
            booked += g.bookedHours;
            ghost += g.ghostHours;
          }
        }
        const ghostShare = booked > 0 ? ghost / booked : null;
        conv.push({
          week: w.label,
          values: { ghostShare, bookedHours: booked > 0 ? booked : null },
          met: ghostShare !== null && ghostShare > rules.convert.ghostShareAbove,
          lowCompleteness: false,
        });
      }
      const name = { nb: `${module} på ${torg.name}`, en: `${MODULE_EN[module]} at ${torg.name}` };
      const u = rules.scaleUp;
      const a = decide(
        {
          torg: torg.id,
          module,
          kind: 'scale-up',
          thresholds: { utilisationAbove: u.utilisationAbove, peakShareAbove: u.peakShareAbove },
          message: {
            nb: `Skaler opp ${name.nb}: utnyttelse over ${pct(u.utilisationAbove)} eller topp over ${pct(u.peakShareAbove)} av kapasiteten i ${up.filter((e) => e.met).length} av ${M} uker.`,
            en: `Scale up ${name.en}: utilisation above ${pct(u.utilisationAbove)} or peak above ${pct(u.peakShareAbove)} of capacity in ${up.filter((e) => e.met).length} of ${M} weeks.`,
          },
        },
        up,
        u.minWeeks,
        M,
      );
      const d = rules.scaleDown;
      const b = decide(
        {
          torg: torg.id,
          module,
          kind: 'scale-down',
          thresholds: { utilisationBelow: d.utilisationBelow },
          message: {
            nb: `Skaler ned ${name.nb}: utnyttelse under ${pct(d.utilisationBelow)} i ${down.filter((e) => e.met).length} av ${M} uker.`,
            en: `Scale down ${name.en}: utilisation below ${pct(d.utilisationBelow)} in ${down.filter((e) => e.met).length} of ${M} weeks.`,
          },
        },
        down,
        d.minWeeks,
        M,
      );
      const c = rules.convert;
      const cv = decide(
        {
          torg: torg.id,
          module,
          kind: 'convert',
          thresholds: { ghostShareAbove: c.ghostShareAbove },
          message: {
            nb: `Vurder å gjøre om ${name.nb}: andel spøkelsesbookinger over ${pct(c.ghostShareAbove)} i ${conv.filter((e) => e.met).length} av ${M} uker.`,
            en: `Consider converting ${name.en}: ghost-booking share above ${pct(c.ghostShareAbove)} in ${conv.filter((e) => e.met).length} of ${M} weeks.`,
          },
        },
        conv,
        c.minWeeks,
        M,
      );
      for (const r of [a, b, cv]) {
        if (r.fires) {
          const { fires: _fires, ...rec } = r;
          fired.push(rec);
        }
      }
      if (fired.length === 0) {
        const { fires: _fires, ...rec } = b;
        fired.push({
          ...rec,
          kind: 'hold',
          thresholds: { utilisationAbove: u.utilisationAbove, utilisationBelow: d.utilisationBelow },
          message: { nb: `Behold ${name.nb}: ingen regel slo til de siste ${M} ukene.`, en: `Hold ${name.en}: no rule fired in the last ${M} weeks.` },
          weeksMet: 0,
          minWeeks: 0,
          evidence: up.map((e) => ({ ...e, met: false })),
        });
      }
      out.push(...fired);
    }
    out.push(...meraapentEdges(rules, torg, weeks, inputs.hourRows));
  }
  return { rulesVersion: rules.version, weeks: weeks.map((w) => w.label), recommendations: out };
}

/**
 * Demand at the edges of meråpent hours: the first hour of a day's opening when the day opens
 * meråpent, and its last hour when it closes meråpent. An edge between meråpent and staffed hours is
 * not an edge of the opening and is not read.
 */
function meraapentEdges(rules: SkaleringRules, torg: Torg, weeks: readonly LocalPeriod[], hourRows: readonly MetricRow[]): Recommendation[] {
  const e = rules.extendMeraapent;
  const hours = new Map<number, MetricRow>();
  for (const r of hourRows) {
    if (r.period === 'hour' && r.scope === 'torg' && r.scopeId === torg.id && r.split === 'meraapent') hours.set(r.start, r);
  }
  const sides = { earlier: [] as WeekEvidence[], later: [] as WeekEvidence[] };
  for (const w of weeks) {
    const edge = { earlier: [] as number[], later: [] as number[] };
    const low = { earlier: false, later: false };
    for (let day = localDay(w.startMs); day.startMs < w.endMs; day = localDay(day.endMs)) {
      const intervals = dayIntervals(torg, day.label);
      const first = intervals[0];
      const last = intervals[intervals.length - 1];
      const read = (side: 'earlier' | 'later', hourStart: number): void => {
        const r = hours.get(hourStart);
        const v = r ? r[e.metric] : null;
        if (r && v !== null) {
          edge[side].push(v);
          low[side] ||= r.lowCompleteness;
        }
      };
      if (first?.kind === 'meraapent') read('earlier', Math.floor(first.startMs / HOUR_MS) * HOUR_MS);
      if (last?.kind === 'meraapent') read('later', Math.floor((last.endMs - 1) / HOUR_MS) * HOUR_MS);
    }
    for (const side of ['earlier', 'later'] as const) {
      const xs = edge[side];
      const mean = xs.length > 0 ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
      sides[side].push({ week: w.label, values: { edgeMean: mean, edgeHours: xs.length > 0 ? xs.length : null }, met: mean !== null && mean > e.above && !low[side], lowCompleteness: low[side] });
    }
  }
  const out: Recommendation[] = [];
  for (const side of ['earlier', 'later'] as const) {
    const met = sides[side].filter((x) => x.met).length;
    const r = decide(
      {
        torg: torg.id,
        module: null,
        kind: side === 'earlier' ? 'extend-meraapent-earlier' : 'extend-meraapent-later',
        thresholds: { above: e.above },
        message:
          side === 'earlier'
            ? {
                nb: `Utvid meråpent tidligere på ${torg.name}: ${e.metric} i første meråpne time over ${e.above} i ${met} av ${rules.windowWeeks} uker.`,
                en: `Open meråpent earlier at ${torg.name}: ${e.metric} in the first meråpent hour above ${e.above} in ${met} of ${rules.windowWeeks} weeks.`,
              }
            : {
                nb: `Utvid meråpent senere på ${torg.name}: ${e.metric} i siste meråpne time over ${e.above} i ${met} av ${rules.windowWeeks} uker.`,
                en: `Keep meråpent open later at ${torg.name}: ${e.metric} in the last meråpent hour above ${e.above} in ${met} of ${rules.windowWeeks} weeks.`,
              },
      },
      sides[side],
      e.minWeeks,
      rules.windowWeeks,
    );
    if (r.fires) {
      const { fires: _fires, ...rec } = r;
      out.push(rec);
    }
  }
  return out;
}

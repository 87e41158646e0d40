/**
 * The five rules as pure functions of (facts, rule config, torg model, instant). Each yields one
 * observation per subject; the engine (alert-engine.ts) turns observations into the lifecycle.
 *
 * An observation answers two questions separately, which is what hysteresis needs:
 *   breached: should an alert start (or keep counting towards its minimum duration)?
 *   cleared:  may a firing alert resolve?
 * `null` for either means unknown: the engine then changes nothing for that subject.
 */
import { openingStatus } from '../../devices/torg/opening-hours.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { shouldAlertOffline } from '../../ingest/liveness/liveness.ts';
import type { AlertFacts } from './alert-facts.ts';
import type { RuleId, RulesConfig } from './alert-config.schema.ts';

export interface Observation {
  rule: RuleId;
  subject: string;
  subjectName: string;
  value: number | null;
  threshold: number | null;
  breached: boolean | null;
  cleared: boolean | null;
}

export function observe(facts: AlertFacts, rules: RulesConfig, torg: Torg, nowMs: number): Observation[] {
  const out: Observation[] = [];
  const zoneName = new Map(torg.zones.map((z) => [z.id, z.name]));

  if (rules.co2_high.enabled) {
    const r = rules.co2_high;
    const clearAt = r.clearAtOrBelowPpm ?? r.abovePpm;
    for (const z of facts.zones) {
      const base = { rule: 'co2_high' as const, subject: z.id, subjectName: zoneName.get(z.id) ?? z.id, value: z.co2, threshold: r.abovePpm };
      // "While occupied": an empty room with bad air is no one's problem until someone enters, so a
      // known-empty room both stops a pending alert and resolves a firing one, whatever its CO2.
      if (z.occupied === false) out.push({ ...base, breached: false, cleared: true });
      else if (z.occupied === null || z.co2 === null) out.push({ ...base, breached: null, cleared: null });
      else out.push({ ...base, breached: z.co2 > r.abovePpm, cleared: z.co2 <= clearAt });
    }
  }

  if (rules.over_fire_max.enabled) {
    const r = rules.over_fire_max;
    for (const z of facts.zones) {
      const limit = r.fireMaxFactor * z.fireMax;
      const known = z.count !== null;
      out.push({
        rule: 'over_fire_max',
        subject: z.id,
        subjectName: zoneName.get(z.id) ?? z.id,
        value: z.count,
        threshold: limit,
        breached: known ? z.count! > limit : null,
        cleared: known ? z.count! <= limit : null,
      });
    }
  }

  if (rules.door_open_outside_hours.enabled) {
    // Meråpent counts as open: the doors are meant to be used then, behind access control.
    const closed = openingStatus(torg, nowMs) === 'closed';
    for (const d of facts.doors) {
      const problem = d.open === null ? null : d.open && closed;
      out.push({
        rule: 'door_open_outside_hours',
        subject: d.device,
        subjectName: d.name ?? d.device,
        value: null,
        threshold: null,
        breached: problem,
        cleared: problem === null ? null : !problem,
      });
    }
  }

  if (rules.device_offline.enabled) {
    for (const d of facts.devices) {
      out.push({
        rule: 'device_offline',
        subject: d.device,
        subjectName: d.name ?? d.device,
        value: null,
        threshold: null,
        // Only while the torg is open (issue 4): a device that dies at night alerts at opening. The
        // calendar lookup costs ~10 µs, so it runs for offline devices only.
        breached: d.liveness === 'offline' && shouldAlertOffline(d.liveness, torg, nowMs),
        // Only a device that is heard from again resolves. Closing time does not: that would announce
        // "back online" for a device that is still dead, and alert anew each morning under a new id.
        // Stale (silent but not yet offline) and never_seen are not evidence of recovery.
        cleared: d.liveness === 'online',
      });
    }
  }

  if (rules.battery_low.enabled) {
    const r = rules.battery_low;
    for (const d of facts.devices) {
      if (d.class !== 'battery') continue;
      const known = d.battery !== null;
      out.push({
        rule: 'battery_low',
        subject: d.device,
        subjectName: d.name ?? d.device,
        value: d.battery,
        threshold: r.belowPercent,
        breached: known ? d.battery! < r.belowPercent : null,
        cleared: known ? d.battery! >= r.clearAtOrAbovePercent : null,
      });
    }
  }
  return out;
}

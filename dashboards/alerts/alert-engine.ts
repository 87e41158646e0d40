/**
 * The alert lifecycle (issue 5): condition true → pending (not published) → firing once it has held
 * for the rule's minimum duration → resolved when the rule says it cleared. One alert at a time per
 * (rule, torg, subject): while one is pending or firing, the same condition adds nothing
 * (de-duplication), however often it is evaluated.
 *
 * Pure in time: every instant comes from the injected clock, so tests walk it minute by minute. The
 * engine keeps its state in memory and emits events; publishing them is the sinks' job
 * (alert-sink.ts), so a slow webhook never delays an evaluation.
 *
 * Timing granularity: a condition is seen when `evaluate` runs, so it starts at the first evaluation
 * that observes it and fires at the first evaluation at or after start + minimum duration. The
 * live-state service evaluates every few seconds; that is the error bound.
 */
import type { Logger } from 'pino';
import { PlatformError } from '../../devices/contract/errors.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { resolveRuleConfig, type AlertConfig, type RuleId, type RulesConfig, type Severity } from './alert-config.schema.ts';
import { alertId, alertMessage, type AlertEvent } from './alert-event.ts';
import { alertFactsSchema } from './alert-facts.ts';
import type { AlertMetrics } from './alert-metrics.ts';
import { observe, type Observation } from './alert-rules.ts';

export interface AlertEngineOptions {
  torg: readonly Torg[];
  config: AlertConfig;
  /** ms since epoch. */
  clock: () => number;
  logger?: Logger;
  metrics?: Pick<AlertMetrics, 'events'>;
}

interface Tracked {
  rule: RuleId;
  torg: string;
  subject: string;
  subjectName: string;
  severity: Severity;
  since: number;
  phase: 'pending' | 'firing';
  /** The firing event, once fired (what the live page shows). */
  firing?: AlertEvent;
}

const keyOf = (rule: string, torg: string, subject: string): string => `${rule}\u0000${torg}\u0000${subject}`;

export class AlertEngine {
  private readonly torg = new Map<string, { model: Torg; rules: RulesConfig }>();
  private readonly tracked = new Map<string, Tracked>();

  /** Throws E_CONFIG_INVALID when an override names an unknown torg or breaks a rule's constraints. */
  constructor(private readonly opts: AlertEngineOptions) {
    for (const model of opts.torg) this.torg.set(model.id, { model, rules: resolveRuleConfig(opts.config, model.id) });
    for (const id of Object.keys(opts.config.torg)) {
      if (!this.torg.has(id)) throw new PlatformError('E_CONFIG_INVALID', `alert config: torg.${id}: no such torg in the torg model`);
    }
  }

  /** The rules in force for a torg, after defaults and overrides. */
  rulesFor(torgId: string): RulesConfig {
    return this.entry(torgId).rules;
  }

  /**
   * Evaluates one torg's facts at the clock's now and returns the events to publish (firing and
   * resolved, in that order of discovery). Facts are validated here: the live-state service is another
   * module, and a malformed fact must fail loudly rather than read as "no problem".
   */
  evaluate(torgId: string, input: unknown): AlertEvent[] {
    const { model, rules } = this.entry(torgId);
    const facts = alertFactsSchema.parse(input);
    const now = this.opts.clock();
    const observations = observe(facts, rules, model, now);
    const events: AlertEvent[] = [];
    const seen = new Set<string>();

    for (const o of observations) {
      const key = keyOf(o.rule, torgId, o.subject);
      seen.add(key);
      const t = this.tracked.get(key);
      const rule = rules[o.rule];
      if (!t) {
        if (o.breached !== true) continue;
        const started: Tracked = { rule: o.rule, torg: torgId, subject: o.subject, subjectName: o.subjectName, severity: rule.severity, since: now, phase: 'pending' };
        this.tracked.set(key, started);
        this.maybeFire(started, o, rule.forMinutes, now, events);
      } else if (t.phase === 'pending') {
        // A pending alert needs the condition without a known break; unknown keeps it waiting.
        if (o.breached === false) this.tracked.delete(key);
        else if (o.breached === true) this.maybeFire(t, o, rule.forMinutes, now, events);
      } else if (o.cleared === true) {
        this.resolve(key, t, o.value, o.threshold, now, events);
      }
    }

    // A subject that is no longer reported (zone removed from the model, device decommissioned, rule
    // switched off) cannot clear by itself; its alert ends here instead of showing for ever.
    for (const [key, t] of this.tracked) {
      if (t.torg !== torgId || seen.has(key)) continue;
      if (t.phase === 'pending') this.tracked.delete(key);
      else this.resolve(key, t, null, t.firing?.threshold ?? null, now, events);
    }
    return events;
  }

  /**
   * Takes back alerts that were firing before a restart (their retained MQTT events,
   * restore-alerts.ts), with their ids and `since`, so the next evaluation continues them: still
   * breached → nothing new; cleared → resolved with the same id; subject or rule gone → resolved by the
   * missing-subject sweep in `evaluate`.
   *
   * Returns what cannot be continued, as resolved events to publish at once (which also clears their
   * retained messages): an alert of a torg no longer in the model (never evaluated again), and a second
   * alert for a (rule, torg, subject) already tracked (the older one is kept). Events whose id is not
   * `alertId(rule, torg, subject, since)` are skipped: the engine would resolve them under another id.
   */
  restore(events: readonly AlertEvent[]): { restored: AlertEvent[]; resolved: AlertEvent[]; skipped: AlertEvent[] } {
    const restored: AlertEvent[] = [];
    const resolved: AlertEvent[] = [];
    const skipped: AlertEvent[] = [];
    const now = this.opts.clock();
    for (const e of [...events].sort((a, b) => a.since - b.since || a.id.localeCompare(b.id))) {
      if (e.state !== 'firing' || e.id !== alertId(e.rule, e.torg, e.subject, e.since)) {
        skipped.push(e);
        continue;
      }
      const t: Tracked = { rule: e.rule, torg: e.torg, subject: e.subject, subjectName: e.subjectName, severity: e.severity, since: e.since, phase: 'firing', firing: e };
      const key = keyOf(e.rule, e.torg, e.subject);
      if (!this.torg.has(e.torg) || this.tracked.has(key)) {
        resolved.push(this.event(t, 'resolved', null, e.threshold, Math.max(now, e.at)));
        continue;
      }
      this.tracked.set(key, t);
      restored.push(e);
      this.opts.logger?.info({ alert: e.id, rule: e.rule, torg: e.torg, subject: e.subject }, 'alert restored after restart');
    }
    return { restored, resolved, skipped };
  }

  /** Firing alerts, oldest first, for the live page and the API. Pending ones are not shown. */
  activeAlerts(torgId?: string): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (const t of this.tracked.values()) {
      if (t.firing && (torgId === undefined || t.torg === torgId)) out.push(t.firing);
    }
    return out.sort((a, b) => a.since - b.since || a.id.localeCompare(b.id));
  }

  private entry(torgId: string): { model: Torg; rules: RulesConfig } {
    const e = this.torg.get(torgId);
    if (!e) throw new PlatformError('E_CONFIG_INVALID', `alerts: torg "${torgId}" is not in the torg model`);
    return e;
  }

  private maybeFire(t: Tracked, o: Observation, forMinutes: number, now: number, events: AlertEvent[]): void {
    if (now - t.since < forMinutes * 60_000) return;
    t.phase = 'firing';
    t.subjectName = o.subjectName;
    t.firing = this.event(t, 'firing', o.value, o.threshold, now);
    events.push(t.firing);
  }

  private resolve(key: string, t: Tracked, value: number | null, threshold: number | null, now: number, events: AlertEvent[]): void {
    this.tracked.delete(key);
    events.push(this.event(t, 'resolved', value, threshold, now));
  }

  private event(t: Tracked, state: AlertEvent['state'], value: number | null, threshold: number | null, at: number): AlertEvent {
    const event: AlertEvent = {
      id: alertId(t.rule, t.torg, t.subject, t.since),
      rule: t.rule,
      torg: t.torg,
      subject: t.subject,
      subjectName: t.subjectName,
      severity: t.severity,
      state,
      since: t.since,
      at,
      value,
      threshold,
      message: alertMessage({ rule: t.rule, state, subjectName: t.subjectName, value, threshold, durationMs: at - t.since }),
    };
    this.opts.metrics?.events.inc({ rule: t.rule, state });
    this.opts.logger?.info({ alert: event.id, rule: t.rule, torg: t.torg, subject: t.subject, state }, `alert ${state}: ${event.message.en}`);
    return event;
  }
}

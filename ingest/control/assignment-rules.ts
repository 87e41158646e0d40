/**
 * Assignment rules (issue 4 "Auto-provisioning"): a pending device whose birth matches a rule is
 * assigned to a place without an admin. Ordered, first match wins, like a firewall table, so a
 * specific rule placed before a general one overrides it.
 *
 * A rule matches on what the gateway's birth reports (devices/contract/device-messages.schema.ts):
 * torg, gateway, source, model, LoRaWAN tags / DT labels (`labels`) and the source's name (zigbee2mqtt
 * friendly_name, LNS device name, DT label `name`). Every key given must match; absent keys match
 * anything. A text matcher is an exact value, or a regular expression written `/…/` (flags after the
 * closing slash); `name` also takes a glob (`mote-1/*`), since zigbee2mqtt's docs group devices by
 * `/` in friendly names (https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html).
 *
 * The action places the device in a zone or on an entrance's counting line; each id is fixed or read
 * from a label (`{ "label": "zone" }`), so one rule covers every sensor whose installer tagged it.
 * A rule whose label is missing on the device does not match (the next rule is tried). It may also
 * fix the device class and the expected reporting interval when the vendor does not report them.
 *
 * Places are checked against the torg model by the registry when the rule is applied, not here: the
 * same rules file serves every torg.
 */
import { z } from 'zod';
import { DEVICE_CLASSES, DEVICE_SOURCES, type DeviceBirth, type DeviceClass, type Place } from '../../devices/contract/device-messages.schema.ts';
import { parseConfig, readJsonConfig } from '../../devices/contract/config-file.ts';
import { SLUG_PATTERN, slugSchema } from '../../devices/contract/reading.schema.ts';

export const ASSIGNMENT_RULES_VERSION = 1;

/** A compiled text matcher. */
export type TextMatcher = (value: string) => boolean;

const REGEX_LITERAL = /^\/(.*)\/([dgimsuvy]*)$/s;

function compileRegex(source: string, ctx: z.RefinementCtx): TextMatcher | null {
  const m = REGEX_LITERAL.exec(source);
  if (!m) return null;
  try {
    // Flags g and y make RegExp.test stateful (lastIndex), so they are dropped.
    const re = new RegExp(m[1]!, m[2]!.replace(/[gy]/g, ''));
    return (v) => re.test(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression ${source}: ${(e as Error).message}` });
    return () => false;
  }
}

/** Glob for names: `*` any run of characters except `/`, `**` any run including `/`, `?` one character except `/`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

const text = z.string().min(1).max(512);
/** Exact value or `/regex/`. */
const exactOrRegex = text.transform((s, ctx): TextMatcher => compileRegex(s, ctx) ?? ((v) => v === s));
/** Glob or `/regex/`. */
const globOrRegex = text.transform((s, ctx): TextMatcher => {
  const re = compileRegex(s, ctx);
  if (re) return re;
  const g = globToRegExp(s);
  return (v) => g.test(v);
});

const matchSchema = z
  .object({
    torg: exactOrRegex.optional(),
    gateway: exactOrRegex.optional(),
    source: z.enum(DEVICE_SOURCES).optional(),
    model: exactOrRegex.optional(),
    /** LoRaWAN tag / DT label → exact value or /regex/; the label must be present. */
    labels: z.record(z.string().min(1).max(128), exactOrRegex).optional(),
    /** zigbee2mqtt friendly_name, LNS device name, DT `name` label: glob or /regex/. */
    name: globOrRegex.optional(),
  })
  .strict();

/** A place id: fixed, or the value of one of the device's labels. */
const idSourceSchema = z.union([slugSchema, z.object({ label: z.string().min(1).max(128) }).strict()]);
type IdSource = z.infer<typeof idSourceSchema>;

const actionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('zone'), zone: idSourceSchema }).strict(),
  z.object({ type: z.literal('entrance'), entrance: idSourceSchema, line: idSourceSchema }).strict(),
]);

const ruleSchema = z
  .object({
    /** For logs and the audit trail ("assigned by rule 2 (mote-rom)"). */
    name: z.string().min(1).max(128).optional(),
    match: matchSchema,
    assign: actionSchema,
    deviceClass: z.enum(DEVICE_CLASSES).optional(),
    expectedIntervalS: z.number().int().positive().max(7 * 86_400).optional(),
  })
  .strict();

export const assignmentRulesSchema = z
  .object({
    v: z.literal(ASSIGNMENT_RULES_VERSION),
    rules: z.array(ruleSchema).max(10_000),
  })
  .strict();
export type AssignmentRules = z.output<typeof assignmentRulesSchema>;
export type AssignmentRule = AssignmentRules['rules'][number];

/** The rule set with no rules: every new device waits for an admin. */
export const NO_RULES: AssignmentRules = { v: ASSIGNMENT_RULES_VERSION, rules: [] };

/** Path as the person editing the file reads it: `rules[2].match.labels.zone`. */
/** Validates a parsed rules document; E_CONFIG_INVALID naming the rule index and key of each problem. */
export function parseAssignmentRules(json: unknown, source = 'assignment rules'): AssignmentRules {
  return parseConfig(assignmentRulesSchema, json, source, 'indices');
}

export function loadAssignmentRules(path: string): AssignmentRules {
  return parseAssignmentRules(readJsonConfig(path), path);
}

/** What a rule is matched against: the birth, with torg and gateway from its topic. */
export type RuleSubject = Pick<DeviceBirth, 'source' | 'model' | 'labels'> & { torg: string; gateway: string; name?: string | undefined };

export interface RuleMatch {
  /** 0-based index in the file. */
  index: number;
  rule: AssignmentRule;
  place: Place;
  deviceClass?: DeviceClass;
  expectedIntervalS?: number;
}

function resolveId(src: IdSource, labels: Readonly<Record<string, string>>): string | null {
  if (typeof src === 'string') return src;
  const v = labels[src.label];
  // A label value that is not a slug can never be a zone/entrance/line id of the torg model.
  return v !== undefined && SLUG_PATTERN.test(v) ? v : null;
}

function matches(rule: AssignmentRule, s: RuleSubject): boolean {
  const m = rule.match;
  if (m.torg && !m.torg(s.torg)) return false;
  if (m.gateway && !m.gateway(s.gateway)) return false;
  if (m.source && m.source !== s.source) return false;
  if (m.model && !m.model(s.model)) return false;
  if (m.name && (s.name === undefined || !m.name(s.name))) return false;
  if (m.labels) {
    for (const [key, test] of Object.entries(m.labels)) {
      const v = s.labels[key];
      if (v === undefined || !test(v)) return false;
    }
  }
  return true;
}

/** The first rule that matches and whose label-derived ids all resolve; null when none does. */
export function matchAssignmentRule(rules: AssignmentRules, subject: RuleSubject): RuleMatch | null {
  for (let index = 0; index < rules.rules.length; index++) {
    const rule = rules.rules[index]!;
    if (!matches(rule, subject)) continue;
    const a = rule.assign;
    let place: Place | null = null;
    if (a.type === 'zone') {
      const zone = resolveId(a.zone, subject.labels);
      if (zone !== null) place = { type: 'zone', zone };
    } else {
      const entrance = resolveId(a.entrance, subject.labels);
      const line = resolveId(a.line, subject.labels);
      if (entrance !== null && line !== null) place = { type: 'entrance', entrance, line };
    }
    if (place === null) continue;
    return {
      index,
      rule,
      place,
      ...(rule.deviceClass !== undefined ? { deviceClass: rule.deviceClass } : {}),
      ...(rule.expectedIntervalS !== undefined ? { expectedIntervalS: rule.expectedIntervalS } : {}),
    };
  }
  return null;
}

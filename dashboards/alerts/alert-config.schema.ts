/**
 * Alert rules configuration (issue 5, "Alerts"): built-in defaults, optional municipality-wide
 * overrides, optional per-torg overrides, and the webhooks that receive events. One JSON file,
 * validated once at start-up; `resolveRuleConfig` merges the three levels for a torg and validates the
 * merged result, so a per-torg override that breaks a cross-field rule (a clear level above the fire
 * level) is refused with the key that caused it.
 */
import { z } from 'zod';
import { formatConfigIssues, parseConfig } from '../../devices/contract/config-file.ts';
import { PlatformError } from '../../devices/contract/errors.ts';
import { slugSchema } from '../../devices/contract/reading.schema.ts';

export const RULE_IDS = ['co2_high', 'over_fire_max', 'door_open_outside_hours', 'device_offline', 'battery_low'] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const common = {
  enabled: z.boolean(),
  severity: z.enum(SEVERITIES),
  /** The condition must hold this long (minutes, ≥ 0) before the alert fires; 0 fires at once. */
  forMinutes: z.number().min(0).max(24 * 60),
};

const co2RuleBase = z
  .object({
    ...common,
    /** Fires above this (ppm) while the room is occupied. */
    abovePpm: z.number().positive(),
    /**
     * Resolves at or below this (ppm); default `abovePpm`. Lower gives hysteresis against a value
     * hovering at the limit.
     */
    clearAtOrBelowPpm: z.number().positive().optional(),
  })
  .strict();
export const co2RuleSchema = co2RuleBase.refine((r) => r.clearAtOrBelowPpm === undefined || r.clearAtOrBelowPpm <= r.abovePpm, { message: 'clearAtOrBelowPpm must not exceed abovePpm', path: ['clearAtOrBelowPpm'] });

export const fireMaxRuleSchema = z
  .object({
    ...common,
    /** Fires when the head count exceeds factor × the zone's fireMax (1 = the approved maximum itself). */
    fireMaxFactor: z.number().positive().max(2),
  })
  .strict();

export const plainRuleSchema = z.object(common).strict();

const batteryRuleBase = z
  .object({
    ...common,
    belowPercent: z.number().min(0).max(100),
    /** Resolves at or above this; a battery reading jitters with temperature, so it sits above belowPercent. */
    clearAtOrAbovePercent: z.number().min(0).max(100),
  })
  .strict();
export const batteryRuleSchema = batteryRuleBase.refine((r) => r.clearAtOrAbovePercent >= r.belowPercent, { message: 'clearAtOrAbovePercent must not be below belowPercent', path: ['clearAtOrAbovePercent'] });

export const rulesSchema = z
  .object({
    co2_high: co2RuleSchema,
    over_fire_max: fireMaxRuleSchema,
    door_open_outside_hours: plainRuleSchema,
    device_offline: plainRuleSchema,
    battery_low: batteryRuleSchema,
  })
  .strict();
export type RulesConfig = z.infer<typeof rulesSchema>;

/**
 * Defaults from the issue. CO2 1000 ppm is the Norwegian indoor-air norm (Folkehelseinstituttet,
 * "Anbefalte faglige normer for inneklima", and Arbeidstilsynet's guidance on ventilation); 15 min
 * keeps a short peak during a meeting change from alerting. A door gets 5 min so a late leaver does
 * not alert. Offline has no extra delay: the liveness model already waits its class timeout.
 */
export const DEFAULT_RULES: RulesConfig = {
  co2_high: { enabled: true, severity: 'warning', forMinutes: 15, abovePpm: 1000 },
  over_fire_max: { enabled: true, severity: 'critical', forMinutes: 1, fireMaxFactor: 1 },
  door_open_outside_hours: { enabled: true, severity: 'warning', forMinutes: 5 },
  device_offline: { enabled: true, severity: 'warning', forMinutes: 0 },
  battery_low: { enabled: true, severity: 'info', forMinutes: 0, belowPercent: 20, clearAtOrAbovePercent: 25 },
};

/** An override names only the keys it changes; the merged result is validated against rulesSchema. */
const ruleOverridesSchema = z
  .object({
    co2_high: co2RuleBase.partial().optional(),
    over_fire_max: fireMaxRuleSchema.partial().optional(),
    door_open_outside_hours: plainRuleSchema.partial().optional(),
    device_offline: plainRuleSchema.partial().optional(),
    battery_low: batteryRuleBase.partial().optional(),
  })
  .strict();
export type RuleOverrides = z.infer<typeof ruleOverridesSchema>;

export const webhookSchema = z
  .object({
    /** Shown in logs and metrics; never the URL, which may carry a token. */
    name: slugSchema,
    url: z.url({ protocol: /^https?$/ }),
    /** HMAC-SHA256 key for the X-Itorg-Signature header; at least 16 characters. */
    secret: z.string().min(16),
    /** Only these torg (all when absent). */
    torg: z.array(slugSchema).optional(),
  })
  .strict();
export type WebhookConfig = z.infer<typeof webhookSchema>;

export const alertConfigSchema = z
  .object({
    /** Municipality-wide overrides of the built-in defaults. */
    defaults: ruleOverridesSchema.default({}),
    /** Per-torg overrides, keyed by torg id; applied over `defaults`. */
    torg: z.record(slugSchema, ruleOverridesSchema).default({}),
    webhooks: z.array(webhookSchema).default([]),
  })
  .strict();
export type AlertConfig = z.infer<typeof alertConfigSchema>;

/** Parses the alert config; throws E_CONFIG_INVALID naming the bad key(s). */
export function parseAlertConfig(input: unknown, source = 'alert config'): AlertConfig {
  return parseConfig(alertConfigSchema, input, source, 'dots');
}

/** The rules in force for one torg: built-in defaults ← config.defaults ← config.torg[torgId]. */
export function resolveRuleConfig(config: AlertConfig, torgId: string): RulesConfig {
  const perTorg = config.torg[torgId] ?? {};
  const merged = Object.fromEntries(RULE_IDS.map((id) => [id, { ...DEFAULT_RULES[id], ...config.defaults[id], ...perTorg[id] }]));
  const r = rulesSchema.safeParse(merged);
  if (r.success) return r.data;
  throw new PlatformError('E_CONFIG_INVALID', `alert rules for torg "${torgId}": ${formatConfigIssues(r.error, merged, 'dots')}`);
}

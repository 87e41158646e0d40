import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, parseAlertConfig, resolveRuleConfig } from '../../../dashboards/alerts/alert-config.schema.ts';

describe('alert config', () => {
  it('the shipped sample parses and its overrides apply per torg', () => {
    const config = parseAlertConfig(JSON.parse(readFileSync(new URL('../../../dashboards/alerts/alerts.sample.json', import.meta.url), 'utf8')));
    const asker = resolveRuleConfig(config, 'asker-sentrum');
    expect(asker.co2_high).toEqual({ enabled: true, severity: 'warning', forMinutes: 15, abovePpm: 1000, clearAtOrBelowPpm: 950 });
    expect(asker.over_fire_max).toEqual({ enabled: true, severity: 'warning', forMinutes: 1, fireMaxFactor: 0.9 });
    // Another torg gets the built-in defaults.
    expect(resolveRuleConfig(config, 'heggedal')).toEqual(DEFAULT_RULES);
    expect(config.webhooks.map((w) => w.name)).toEqual(['driftssentral']);
  });

  it('the defaults are the issue\'s: CO2 > 1000 ppm for 15 min, door 5 min, battery < 20 % until ≥ 25 %', () => {
    expect(DEFAULT_RULES.co2_high).toMatchObject({ abovePpm: 1000, forMinutes: 15 });
    expect(DEFAULT_RULES.door_open_outside_hours.forMinutes).toBe(5);
    expect(DEFAULT_RULES.battery_low).toMatchObject({ belowPercent: 20, clearAtOrAbovePercent: 25, forMinutes: 0 });
    expect(DEFAULT_RULES.over_fire_max.fireMaxFactor).toBe(1);
  });

  it('names the bad key', () => {
    expect(() => parseAlertConfig({ torg: { nordby: { co2_high: { forMinutes: -1 } } } })).toThrow(/E_CONFIG_INVALID: .*torg\.nordby\.co2_high\.forMinutes/);
    expect(() => parseAlertConfig({ webhooks: [{ name: 'x', url: 'ftp://a.b/c', secret: '0123456789abcdef' }] })).toThrow(/webhooks\.0\.url/);
    expect(() => parseAlertConfig({ webhooks: [{ name: 'x', url: 'https://a.b/c', secret: 'short' }] })).toThrow(/webhooks\.0\.secret/);
    expect(() => parseAlertConfig({ torg: { nordby: { co2_high: { thresold: 900 } } } })).toThrow(/E_CONFIG_INVALID/);
    const config = parseAlertConfig({ defaults: { battery_low: { belowPercent: 30 } } });
    expect(() => resolveRuleConfig(config, 'nordby')).toThrow(/battery_low\.clearAtOrAbovePercent/);
  });
});

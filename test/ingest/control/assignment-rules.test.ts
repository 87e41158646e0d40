import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../../devices/contract/errors.ts';
import {
  globToRegExp,
  loadAssignmentRules,
  matchAssignmentRule,
  parseAssignmentRules,
  type RuleSubject,
} from '../../../ingest/control/assignment-rules.ts';

const SAMPLE = fileURLToPath(new URL('../../../config/assignment-rules.sample.json', import.meta.url));

const subject = (over: Partial<RuleSubject> = {}): RuleSubject => ({
  torg: 'asker-sentrum',
  gateway: 'gw-asker',
  source: 'chirpstack',
  model: 'milesight-vs133',
  labels: {},
  ...over,
});

function configError(json: unknown): string {
  try {
    parseAssignmentRules(json, 'rules.json');
  } catch (e) {
    expect(e).toBeInstanceOf(PlatformError);
    expect((e as PlatformError).code).toBe('E_CONFIG_INVALID');
    return (e as Error).message;
  }
  throw new Error('expected the rules to be refused');
}

describe('assignment rules', () => {
  it('the shipped sample parses, and its rules place the devices they describe', () => {
    const rules = loadAssignmentRules(SAMPLE);
    expect(rules.rules).toHaveLength(3);
    // Rule 0: a VS135 at hovedinngang, line from its `line` tag.
    expect(matchAssignmentRule(rules, subject({ model: 'milesight-vs135', labels: { entrance: 'hovedinngang', line: 'line-2' } }))).toMatchObject({
      index: 0,
      place: { type: 'entrance', entrance: 'hovedinngang', line: 'line-2' },
    });
    // Same counter at Tofte: rule 0 is for asker-sentrum only; no zone label either → no rule.
    expect(matchAssignmentRule(rules, subject({ torg: 'tofte', model: 'milesight-vs135', labels: { entrance: 'hovedinngang', line: 'line-1' } }))).toBeNull();
    // Rule 1: zigbee friendly_name in the mote-1 group, class forced to battery.
    expect(matchAssignmentRule(rules, subject({ source: 'zigbee2mqtt', model: 'aqara-mccgq11lm', name: 'mote-1/door' }))).toEqual(
      expect.objectContaining({ index: 1, place: { type: 'zone', zone: 'mote-1' }, deviceClass: 'battery' }),
    );
    // `*` does not cross a `/`.
    expect(matchAssignmentRule(rules, subject({ source: 'zigbee2mqtt', name: 'mote-1/a/b' }))).toBeNull();
    // Rule 2: zone from the installer's tag.
    expect(matchAssignmentRule(rules, subject({ model: 'milesight-am319', labels: { zone: 'sal' } }))?.place).toEqual({ type: 'zone', zone: 'sal' });
  });

  it('first match wins, and a rule whose label is missing or not a slug falls through to the next', () => {
    const rules = parseAssignmentRules({
      v: 1,
      rules: [
        { match: { gateway: 'gw-asker' }, assign: { type: 'zone', zone: { label: 'room' } } },
        { match: { gateway: '/^gw-/' }, assign: { type: 'zone', zone: 'service' }, expectedIntervalS: 600 },
        { match: {}, assign: { type: 'zone', zone: 'arbeid' } },
      ],
    });
    expect(matchAssignmentRule(rules, subject({ labels: { room: 'sal' } }))).toMatchObject({ index: 0, place: { zone: 'sal' } });
    expect(matchAssignmentRule(rules, subject())).toMatchObject({ index: 1, place: { zone: 'service' }, expectedIntervalS: 600 });
    expect(matchAssignmentRule(rules, subject({ labels: { room: 'Møterom 1' } }))).toMatchObject({ index: 1 });
    expect(matchAssignmentRule(rules, subject({ gateway: 'edge-2' }))).toMatchObject({ index: 2, place: { zone: 'arbeid' } });
  });

  it('every given key must match: torg, gateway, source, model, each label, name', () => {
    const rules = parseAssignmentRules({
      v: 1,
      rules: [
        {
          match: { torg: 'heggedal', gateway: 'gw-heggedal', source: 'disruptive-technologies', model: '/^dt-/i', labels: { floor: '2', wing: '/^(n|s)$/' }, name: '/^Desk \\d+$/' },
          assign: { type: 'zone', zone: 'arbeid' },
        },
      ],
    });
    const ok = subject({ torg: 'heggedal', gateway: 'gw-heggedal', source: 'disruptive-technologies', model: 'DT-proximity', labels: { floor: '2', wing: 's' }, name: 'Desk 12' });
    expect(matchAssignmentRule(rules, ok)?.index).toBe(0);
    const misses: Partial<RuleSubject>[] = [
      { torg: 'tofte' },
      { gateway: 'gw-2' },
      { source: 'tts' as const },
      { model: 'milesight-vs133' },
      { labels: { floor: '2' } },
      { labels: { floor: '3', wing: 's' } },
      { labels: { floor: '2', wing: 'e' } },
      { name: 'Desk A' },
      { name: undefined },
    ];
    for (const miss of misses) {
      expect(matchAssignmentRule(rules, { ...ok, ...miss }), JSON.stringify(miss)).toBeNull();
    }
  });

  it('errors name the rule index and the key', () => {
    expect(configError({ v: 1, rules: [{ match: {}, assign: { type: 'zone', zone: 'sal' } }, { match: { name: '/[unclosed/' }, assign: { type: 'zone', zone: 'sal' } }] })).toMatch(
      /rules\.json: rules\[1\]\.match\.name: invalid regular expression \/\[unclosed\//,
    );
    expect(configError({ v: 1, rules: [{ match: {}, assign: { type: 'zone', zone: 'Møte rom' } }] })).toContain('rules[0].assign.zone');
    expect(configError({ v: 1, rules: [{ match: { colour: 'red' }, assign: { type: 'zone', zone: 'sal' } }] })).toContain('rules[0].match');
    expect(configError({ v: 1, rules: [{ match: {}, assign: { type: 'entrance', entrance: 'hovedinngang' } }] })).toContain('rules[0].assign.line');
    expect(configError({ v: 1, rules: [{ match: {}, assign: { type: 'zone', zone: 'sal' }, expectedIntervalS: 0 }] })).toContain('rules[0].expectedIntervalS');
    expect(configError({ v: 2, rules: [] })).toContain('v:');
  });

  it('globs: * within a segment, ** across, ? one character, other characters literal', () => {
    expect(globToRegExp('mote-1/*').test('mote-1/door')).toBe(true);
    expect(globToRegExp('mote-1/*').test('mote-1/a/b')).toBe(false);
    expect(globToRegExp('mote-1/**').test('mote-1/a/b')).toBe(true);
    expect(globToRegExp('sensor-?').test('sensor-7')).toBe(true);
    expect(globToRegExp('sensor-?').test('sensor-17')).toBe(false);
    expect(globToRegExp('a.b(c)').test('a.b(c)')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

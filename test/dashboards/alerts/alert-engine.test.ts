import { describe, expect, it } from 'vitest';
import { parseAlertConfig } from '../../../dashboards/alerts/alert-config.schema.ts';
import { AlertEngine } from '../../../dashboards/alerts/alert-engine.ts';
import { alertEventSchema, type AlertEvent } from '../../../dashboards/alerts/alert-event.ts';
import type { AlertFacts, DeviceFacts, ZoneFacts } from '../../../dashboards/alerts/alert-facts.ts';
import { liveAlertSchema } from '../../../dashboards/live/live.schema.ts';
import { MIN, oslo, TORG } from './torg-fixture.ts';

function engine(config: unknown = {}): { engine: AlertEngine; clock: { now: number } } {
  const clock = { now: 0 };
  return { engine: new AlertEngine({ torg: TORG, config: parseAlertConfig(config), clock: () => clock.now }), clock };
}

const zone = (over: Partial<ZoneFacts> = {}): ZoneFacts => ({ id: 'mote-1', occupied: true, count: null, co2: 600, fireMax: 12, ...over });
const facts = (over: Partial<AlertFacts> = {}): AlertFacts => ({ zones: [], doors: [], devices: [], ...over });

/** Evaluates `torg` once a minute (or every `stepMs`) over [from, to], with the facts of each instant. */
function walk(e: { engine: AlertEngine; clock: { now: number } }, from: number, to: number, at: (t: number) => AlertFacts, stepMs = MIN, torg = 'nordby'): AlertEvent[] {
  const out: AlertEvent[] = [];
  for (let t = from; t <= to; t += stepMs) {
    e.clock.now = t;
    out.push(...e.engine.evaluate(torg, at(t)));
  }
  for (const ev of out) alertEventSchema.parse(ev);
  return out;
}

describe('co2_high', () => {
  it('fires exactly at 10:15 after CO2 rose above 1000 ppm at 10:00 while occupied, and resolves at 10:40', () => {
    const e = engine();
    const rise = oslo('2026-11-23T10:00');
    const drop = oslo('2026-11-23T10:40');
    const events = walk(e, oslo('2026-11-23T09:50'), oslo('2026-11-23T11:00'), (t) =>
      facts({ zones: [zone({ co2: t >= rise && t < drop ? 1240 : 850 })] }),
    );
    expect(events.map((ev) => [ev.state, ev.at])).toEqual([
      ['firing', oslo('2026-11-23T10:15')],
      ['resolved', drop],
    ]);
    const [firing, resolved] = events as [AlertEvent, AlertEvent];
    expect(firing).toMatchObject({ rule: 'co2_high', torg: 'nordby', subject: 'mote-1', severity: 'warning', since: rise, value: 1240, threshold: 1000 });
    expect(firing.message).toEqual({ nb: 'CO2 over 1000 ppm i Møterom 1 i 15 min (nå 1240 ppm)', en: 'CO2 above 1000 ppm in Møterom 1 for 15 min (now 1240 ppm)' });
    expect(resolved.id).toBe(firing.id);
    expect(resolved).toMatchObject({ since: rise, value: 850 });
    expect(resolved.message.nb).toBe('CO2 i Møterom 1 er i orden igjen etter 40 min (nå 850 ppm)');
  });

  it('is not firing at 10:14:59', () => {
    const e = engine();
    const events = walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T10:15') - 1000, () => facts({ zones: [zone({ co2: 1500 })] }), 1000);
    expect(events).toEqual([]);
    expect(e.engine.activeAlerts()).toEqual([]);
  });

  it('stays quiet in an empty room however high the CO2', () => {
    const e = engine();
    expect(walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T12:00'), () => facts({ zones: [zone({ occupied: false, co2: 1800 })] }))).toEqual([]);
  });

  it('a dip below the limit restarts the 15 minutes', () => {
    const e = engine();
    const dip = oslo('2026-11-23T10:10');
    const events = walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T10:40'), (t) => facts({ zones: [zone({ co2: t === dip ? 990 : 1100 })] }));
    // Above from 10:00, 990 at 10:10, above again from 10:11: 15 minutes later is 10:26.
    expect(events.map((ev) => [ev.state, ev.at, ev.since])).toEqual([['firing', oslo('2026-11-23T10:26'), oslo('2026-11-23T10:11')]]);
  });

  it('unknown CO2 or occupancy neither fires nor resolves', () => {
    const e = engine();
    const staleFrom = oslo('2026-11-23T10:20');
    const events = walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T11:00'), (t) =>
      facts({ zones: [t < staleFrom ? zone({ co2: 1300 }) : t < oslo('2026-11-23T10:40') ? zone({ co2: null }) : zone({ occupied: null, co2: 700 })] }),
    );
    expect(events.map((ev) => ev.state)).toEqual(['firing']);
    expect(e.engine.activeAlerts('nordby')).toHaveLength(1);

    const fresh = engine();
    expect(walk(fresh, oslo('2026-11-23T10:00'), oslo('2026-11-23T11:00'), () => facts({ zones: [zone({ occupied: null, co2: 1500 })] }))).toEqual([]);
  });

  it('de-duplicates: an hour above the limit evaluated every 30 s gives one firing event', () => {
    const e = engine();
    const events = walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T11:00'), () => facts({ zones: [zone({ co2: 1400 })] }), 30_000);
    expect(events).toHaveLength(1);
    expect(e.engine.activeAlerts('nordby').map((a) => a.id)).toEqual([events[0]!.id]);
    // What the live page shows is an alert of the live-state contract.
    expect(liveAlertSchema.parse(e.engine.activeAlerts('nordby')[0])).toMatchObject({ rule: 'co2_high', subject: 'mote-1', since: oslo('2026-11-23T10:00') });
    expect(e.engine.activeAlerts('sydby')).toEqual([]);
  });

  it('a per-torg override changes the threshold for that torg only', () => {
    const e = engine({ torg: { sydby: { co2_high: { abovePpm: 800, forMinutes: 5 } } } });
    expect(e.engine.rulesFor('sydby').co2_high).toMatchObject({ abovePpm: 800, forMinutes: 5, severity: 'warning' });
    const at = (): AlertFacts => facts({ zones: [zone({ co2: 900 })] });
    expect(walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T11:00'), at, MIN, 'nordby')).toEqual([]);
    const syd = walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T11:00'), at, MIN, 'sydby');
    expect(syd.map((ev) => [ev.state, ev.at, ev.threshold])).toEqual([['firing', oslo('2026-11-23T10:05'), 800]]);
  });

  it('hysteresis: with clearAtOrBelowPpm 900, 950 ppm keeps it firing and 900 resolves it', () => {
    const e = engine({ defaults: { co2_high: { clearAtOrBelowPpm: 900 } } });
    const ppm = (t: number): number => (t < oslo('2026-11-23T10:30') ? 1100 : t < oslo('2026-11-23T10:50') ? 950 : 900);
    const events = walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T11:00'), (t) => facts({ zones: [zone({ co2: ppm(t) })] }));
    expect(events.map((ev) => [ev.state, ev.at])).toEqual([
      ['firing', oslo('2026-11-23T10:15')],
      ['resolved', oslo('2026-11-23T10:50')],
    ]);
  });
});

describe('over_fire_max', () => {
  it('fires after one minute above the zone fireMax and resolves at fireMax', () => {
    const e = engine();
    const count = (t: number): number => (t < oslo('2026-11-23T12:00') ? 38 : t < oslo('2026-11-23T12:05') ? 41 : 40);
    const events = walk(e, oslo('2026-11-23T11:55'), oslo('2026-11-23T12:10'), (t) => facts({ zones: [zone({ id: 'sal', fireMax: 40, count: count(t), co2: null, occupied: true })] }));
    expect(events.map((ev) => [ev.rule, ev.state, ev.at, ev.value])).toEqual([
      ['over_fire_max', 'firing', oslo('2026-11-23T12:01'), 41],
      ['over_fire_max', 'resolved', oslo('2026-11-23T12:05'), 40],
    ]);
    expect(events[0]).toMatchObject({ severity: 'critical', threshold: 40, subjectName: 'Arrangementssal' });
    expect(events[0]!.message.nb).toBe('41 personer i Arrangementssal, over brannmaks 40');
  });
});

describe('door_open_outside_hours', () => {
  const door = (open: boolean | null): AlertFacts => facts({ doors: [{ device: 'door-1', name: 'Hovedinngang', open }] });

  it('a door open through meråpent evening is fine; it fires 5 min after closing (22:05) and resolves when shut', () => {
    const e = engine();
    const shut = oslo('2026-11-23T22:20');
    const events = walk(e, oslo('2026-11-23T21:30'), oslo('2026-11-23T22:40'), (t) => door(t < shut));
    expect(events.map((ev) => [ev.state, ev.at, ev.since])).toEqual([
      ['firing', oslo('2026-11-23T22:05'), oslo('2026-11-23T22:00')],
      ['resolved', shut, oslo('2026-11-23T22:00')],
    ]);
    expect(events[0]!.message.nb).toBe('Døren Hovedinngang har stått åpen i 5 min utenfor åpningstid');
  });

  it('a door left open at night resolves when meråpent starts at 07:00', () => {
    const e = engine();
    const events = walk(e, oslo('2026-11-24T06:00'), oslo('2026-11-24T07:30'), () => door(true));
    expect(events.map((ev) => [ev.state, ev.at])).toEqual([
      ['firing', oslo('2026-11-24T06:05')],
      ['resolved', oslo('2026-11-24T07:00')],
    ]);
  });

  it('an unknown door state does not fire at night', () => {
    const e = engine();
    expect(walk(e, oslo('2026-11-24T00:00'), oslo('2026-11-24T06:00'), () => door(null))).toEqual([]);
  });
});

describe('device_offline', () => {
  const dev = (liveness: DeviceFacts['liveness']): AlertFacts => facts({ devices: [{ device: 'cnt-1', name: 'Teller hovedinngang', class: 'mains', liveness, battery: null }] });

  it('stays quiet at night and fires when meråpent opens at 07:00', () => {
    const e = engine();
    const events = walk(e, oslo('2026-11-23T22:00'), oslo('2026-11-24T07:10'), () => dev('offline'));
    expect(events.map((ev) => [ev.state, ev.at])).toEqual([['firing', oslo('2026-11-24T07:00')]]);
  });

  it('stays quiet all day on a closed Sunday', () => {
    const e = engine();
    expect(walk(e, oslo('2026-11-22T00:00'), oslo('2026-11-22T23:59'), () => dev('offline'))).toEqual([]);
  });

  it('fires in opening hours, is not resolved by closing time, and resolves when the device is back', () => {
    const e = engine();
    const back = oslo('2026-11-24T08:00');
    const events = walk(e, oslo('2026-11-23T21:00'), oslo('2026-11-24T08:30'), (t) => dev(t < back ? 'offline' : 'online'));
    expect(events.map((ev) => [ev.state, ev.at])).toEqual([
      ['firing', oslo('2026-11-23T21:00')],
      ['resolved', back],
    ]);
    expect(events[1]!.message.en).toBe('Device Teller hovedinngang is back online after 660 min');
  });

  it('stale and never_seen do not alert in opening hours', () => {
    const e = engine();
    expect(walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T11:00'), (t) => dev(t < oslo('2026-11-23T10:30') ? 'never_seen' : 'stale'))).toEqual([]);
  });
});

describe('battery_low', () => {
  const dev = (battery: number | null, cls: 'battery' | 'mains' = 'battery'): AlertFacts =>
    facts({ devices: [{ device: 'ers-1', class: cls, liveness: 'online', battery }] });

  it('fires below 20 % at once, stays firing at 22 % (hysteresis) and resolves at 25 %', () => {
    const e = engine();
    const level = (t: number): number => (t < oslo('2026-11-23T10:00') ? 21 : t < oslo('2026-11-23T11:00') ? 19 : t < oslo('2026-11-23T12:00') ? 22 : 25);
    const events = walk(e, oslo('2026-11-23T09:00'), oslo('2026-11-23T12:30'), (t) => dev(level(t)), 10 * MIN);
    expect(events.map((ev) => [ev.state, ev.at, ev.value])).toEqual([
      ['firing', oslo('2026-11-23T10:00'), 19],
      ['resolved', oslo('2026-11-23T12:00'), 25],
    ]);
    expect(events[0]!.message.nb).toBe('Lavt batteri på ers-1: 19 % (under 20 %), bytt batteri');
  });

  it('ignores mains devices and unknown levels', () => {
    const e = engine();
    expect(walk(e, oslo('2026-11-23T09:00'), oslo('2026-11-23T10:00'), () => dev(5, 'mains'))).toEqual([]);
    expect(walk(e, oslo('2026-11-23T09:00'), oslo('2026-11-23T10:00'), () => dev(null))).toEqual([]);
  });
});

describe('engine', () => {
  it('resolves a firing alert whose subject is no longer reported', () => {
    const e = engine();
    const gone = oslo('2026-11-23T10:30');
    const events = walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T10:40'), (t) =>
      t < gone ? facts({ devices: [{ device: 'ers-1', class: 'battery', liveness: 'online', battery: 10 }] }) : facts(),
    );
    expect(events.map((ev) => [ev.state, ev.at, ev.value])).toEqual([
      ['firing', oslo('2026-11-23T10:00'), 10],
      ['resolved', gone, null],
    ]);
  });

  it('a new occurrence gets a new id', () => {
    const e = engine();
    const level = (t: number): number => (t < oslo('2026-11-23T10:10') ? 10 : t < oslo('2026-11-23T10:20') ? 30 : 10);
    const events = walk(e, oslo('2026-11-23T10:00'), oslo('2026-11-23T10:30'), (t) => facts({ devices: [{ device: 'ers-1', class: 'battery', liveness: 'online', battery: level(t) }] }));
    expect(events.map((ev) => ev.state)).toEqual(['firing', 'resolved', 'firing']);
    expect(events[0]!.id).toBe(events[1]!.id);
    expect(events[2]!.id).not.toBe(events[0]!.id);
  });

  it('refuses invalid facts and config', () => {
    const e = engine();
    expect(() => e.engine.evaluate('nordby', { zones: [{ id: 'mote-1', occupied: true, count: -1, co2: 500, fireMax: 12 }], doors: [], devices: [] })).toThrow();
    expect(() => e.engine.evaluate('nowhere', facts())).toThrow(/E_CONFIG_INVALID/);
    expect(() => engine({ torg: { nowhere: {} } })).toThrow(/torg\.nowhere/);
    expect(() => engine({ torg: { nordby: { co2_high: { abovePpm: 800, clearAtOrBelowPpm: 900 } } } })).toThrow(/nordby.*clearAtOrBelowPpm/);
    expect(() => parseAlertConfig({ defaults: { battery_low: { belowPercent: 120 } } })).toThrow(/E_CONFIG_INVALID: .*defaults\.battery_low\.belowPercent/);
  });
});

import { describe, expect, it } from 'vitest';
import type { ReadingInput } from '../../../devices/contract/reading.schema.ts';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { LiveState, type LivenessView } from '../../../dashboards/live/live-state.ts';
import { torgLiveSchema } from '../../../dashboards/live/live.schema.ts';
import { testDevices, testTorg } from './live-fixture.ts';

/** Open 08:00–16:00 Oslo every day; in November Oslo is UTC+1, so 07:00Z–15:00Z. */
const torg = testTorg();
const devices = testDevices;

const T = (iso: string) => Date.parse(iso);

function setup(liveness?: LivenessView) {
  const clock = { now: T('2026-11-24T05:00:00Z') };
  const state = new LiveState({ torgs: [torg], places: (d) => devices[d], now: () => clock.now, ...(liveness ? { liveness } : {}) });
  const feed = (r: ReadingInput) => state.apply('testtorg', readingSchema.parse(r), T(r.time));
  const counter = (time: string, line: string, periodIn: number, periodOut: number) =>
    feed({ kind: 'counter', device: 'c1', time, line, periodIn, periodOut, periodSeconds: 300 });
  const at = (iso: string) => {
    clock.now = T(iso);
    state.tick(clock.now);
    return torgLiveSchema.parse(state.torg('testtorg', clock.now));
  };
  return { state, feed, counter, at, clock };
}

describe('LiveState occupancy (hand-computed days)', () => {
  it('accumulates in − out, clamps below zero, resets at closing and records the drift', () => {
    const { counter, at } = setup();
    // Day 1, Tue 2026-11-24, open 07:00Z–15:00Z.
    counter('2026-11-24T07:10:00Z', 'line-1', 5, 0); // 0 + 5 − 0 = 5
    counter('2026-11-24T08:00:00Z', 'line-2', 3, 1); // 5 + 3 − 1 = 7
    counter('2026-11-24T09:00:00Z', 'line-1', 2, 6); // 7 + 2 − 6 = 3
    let live = at('2026-11-24T09:01:00Z');
    expect(live.occupancy.people).toBe(3);
    expect(live.occupancy.fresh).toBe(true);
    counter('2026-11-24T10:00:00Z', 'line-2', 0, 5); // 3 − 5 = −2 → 0, drift +2
    counter('2026-11-24T11:00:00Z', 'line-1', 4, 1); // 0 + 4 − 1 = 3
    live = at('2026-11-24T11:01:00Z');
    expect(live.occupancy.people).toBe(3);
    // visits 5 + 3 + 2 + 0 + 4 = 14; line-1 in 5 + 2 + 4 = 11, out 0 + 6 + 1 = 7; line-2 in 3, out 6.
    expect(live.occupancy.visitsToday).toBe(14);
    expect(live.occupancy.lines).toEqual([
      { entrance: 'hoved', line: 'line-1', in: 11, out: 7, share: 11 / 14 },
      { entrance: 'hoved', line: 'line-2', in: 3, out: 6, share: 3 / 14 },
    ]);
    expect(live.occupancy.driftToday).toEqual([{ at: T('2026-11-24T10:00:00Z'), cause: 'below_zero', size: 2 }]);
    // One point per 5-minute bucket, the value after the reading in it.
    expect(live.occupancy.series).toEqual([
      [T('2026-11-24T07:10:00Z'), 5],
      [T('2026-11-24T08:00:00Z'), 7],
      [T('2026-11-24T09:00:00Z'), 3],
      [T('2026-11-24T10:00:00Z'), 0],
      [T('2026-11-24T11:00:00Z'), 3],
    ]);
    // Closing 16:00 Oslo = 15:00Z: the 3 left are removed (−3). 14 in − 13 out = 1; 1 + 2 − 3 = 0.
    live = at('2026-11-24T15:00:00Z');
    expect(live.occupancy.people).toBe(0);
    expect(live.openingStatus).toBe('closed');
    expect(live.occupancy.driftToday).toEqual([
      { at: T('2026-11-24T10:00:00Z'), cause: 'below_zero', size: 2 },
      { at: T('2026-11-24T15:00:00Z'), cause: 'closing_reset', size: -3 },
    ]);
  });

  it('a day where more people leave than enter: every clamp is in driftToday', () => {
    const { counter, at } = setup();
    counter('2026-11-24T07:30:00Z', 'line-1', 4, 2); // 2
    counter('2026-11-24T09:30:00Z', 'line-2', 1, 6); // 2 + 1 − 6 = −3 → 0, drift +3
    counter('2026-11-24T12:00:00Z', 'line-1', 0, 2); // 0 − 2 = −2 → 0, drift +2
    const live = at('2026-11-24T12:01:00Z');
    // 5 in, 10 out: in − out = −5, shown as 0 with +5 of corrections.
    expect(live.occupancy.people).toBe(0);
    expect(live.occupancy.visitsToday).toBe(5);
    expect(live.occupancy.driftToday).toEqual([
      { at: T('2026-11-24T09:30:00Z'), cause: 'below_zero', size: 3 },
      { at: T('2026-11-24T12:00:00Z'), cause: 'below_zero', size: 2 },
    ]);
    // Nobody left at closing: no reset correction.
    expect(at('2026-11-24T15:30:00Z').occupancy.driftToday).toHaveLength(2);
  });

  it('counts a counter reading seen twice (rebuild + live) once', () => {
    const { counter, at, state } = setup();
    counter('2026-11-24T07:10:00Z', 'line-1', 5, 0);
    counter('2026-11-24T07:10:00Z', 'line-1', 5, 0);
    counter('2026-11-24T07:10:00Z', 'line-2', 1, 0); // another line at the same instant is another point
    expect(at('2026-11-24T07:11:00Z').occupancy.people).toBe(6);
    expect(state.stats.duplicates).toBe(1);
    // A line the config does not list is still shown, so the shares add up: 5 + 1 + 2 = 8 visits.
    counter('2026-11-24T07:15:00Z', 'main', 2, 0);
    expect(at('2026-11-24T07:16:00Z').occupancy.lines.map((l) => [l.line, l.in, l.share])).toEqual([
      ['line-1', 5, 5 / 8],
      ['line-2', 1, 1 / 8],
      ['main', 2, 2 / 8],
    ]);
  });

  it('is unknown (null) before any counter today and stale, never 0, when the counters go quiet', () => {
    const { counter, at } = setup();
    expect(at('2026-11-24T07:00:00Z').occupancy).toMatchObject({ people: null, at: null, fresh: false });
    counter('2026-11-24T08:00:00Z', 'line-1', 4, 0);
    // c1: mains, interval 300 s → stale after 2.5 × 300 s = 750 s (12.5 min).
    expect(at('2026-11-24T08:12:29Z').occupancy).toMatchObject({ people: 4, fresh: true });
    expect(at('2026-11-24T08:12:30Z').occupancy).toMatchObject({ people: 4, fresh: false, at: T('2026-11-24T08:00:00Z') });
  });
});

describe('LiveState zones, doors, climate, health', () => {
  it('presence: occupied/free since the last change, null when stale', () => {
    const { feed, at } = setup();
    feed({ kind: 'presence', device: 'p1', time: '2026-11-24T10:00:00Z', occupied: true, count: 2 });
    feed({ kind: 'presence', device: 'p1', time: '2026-11-24T10:01:00Z', occupied: true, count: 3 });
    let zone = at('2026-11-24T10:01:30Z').zones.find((z) => z.id === 'mote-1')!;
    expect(zone).toMatchObject({ occupied: true, count: 3, since: T('2026-11-24T10:00:00Z'), at: T('2026-11-24T10:01:00Z'), fresh: true });
    feed({ kind: 'presence', device: 'p1', time: '2026-11-24T10:02:00Z', occupied: false, count: 0 });
    zone = at('2026-11-24T10:03:00Z').zones.find((z) => z.id === 'mote-1')!;
    expect(zone).toMatchObject({ occupied: false, count: 0, since: T('2026-11-24T10:02:00Z'), fresh: true });
    // p1: interval 60 s → stale after 150 s: unknown, not "free with 0 people".
    zone = at('2026-11-24T10:04:30Z').zones.find((z) => z.id === 'mote-1')!;
    expect(zone).toMatchObject({ occupied: null, count: null, since: null, at: T('2026-11-24T10:02:00Z'), fresh: false });
    // A zone without any sensor reading is unknown as well.
    expect(at('2026-11-24T10:04:30Z').zones.find((z) => z.id === 'lobby')).toMatchObject({ occupied: null, count: null, at: null, fresh: false, climate: null });
  });

  it('climate: latest values, CO2 bands at 800/1000 ppm, stale values kept and flagged', () => {
    const { feed, at } = setup();
    const co2At = (time: string, co2: number) => {
      feed({ kind: 'climate', device: 'k1', time, co2 });
      return at(time).zones.find((z) => z.id === 'mote-1')!.climate!;
    };
    expect(co2At('2026-11-24T10:00:00Z', 799).co2Band).toBe('good');
    expect(co2At('2026-11-24T10:01:00Z', 800).co2Band).toBe('watch');
    expect(co2At('2026-11-24T10:02:00Z', 1000).co2Band).toBe('watch');
    feed({ kind: 'climate', device: 'k1', time: '2026-11-24T10:03:00Z', temperature: 21.5, humidity: 40 });
    const c = co2At('2026-11-24T10:04:00Z', 1001);
    expect(c).toMatchObject({ co2: 1001, co2Band: 'act', temperature: 21.5, humidity: 40, at: T('2026-11-24T10:04:00Z'), fresh: true });
    // k1: interval 600 s → stale after 1500 s (25 min) after the oldest value shown (10:03).
    const stale = at('2026-11-24T10:28:00Z').zones.find((z) => z.id === 'mote-1')!.climate!;
    expect(stale).toMatchObject({ co2: 1001, temperature: 21.5, fresh: false });
  });

  it('doors: open/closed since the change; health with battery; pending in health only; decommissioned ignored', () => {
    const { feed, at } = setup();
    feed({ kind: 'door', device: 'd1', time: '2026-11-24T10:00:00Z', open: true });
    feed({ kind: 'door', device: 'd1', time: '2026-11-24T10:05:00Z', open: true });
    let live = at('2026-11-24T10:06:00Z');
    expect(live.doors).toEqual([{ device: 'd1', zone: 'mote-1', name: 'Møterom 1', open: true, since: T('2026-11-24T10:00:00Z'), at: T('2026-11-24T10:05:00Z'), fresh: true }]);
    feed({ kind: 'door', device: 'd1', time: '2026-11-24T10:10:00Z', open: false });
    feed({ kind: 'health', device: 'd1', time: '2026-11-24T10:10:00Z', battery: 87 });
    feed({ kind: 'presence', device: 'pend', time: '2026-11-24T10:10:00Z', occupied: true });
    feed({ kind: 'presence', device: 'gone', time: '2026-11-24T10:10:00Z', occupied: true });
    live = at('2026-11-24T10:11:00Z');
    expect(live.doors[0]).toMatchObject({ open: false, since: T('2026-11-24T10:10:00Z') });
    expect(live.devices).toEqual([
      { device: 'd1', model: 'milesight-ws301', place: 'mote-1', state: 'online', lastSeenAt: T('2026-11-24T10:10:00Z'), battery: 87 },
      { device: 'pend', model: null, place: null, state: 'online', lastSeenAt: T('2026-11-24T10:10:00Z'), battery: null },
    ]);
    // The pending presence sensor has no place: no zone shows it.
    expect(live.zones.every((z) => z.occupied === null)).toBe(true);
    // Battery device d1 without a known interval would be stale at 12.5 h; with 3600 s it is 2.5 h.
    expect(at('2026-11-24T12:40:00Z').doors[0]).toMatchObject({ open: false, fresh: false });
  });

  it('uses the control plane liveness when given: an offline device is never fresh', () => {
    const view: LivenessView = { deviceState: (d) => (d === 'p1' ? 'offline' : undefined) };
    const { feed, at } = setup(view);
    feed({ kind: 'presence', device: 'p1', time: '2026-11-24T10:00:00Z', occupied: true });
    const live = at('2026-11-24T10:00:10Z');
    expect(live.zones.find((z) => z.id === 'mote-1')).toMatchObject({ occupied: null, fresh: false });
    expect(live.devices.find((d) => d.device === 'p1')?.state).toBe('offline');
  });

  it('shows the active alerts of its own torg only', () => {
    const alert = (torg: string) => ({ id: `co2_high:${torg}:mote-1`, rule: 'co2_high', torg, subject: 'mote-1', severity: 'warning', since: 1, message: { nb: 'Høy CO2', en: 'High CO2' } });
    const state = new LiveState({ torgs: [torg], places: (d) => devices[d], now: () => 0, alerts: { activeAlerts: () => [alert('testtorg'), alert('heggedal')] } });
    expect(state.torg('testtorg', T('2026-11-24T10:00:00Z'))!.alerts.map((a) => a.torg)).toEqual(['testtorg']);
  });
});

import { describe, expect, it } from 'vitest';
import type { ReadingInput } from '../../../devices/contract/reading.schema.ts';
import { readingSchema } from '../../../devices/contract/reading.schema.ts';
import { LiveState, type PlaceInfo } from '../../../dashboards/live/live-state.ts';
import { torgLiveSchema } from '../../../dashboards/live/live.schema.ts';
import { testDevices, testTorg } from './live-fixture.ts';

/** Open 08:00–16:00 Oslo; Tue 2026-11-24 Oslo is UTC+1, so open 07:00Z–15:00Z. */
const torg = testTorg();
const T = (iso: string) => Date.parse(iso);

function make(startIso: string, places: (d: string) => PlaceInfo | undefined = (d) => testDevices[d]) {
  const clock = { now: T(startIso) };
  const state = new LiveState({ torgs: [torg], places, now: () => clock.now });
  const counter = (time: string, periodIn: number, periodOut: number, device = 'c1') => {
    const r: ReadingInput = { kind: 'counter', device, time, line: 'line-1', periodIn, periodOut, periodSeconds: 300 };
    return state.apply('testtorg', readingSchema.parse(r), T(time));
  };
  const at = (iso: string) => {
    clock.now = T(iso);
    state.tick(clock.now);
    return torgLiveSchema.parse(state.torg('testtorg', clock.now));
  };
  return { state, counter, at, clock };
}

describe('LiveState review: closing reset vs the order of counter readings', () => {
  // 10:00 Oslo +5, 15:00 Oslo −2 → 3 at closing (16:00 Oslo = 15:00Z), reset −3; two cleaners enter
  // at 16:30 Oslo (after closing) → 2 at 17:00 Oslo. Hand-computed, as the metrics engine orders it
  // (counts before the closing reset at their own time, metrics-engine.ts).
  const expected = {
    people: 2,
    drift: [{ at: T('2026-11-24T15:00:00Z'), cause: 'closing_reset', size: -3 }],
  };

  it('live, with a tick between the readings: the reference', () => {
    const { counter, at } = make('2026-11-24T05:00:00Z');
    counter('2026-11-24T09:00:00Z', 5, 0);
    at('2026-11-24T09:00:10Z');
    counter('2026-11-24T14:00:00Z', 0, 2);
    at('2026-11-24T15:00:10Z');
    counter('2026-11-24T15:30:00Z', 2, 0);
    const live = at('2026-11-24T16:00:00Z');
    expect(live.occupancy.people).toBe(expected.people);
    expect(live.occupancy.driftToday).toEqual(expected.drift);
  });

  it('rebuilt after closing (restart at 17:00 Oslo) gives the same people and drift as live', () => {
    const { counter, at } = make('2026-11-24T16:00:00Z');
    counter('2026-11-24T09:00:00Z', 5, 0);
    counter('2026-11-24T14:00:00Z', 0, 2);
    counter('2026-11-24T15:30:00Z', 2, 0);
    const live = at('2026-11-24T16:00:00Z');
    expect(live.occupancy.people).toBe(expected.people);
    expect(live.occupancy.driftToday).toEqual(expected.drift);
    expect(live.occupancy.visitsToday).toBe(7);
  });

  it('a reading after closing that arrives before the periodic tick is not swallowed by the reset', () => {
    const { counter, at } = make('2026-11-24T05:00:00Z');
    counter('2026-11-24T09:00:00Z', 5, 0);
    counter('2026-11-24T14:00:00Z', 0, 2);
    at('2026-11-24T14:59:59Z');
    counter('2026-11-24T15:00:05Z', 1, 0); // arrives 5 s after closing, the 10 s tick has not run
    const live = at('2026-11-24T15:00:10Z');
    // 3 removed at closing, then 1 entered after it.
    expect(live.occupancy.people).toBe(1);
    expect(live.occupancy.driftToday).toEqual([{ at: T('2026-11-24T15:00:00Z'), cause: 'closing_reset', size: -3 }]);
  });
});

describe('LiveState review: a device moved to another torg', () => {
  it('is no longer listed, nor judged, under the torg it left', () => {
    let moved = false;
    const places = (d: string): PlaceInfo | undefined => {
      const info = testDevices[d];
      if (d === 'p1' && moved && info) return { ...info, torg: 'other' };
      return info;
    };
    const { state, clock } = make('2026-11-24T08:00:00Z', places);
    state.apply('testtorg', readingSchema.parse({ kind: 'presence', device: 'p1', time: '2026-11-24T08:00:00Z', occupied: true }), T('2026-11-24T08:00:00Z'));
    let live = torgLiveSchema.parse(state.torg('testtorg', clock.now));
    expect(live.devices.map((d) => d.device)).toEqual(['p1']);
    expect(live.zones.find((z) => z.id === 'mote-1')?.occupied).toBe(true);
    moved = true;
    live = torgLiveSchema.parse(state.torg('testtorg', clock.now));
    expect(live.devices).toEqual([]);
    // Its last reading is not this torg's room any more: unknown, not "occupied".
    expect(live.zones.find((z) => z.id === 'mote-1')?.occupied).toBeNull();
  });
});

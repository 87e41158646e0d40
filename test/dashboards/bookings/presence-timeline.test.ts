import { describe, expect, it } from 'vitest';
import { presenceTimeline } from '../../../dashboards/bookings/presence-timeline.ts';

const T0 = Date.parse('2026-10-20T08:00:00Z');
const MIN = 60_000;
const at = (m: number): number => T0 + m * MIN;

describe('presenceTimeline (metrics-engine hold and reporting rules)', () => {
  it('holds a reading until the next one, never beyond interval × 2.5, and is unreported outside', () => {
    const segs = presenceTimeline(
      [
        { device: 'a', time: at(0), occupied: false, count: null },
        { device: 'a', time: at(10), occupied: true, count: null },
        // next reading 40 min later: the 10-minute reading holds only 25 min (to 35)
        { device: 'a', time: at(50), occupied: false, count: null },
      ],
      at(-5),
      at(90),
    );
    expect(segs).toEqual([
      { startMs: at(-5), endMs: at(0), state: 'unreported', people: 0, headcount: false },
      { startMs: at(0), endMs: at(10), state: 'empty', people: 0, headcount: false },
      // presence-only: an occupied sensor without a count is 1, not a head count
      { startMs: at(10), endMs: at(35), state: 'occupied', people: 1, headcount: false },
      { startMs: at(35), endMs: at(50), state: 'unreported', people: 0, headcount: false },
      { startMs: at(50), endMs: at(75), state: 'empty', people: 0, headcount: false },
      { startMs: at(75), endMs: at(90), state: 'unreported', people: 0, headcount: false },
    ]);
  });

  it('a room reports only while all its sensors do; counts add up, count 0 is empty', () => {
    const segs = presenceTimeline(
      [
        { device: 'a', time: at(0), occupied: null, count: 0 },
        { device: 'a', time: at(20), occupied: null, count: 2 },
        { device: 'b', time: at(10), occupied: false, count: null },
        { device: 'b', time: at(30), occupied: false, count: null },
      ],
      at(0),
      at(60),
      { expectedIntervalMs: { b: 4 * MIN } }, // b's window: 10 min
    );
    expect(segs).toEqual([
      { startMs: at(0), endMs: at(10), state: 'unreported', people: 0, headcount: false }, // b not yet seen
      { startMs: at(10), endMs: at(20), state: 'empty', people: 0, headcount: true }, // a counts 0
      { startMs: at(20), endMs: at(30), state: 'unreported', people: 0, headcount: false }, // b's 10-min reading held only to 20
      { startMs: at(30), endMs: at(40), state: 'occupied', people: 2, headcount: true }, // a: 2 people (held 20–45), b empty (30–40)
      { startMs: at(40), endMs: at(60), state: 'unreported', people: 0, headcount: false }, // b silent after 40
    ]);
  });

  it('adds a presence-only sensor as 1 to a head count, and splits occupied time where the count changes', () => {
    const segs = presenceTimeline(
      [
        { device: 'cam', time: at(0), occupied: true, count: 4 },
        { device: 'cam', time: at(10), occupied: true, count: 6 },
        { device: 'cam', time: at(20), occupied: true, count: 6 },
        { device: 'pir', time: at(0), occupied: true, count: null },
        { device: 'pir', time: at(15), occupied: false, count: null },
      ],
      at(0),
      at(30),
    );
    expect(segs).toEqual([
      { startMs: at(0), endMs: at(10), state: 'occupied', people: 5, headcount: true }, // 4 + 1
      { startMs: at(10), endMs: at(15), state: 'occupied', people: 7, headcount: true }, // 6 + 1
      { startMs: at(15), endMs: at(30), state: 'occupied', people: 6, headcount: true }, // 6 + 0; equal counts merged
    ]);
  });
});

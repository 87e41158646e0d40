/**
 * A room's presence as a timeline of [start, end) segments — occupied, empty or unreported — with
 * the metrics engine's rules (dashboards/metrics/README.md "Modelling rules"), so booking figures
 * and usage metrics agree:
 * - a reading holds from its timestamp until the next reading of that sensor, never beyond the
 *   sensor's reporting window (expected interval × reportingFactor);
 * - the room is reporting when every presence sensor seen for it is reporting;
 * - occupancy is Σ count, a sensor without a count contributing 1 when occupied; a moment is
 *   head-counted when at least one of the readings held then carries a count (the engine's
 *   "headcount zone" is one whose readings carry counts).
 * The caller passes the presence samples of the room's sensors (assignment already resolved, as the
 * engine does with its AssignmentLookup).
 */
import { DEFAULT_METRICS_OPTIONS } from '../metrics/metrics-engine.ts';
import type { MetricsOptions, PresenceSample } from '../metrics/metrics-engine.ts';

export type PresenceState = 'occupied' | 'empty' | 'unreported';
export interface PresenceSegment {
  startMs: number;
  endMs: number;
  state: PresenceState;
  /** Zone occupancy held over the segment (Σ count, 1 per occupied sensor without a count); 0 when unreported. */
  people: number;
  /** A reading held over the segment carries a count, so `people` is a head count; false when unreported. */
  headcount: boolean;
}

export type PresenceWindowOptions = Pick<MetricsOptions, 'expectedIntervalMs' | 'defaultExpectedIntervalMs' | 'reportingFactor'>;

interface Hold {
  start: number;
  end: number;
  people: number;
  counted: boolean;
}

/** Segments covering exactly [fromMs, toMs), adjacent segments with equal state, people and headcount merged. */
export function presenceTimeline(samples: readonly PresenceSample[], fromMs: number, toMs: number, options: Partial<PresenceWindowOptions> = {}): PresenceSegment[] {
  const o: PresenceWindowOptions = { ...DEFAULT_METRICS_OPTIONS, ...options };
  if (!(toMs > fromMs)) return [];
  const byDevice = new Map<string, PresenceSample[]>();
  for (const s of samples) {
    const list = byDevice.get(s.device) ?? [];
    list.push(s);
    byDevice.set(s.device, list);
  }
  if (byDevice.size === 0) return [{ startMs: fromMs, endMs: toMs, state: 'unreported', people: 0, headcount: false }];
  const holds: Hold[][] = [];
  const cuts = new Set<number>([fromMs, toMs]);
  for (const [device, list] of byDevice) {
    list.sort((a, b) => a.time - b.time);
    const w = (o.expectedIntervalMs[device] ?? o.defaultExpectedIntervalMs) * o.reportingFactor;
    const hs: Hold[] = [];
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      const next = list[i + 1];
      // A repeated timestamp keeps the last reading, as the engine does.
      if (next && next.time === s.time) continue;
      const h = { start: s.time, end: Math.min(next ? next.time : Infinity, s.time + w), people: s.count ?? (s.occupied ? 1 : 0), counted: s.count !== null };
      hs.push(h);
      if (h.start > fromMs && h.start < toMs) cuts.add(h.start);
      if (h.end > fromMs && h.end < toMs) cuts.add(h.end);
    }
    holds.push(hs);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const cursors = holds.map(() => 0);
  const out: PresenceSegment[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const start = points[k]!;
    const end = points[k + 1]!;
    let state: PresenceState = 'empty';
    let people = 0;
    let headcount = false;
    for (let d = 0; d < holds.length; d++) {
      const hs = holds[d]!;
      let i = cursors[d]!;
      while (i < hs.length && hs[i]!.end <= start) i++;
      cursors[d] = i;
      const h = hs[i];
      if (!h || h.start > start) {
        state = 'unreported';
        break;
      }
      people += h.people;
      headcount ||= h.counted;
    }
    if (state === 'unreported') [people, headcount] = [0, false];
    else if (people > 0) state = 'occupied';
    const prev = out[out.length - 1];
    if (prev && prev.state === state && prev.people === people && prev.headcount === headcount) prev.endMs = end;
    else out.push({ startMs: start, endMs: end, state, people, headcount });
  }
  return out;
}

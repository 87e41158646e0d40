import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../../devices/contract/validate.ts';
import { readingToLine } from '../../ingest/line-protocol.ts';
import { buildEnvelope, buildProbe, DEVICE_SLOTS, PointClock } from './bench-workload.ts';

const NOW = Date.parse('2026-11-24T09:00:00.000Z');
const LIMITS = { now: NOW, maxAgeMs: 30 * 86_400_000 };

describe('bench workload', () => {
  it('builds envelopes the ingest accepts in full, of three kinds', () => {
    const env = buildEnvelope(7, 0, 50, NOW, new PointClock());
    const r = validateEnvelope(JSON.parse(env.payload), LIMITS, { torg: 'bench', gateway: 'gw-4' });
    expect(env.topic).toBe('itorg/v1/bench/gw-4/readings');
    if (!r.ok) throw new Error(r.detail);
    expect(r.rejected).toEqual([]);
    expect(r.readings).toHaveLength(50);
    // 50 readings rotate climate, counter, presence: 17, 17, 16.
    const kinds = r.readings.map((x) => x.kind);
    expect(kinds.filter((k) => k === 'climate')).toHaveLength(17);
    expect(kinds.filter((k) => k === 'counter')).toHaveLength(17);
    expect(kinds.filter((k) => k === 'presence')).toHaveLength(16);
  });

  it('gives every reading a distinct InfluxDB point identity, also when a ms is full', () => {
    const clock = new PointClock();
    const keys = new Set<string>();
    let total = 0;
    // 3 envelopes of 400 in the same ms: 1200 readings > DEVICE_SLOTS (500), so the clock advances.
    for (let e = 0; e < 3; e++) {
      const env = buildEnvelope(e, e * 400, 400, NOW, clock);
      const r = validateEnvelope(JSON.parse(env.payload), LIMITS);
      if (!r.ok) throw new Error(r.detail);
      r.readings.forEach((reading, i) => {
        const line = readingToLine('bench', reading, r.timesMs[i]!);
        // Identity = measurement + tags + timestamp: the line without its field set.
        const [series, , ts] = line.split(' ');
        keys.add(`${series} ${ts}`);
        total++;
      });
    }
    expect(total).toBe(1200);
    expect(keys.size).toBe(1200);
    expect(DEVICE_SLOTS).toBe(500);
    // Slots 0..499 at NOW, 0..499 at NOW+1, 0..199 at NOW+2.
    const last = JSON.parse(buildEnvelope(3, 1200, 1, NOW, clock).payload) as { readings: { time: string }[] };
    expect(last.readings[0]!.time).toBe('2026-11-24T09:00:00.002Z');
  });

  it('builds a probe the ingest accepts, on a measurement the workload does not use', () => {
    const p = buildProbe(1, NOW);
    const r = validateEnvelope(JSON.parse(p.payload), LIMITS);
    if (!r.ok) throw new Error(r.detail);
    expect(r.readings.map((x) => x.kind)).toEqual(['health']);
  });
});

/**
 * The benchmark's workload: envelopes of valid readings per devices/contract/reading.schema.ts, with
 * a point identity (measurement + tags + timestamp, see devices/contract/influx-layout.ts) that is
 * unique per reading, so that "points counted in InfluxDB" equals "readings stored" exactly.
 *
 * Each reading's `time` is the wall-clock ms at which the publisher hands its envelope to MQTT.js.
 * That makes the reading's own timestamp the publish time, so publish-to-stored latency can be read
 * back from InfluxDB without a side channel (see latency-tracker.ts). Within one ms the readings take
 * consecutive device slots; when a ms has used every slot, the clock is advanced by one ms (the
 * stamped time then runs ahead of the wall clock, which only happens above DEVICE_SLOTS readings per
 * ms, far beyond what one publisher process reaches).
 */
import type { EnvelopeInput, ReadingInput } from '../../devices/contract/reading.schema.ts';
import { SCHEMA_VERSION } from '../../devices/contract/reading.schema.ts';
import { topics } from '../../devices/contract/mqtt-topics.ts';

export const BENCH_TORG = 'bench';
/** Envelopes rotate over these gateways, as several gateways of one torg would publish. */
export const BENCH_GATEWAYS = ['gw-1', 'gw-2', 'gw-3', 'gw-4'] as const;
/** Device slots per ms; also bounds series cardinality (3 kinds × slots). */
export const DEVICE_SLOTS = 500;

/**
 * The workload's measurements and, for each, a field every generated reading carries: counting that
 * field counts the points (InfluxQL count() counts non-null values of one field).
 */
export const COUNTED = [
  { kind: 'climate', measurement: 'climate', field: 'temperature' },
  { kind: 'counter', measurement: 'counter', field: 'periodIn' },
  { kind: 'presence', measurement: 'presence', field: 'occupied' },
] as const;

/** Readiness probes use a kind the workload never does, so they never enter the counts. */
export const PROBE = { measurement: 'health', field: 'battery', device: 'bench-probe', gateway: 'gw-probe' } as const;

export function deviceId(slot: number): string {
  return `bench-${slot.toString().padStart(4, '0')}`;
}

/** Deterministic, valid values derived from the reading's global sequence number. */
export function makeReading(seq: number, slot: number, timeMs: number): ReadingInput {
  const time = new Date(timeMs).toISOString();
  const device = deviceId(slot);
  switch (seq % 3) {
    case 0:
      return {
        kind: 'climate',
        device,
        time,
        temperature: 18 + (seq % 70) / 10,
        humidity: 30 + (seq % 40),
        co2: 400 + (seq % 900),
      };
    case 1:
      return { kind: 'counter', device, time, line: 'main', periodIn: seq % 13, periodOut: seq % 11, periodSeconds: 60 };
    default:
      return { kind: 'presence', device, time, occupied: seq % 2 === 0, count: seq % 9 };
  }
}

/** Hands out (time, slot) pairs: unique per reading, time never before the wall clock given. */
export class PointClock {
  private ms = 0;
  private slot = 0;

  next(wallMs: number): { timeMs: number; slot: number } {
    if (wallMs > this.ms) {
      this.ms = wallMs;
      this.slot = 0;
    } else if (this.slot >= DEVICE_SLOTS) {
      this.ms += 1;
      this.slot = 0;
    }
    return { timeMs: this.ms, slot: this.slot++ };
  }
}

export interface BuiltEnvelope {
  topic: string;
  payload: string;
  /** Stamped time of each reading, in order. */
  timesMs: number[];
}

/**
 * Envelope number `envSeq` holding readings `firstReading .. firstReading+count-1`, stamped at
 * `wallMs`.
 */
export function buildEnvelope(envSeq: number, firstReading: number, count: number, wallMs: number, clock: PointClock): BuiltEnvelope {
  const gateway = BENCH_GATEWAYS[envSeq % BENCH_GATEWAYS.length]!;
  const readings: ReadingInput[] = [];
  const timesMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const { timeMs, slot } = clock.next(wallMs);
    readings.push(makeReading(firstReading + i, slot, timeMs));
    timesMs.push(timeMs);
  }
  const envelope: EnvelopeInput = {
    v: SCHEMA_VERSION,
    gateway,
    torg: BENCH_TORG,
    sentAt: new Date(wallMs).toISOString(),
    seq: envSeq,
    readings,
  };
  return { topic: topics.readings(BENCH_TORG, gateway), payload: JSON.stringify(envelope), timesMs };
}

/** A single health reading on the probe device, to prove a consumer writes end to end. */
export function buildProbe(seq: number, timeMs: number): { topic: string; payload: string } {
  const gateway = PROBE.gateway;
  const envelope: EnvelopeInput = {
    v: SCHEMA_VERSION,
    gateway,
    torg: BENCH_TORG,
    sentAt: new Date(timeMs).toISOString(),
    seq,
    readings: [{ kind: 'health', device: PROBE.device, time: new Date(timeMs).toISOString(), battery: 50 }],
  };
  return { topic: topics.readings(BENCH_TORG, gateway), payload: JSON.stringify(envelope) };
}

/**
 * The gateway benchmark's backlog: the readings a torg's gateway would have queued during a 24-hour
 * outage of the central side, as valid readings per devices/contract/reading.schema.ts.
 *
 * Mix per 20 readings (one torg): 5 counter, 7 presence, 4 climate, 2 door, 2 health — people
 * counters and room sensors report most often, door and battery/radio status least.
 *
 * Point identity in InfluxDB is measurement + tags (torg, device, line) + time
 * (devices/contract/influx-layout.ts). Within one torg and kind, the j-th reading goes to device
 * `j % devices` at `start + floor(j / devices) * step`: (device, time) is a bijection of j, so every
 * reading is its own point and "points counted" equals "readings stored" exactly. `step` is chosen
 * so that the last time stays inside the window, whatever the backlog size.
 */
import type { Reading, ReadingKind } from '../../../devices/contract/reading.schema.ts';

interface KindSlot {
  kind: ReadingKind;
  /** First position of this kind in each cycle of CYCLE readings. */
  start: number;
  /** Readings of this kind per cycle. */
  width: number;
  /** Devices of this kind in one torg. */
  devices: number;
}

export const CYCLE = 20;
export const KIND_SLOTS: readonly KindSlot[] = [
  { kind: 'counter', start: 0, width: 5, devices: 4 },
  { kind: 'presence', start: 5, width: 7, devices: 30 },
  { kind: 'climate', start: 12, width: 4, devices: 15 },
  { kind: 'door', start: 16, width: 2, devices: 8 },
  { kind: 'health', start: 18, width: 2, devices: 57 },
];

/** For each kind, a field every generated reading of that kind carries: counting it counts the points. */
export const COUNTED_FIELD: Readonly<Record<ReadingKind, string>> = {
  counter: 'periodIn',
  presence: 'occupied',
  climate: 'temperature',
  door: 'open',
  health: 'battery',
};

/** Readings of `slot`'s kind among the first `n` readings of one torg. */
export function kindCount(slot: KindSlot, n: number): number {
  const full = Math.floor(n / CYCLE) * slot.width;
  const rest = Math.min(Math.max((n % CYCLE) - slot.start, 0), slot.width);
  return full + rest;
}

/** Splits `total` readings over `parts` torg as evenly as possible (the first ones get the remainder). */
export function splitEvenly(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** DevEUI-shaped id (16 hex digits): torg index, kind index, device slot. */
export function deviceEui(torgIndex: number, kindIndex: number, slot: number): string {
  const hex = (v: number, width: number) => v.toString(16).padStart(width, '0');
  return `24e1${hex(torgIndex, 2)}${hex(kindIndex, 2)}${hex(slot, 8)}`;
}

export interface BacklogOptions {
  torgIndex: number;
  /** Readings in this torg's backlog. */
  readings: number;
  /** Window [startMs, endMs) that every reading's time falls in. */
  startMs: number;
  endMs: number;
}

/** Yields the torg's backlog in batches of `batchSize`, in the order the gateway received them. */
export function* backlogBatches(opts: BacklogOptions, batchSize: number): Generator<Reading[]> {
  const steps = KIND_SLOTS.map((slot) => {
    const perDevice = Math.max(1, Math.ceil(kindCount(slot, opts.readings) / slot.devices));
    return Math.max(1, Math.floor((opts.endMs - opts.startMs) / perDevice));
  });
  const seen = KIND_SLOTS.map(() => 0);
  let batch: Reading[] = [];
  for (let i = 0; i < opts.readings; i++) {
    const pos = i % CYCLE;
    const k = KIND_SLOTS.findIndex((s) => pos >= s.start && pos < s.start + s.width);
    const slot = KIND_SLOTS[k]!;
    const j = seen[k]!++;
    const timeMs = opts.startMs + Math.floor(j / slot.devices) * steps[k]!;
    batch.push(makeReading(slot.kind, deviceEui(opts.torgIndex, k, j % slot.devices), timeMs, j));
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Deterministic, physically plausible values; receivedAt a few seconds after time, as a gateway stamps it. */
function makeReading(kind: ReadingKind, device: string, timeMs: number, j: number): Reading {
  const time = new Date(timeMs).toISOString();
  const receivedAt = new Date(timeMs + 1_000 + (j % 4_000)).toISOString();
  const base = { device, time, receivedAt, timeSource: 'sensor' as const };
  switch (kind) {
    case 'counter':
      return { ...base, kind, line: 'main', periodIn: j % 13, periodOut: j % 11, periodSeconds: 300 };
    case 'presence':
      return { ...base, kind, occupied: j % 3 !== 0, count: j % 3 === 0 ? 0 : j % 12 };
    case 'climate':
      return { ...base, kind, temperature: 19 + (j % 50) / 10, humidity: 25 + (j % 40), co2: 420 + (j % 1200) };
    case 'door':
      return { ...base, kind, open: j % 2 === 0 };
    case 'health':
      return { ...base, kind, battery: 100 - (j % 60), rssi: -60 - (j % 50), snr: 9.5 - (j % 20) };
  }
}

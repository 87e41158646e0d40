/**
 * What the `innbyggertorg-outbox` node checks before an append: msg.payload is one reading or an
 * array of them, each validated against the contract through the gateway's normalizeReading. A flow
 * may hand over readings from the decode node (already stamped) or build them itself (a function
 * node, a local HTTP source), so this is the boundary where untrusted flow data meets the outbox.
 */
import { MAX_READINGS_PER_ENVELOPE, type Reading } from '../../../devices/contract/reading.schema.ts';
import { DEFAULT_CLOCK_PLAUSIBILITY, normalizeReading, type ClockPlausibility } from '../../normalize.ts';
import type { Rejection } from './decode-message.ts';

export interface PreparedReadings {
  good: Reading[];
  rejected: Rejection[];
}

/**
 * A message holds at most MAX_READINGS_PER_ENVELOPE readings: the outbox appends one message as one
 * all-or-nothing unit, and a larger one could never be uplinked in a single envelope anyway.
 */
export function prepareReadings(payload: unknown, nowMs: number, limits: ClockPlausibility = DEFAULT_CLOCK_PLAUSIBILITY): PreparedReadings {
  const raws: readonly unknown[] = Array.isArray(payload) ? payload : [payload];
  if (raws.length > MAX_READINGS_PER_ENVELOPE) {
    return { good: [], rejected: [{ code: 'E_READING_INVALID', detail: `${raws.length} readings in one message; at most ${MAX_READINGS_PER_ENVELOPE}` }] };
  }
  const good: Reading[] = [];
  const rejected: Rejection[] = [];
  for (const raw of raws) {
    // A reading stamped by the decode node keeps its receive time; one built in the flow gets now.
    const stamped = typeof raw === 'object' && raw !== null ? (raw as { receivedAt?: unknown }).receivedAt : undefined;
    const stampedMs = typeof stamped === 'string' ? Date.parse(stamped) : Number.NaN;
    const trusted = Number.isFinite(stampedMs) && stampedMs <= nowMs;
    const r = normalizeReading(raw, trusted ? stampedMs : nowMs, limits);
    if (!r.ok) rejected.push({ code: r.reason, detail: r.detail });
    else if (trusted && Date.parse(r.reading.time) < nowMs - limits.maxAgeMs) {
      // The age limit counts from now, not from an old stamp (a message parked in a delay node).
      rejected.push({ code: 'E_READING_TIME_TOO_OLD', detail: `time ${r.reading.time} is older than the accepted age` });
    } else good.push(r.reading);
  }
  return { good, rejected };
}

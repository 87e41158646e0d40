/**
 * Validation of an incoming envelope against the contract, with reason codes.
 *
 * Pure: the clock and the age limit are passed in. The header is checked first; readings are then
 * checked one at a time, so one bad reading is rejected alone and the good ones around it go on.
 */
import type { z } from 'zod';
import type { DeadLetterReason } from './errors.ts';
import { envelopeHeaderSchema, readingSchema, readingSchemasByKind, SCHEMA_VERSION, type Reading, type ReadingKind } from './reading.schema.ts';

/** Readings may be at most this far ahead of the ingest's clock (issue 2). */
export const MAX_FUTURE_MS = 5 * 60_000;
/** Default accepted age of a reading (issue 2); configurable per service. */
export const DEFAULT_MAX_AGE_MS = 30 * 86_400_000;

export interface ValidationLimits {
  /** The ingest's clock, ms since epoch. */
  now: number;
  maxAgeMs: number;
  maxFutureMs?: number;
}

export interface RejectedReading {
  index: number;
  reason: DeadLetterReason;
  detail: string;
  reading: unknown;
}

export interface EnvelopeMeta {
  torg: string;
  gateway: string;
  seq: number;
  sentAt: string;
}

export type EnvelopeResult =
  | { ok: true; meta: EnvelopeMeta; readings: Reading[]; timesMs: number[]; rejected: RejectedReading[] }
  | { ok: false; reason: DeadLetterReason; detail: string };

/** Summarises zod issues in one line a person can act on: `path: message; …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * A short description of a JSON value for an error detail. Arrays and objects are named, not
 * serialised: V8's JSON.stringify recurses and throws RangeError on a value nested deeper than its
 * stack, which JSON.parse (iterative) accepts from a message of a few hundred kB.
 */
function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return 'an object';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

function isRangeIssue(error: z.ZodError): boolean {
  // zod reports numeric limit violations as too_big/too_small on a number; everything else (type,
  // unknown key, missing field) is a contract violation, not a physical one.
  return error.issues.every((i) => (i.code === 'too_big' || i.code === 'too_small') && i.origin === 'number');
}

export function validateReading(raw: unknown, limits: ValidationLimits):
  | { ok: true; reading: Reading; timeMs: number }
  | { ok: false; reason: DeadLetterReason; detail: string } {
  // Dispatch on kind to the kind's own schema (same definitions as the union, one lookup cheaper);
  // anything without a known kind goes through the union for its error message.
  const kind = typeof raw === 'object' && raw !== null ? (raw as { kind?: unknown }).kind : undefined;
  const schema = typeof kind === 'string' && Object.hasOwn(readingSchemasByKind, kind) ? readingSchemasByKind[kind as ReadingKind] : readingSchema;
  const parsed = schema.safeParse(raw) as ReturnType<typeof readingSchema.safeParse>;
  if (!parsed.success) {
    return {
      ok: false,
      reason: isRangeIssue(parsed.error) ? 'E_READING_OUT_OF_RANGE' : 'E_READING_INVALID',
      detail: describeIssues(parsed.error),
    };
  }
  const reading = parsed.data;
  const timeMs = Date.parse(reading.time);
  const maxFuture = limits.maxFutureMs ?? MAX_FUTURE_MS;
  if (timeMs > limits.now + maxFuture) {
    return { ok: false, reason: 'E_READING_TIME_FUTURE', detail: `time ${reading.time} is ${Math.round((timeMs - limits.now) / 1000)} s ahead` };
  }
  if (timeMs < limits.now - limits.maxAgeMs) {
    return { ok: false, reason: 'E_READING_TIME_TOO_OLD', detail: `time ${reading.time} is older than ${Math.round(limits.maxAgeMs / 86_400_000)} days` };
  }
  return { ok: true, reading, timeMs };
}

/**
 * Validates a decoded JSON value as an envelope. `expected` is the torg/gateway from the MQTT
 * topic: a gateway can only speak for itself (the broker ACL enforces the topic, this check
 * enforces the body).
 */
export function validateEnvelope(
  json: unknown,
  limits: ValidationLimits,
  expected?: { torg: string; gateway: string },
): EnvelopeResult {
  if (typeof json === 'object' && json !== null && 'v' in json && (json as { v: unknown }).v !== SCHEMA_VERSION) {
    return { ok: false, reason: 'E_SCHEMA_VERSION', detail: `v=${describeValue((json as { v: unknown }).v)}, supported: ${SCHEMA_VERSION}` };
  }
  const header = envelopeHeaderSchema.safeParse(json);
  if (!header.success) {
    return { ok: false, reason: 'E_ENVELOPE_INVALID', detail: describeIssues(header.error) };
  }
  const h = header.data;
  if (expected && (expected.torg !== h.torg || expected.gateway !== h.gateway)) {
    return {
      ok: false,
      reason: 'E_TOPIC_MISMATCH',
      detail: `topic says ${expected.torg}/${expected.gateway}, envelope says ${h.torg}/${h.gateway}`,
    };
  }
  const readings: Reading[] = [];
  const timesMs: number[] = [];
  const rejected: RejectedReading[] = [];
  for (let i = 0; i < h.readings.length; i++) {
    const raw = h.readings[i];
    const r = validateReading(raw, limits);
    if (r.ok) {
      readings.push(r.reading);
      timesMs.push(r.timeMs);
    } else {
      rejected.push({ index: i, reason: r.reason, detail: r.detail, reading: raw });
    }
  }
  return { ok: true, meta: { torg: h.torg, gateway: h.gateway, seq: h.seq, sentAt: h.sentAt }, readings, timesMs, rejected };
}

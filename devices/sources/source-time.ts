/**
 * Timestamps as the sources write them, normalised to the contract's UTC millisecond instant.
 *
 * The sources write RFC 3339 with up to nanoseconds (ChirpStack: `2022-10-03T03:17:10.427430120+00:00`,
 * The Things Stack: `…46.014773143Z`, DT: microseconds). We parse the text ourselves instead of
 * handing it to `Date.parse`: ECMAScript only defines a millisecond format (ECMA-262 §21.4.1.32), so
 * longer fractions are implementation-defined, and rounding `.9996` up would move a reading into the
 * next millisecond (or second, day, year). Extra digits are truncated: the reading stays at or
 * before the instant the source wrote.
 */
import { fail, type SourceResult } from './source-errors.ts';

/**
 * Instants before this are treated as an unset clock, not a measurement. 2015-01-01: before any of
 * the supported sensor families shipped (DT's first sensors, ChirpStack v4, TTS v3 are all later),
 * and long after the 1970 epoch that an unset clock reports (DT fixtures carry `1970-01-01T00:00:00Z`).
 */
export const DEFAULT_MIN_PLAUSIBLE_MS = Date.UTC(2015, 0, 1);

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

export interface Instant {
  /** `YYYY-MM-DDTHH:mm:ss.sssZ`, the contract's format. */
  iso: string;
  ms: number;
}

export function parseInstant(text: string, minPlausibleMs = DEFAULT_MIN_PLAUSIBLE_MS): SourceResult<Instant> {
  const m = RFC3339.exec(text);
  if (!m) return fail('E_SOURCE_BAD_TIME', `"${text}" is not RFC 3339 date-time`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  // RFC 3339 §5.6 allows second 60 (leap second); no source we read emits one, and the contract
  // cannot hold it, so it is refused rather than silently shifted.
  const second = Number(s);
  const milli = Number((frac ?? '').padEnd(3, '0').slice(0, 3));
  let ms = Date.UTC(year, month - 1, day, hour, minute, second, milli);
  const check = new Date(ms);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return fail('E_SOURCE_BAD_TIME', `"${text}" names a date or time that does not exist`);
  }
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offH = Number(zone.slice(1, 3));
    const offM = Number(zone.slice(4, 6));
    if (offH > 23 || offM > 59) return fail('E_SOURCE_BAD_TIME', `"${text}" has an invalid UTC offset`);
    // Local time = UTC + offset, so UTC = local − offset. Offsets are whole minutes, so the
    // truncation above stays a truncation after the shift.
    ms -= sign * (offH * 60 + offM) * 60_000;
  }
  if (ms < minPlausibleMs) {
    return fail('E_SOURCE_TIME_IMPLAUSIBLE', `"${text}" is before ${new Date(minPlausibleMs).toISOString()}`);
  }
  return { ok: true, iso: new Date(ms).toISOString(), ms };
}

/** Epoch milliseconds (zigbee2mqtt `last_seen: epoch`) to an instant, with the same plausibility floor. */
export function instantFromEpochMs(ms: number, minPlausibleMs = DEFAULT_MIN_PLAUSIBLE_MS): SourceResult<Instant> {
  if (!Number.isFinite(ms) || !Number.isInteger(ms) || Math.abs(ms) > 8.64e15) {
    return fail('E_SOURCE_BAD_TIME', `${ms} is not an epoch millisecond count`);
  }
  if (ms < minPlausibleMs) {
    return fail('E_SOURCE_TIME_IMPLAUSIBLE', `${new Date(ms).toISOString()} is before ${new Date(minPlausibleMs).toISOString()}`);
  }
  return { ok: true, iso: new Date(ms).toISOString(), ms };
}

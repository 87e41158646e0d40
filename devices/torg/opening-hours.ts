/**
 * The opening-hours calendar of a torg: which instants are staffed, meråpent or closed, and the
 * Europe/Oslo calendar periods (day, ISO week, month) that every metric is grouped by.
 *
 * Pure: instants come in as ms since epoch, nothing reads the clock. Local wall-clock times are
 * turned into UTC instants with luxon, so a day with a DST change has 23 or 25 hours and an interval
 * that spans the change has its true length (Europe/Oslo follows the EU rule, Directive 2000/84/EC:
 * last Sunday of March 01:00 UTC forward, last Sunday of October 01:00 UTC back).
 *
 * Precedence for a local date: an exception covering the date, else a public holiday (closed), else
 * the weekly hours. An exception therefore can open a torg on a public holiday.
 */
import Holidays from 'date-holidays';
import { DateTime } from 'luxon';
import type { DayHours, OpeningException, Torg, Weekday } from './torg-config.schema.ts';
import { WEEKDAYS } from './torg-config.schema.ts';

export type OpenKind = 'staffed' | 'meraapent';
export type OpeningStatus = OpenKind | 'closed';

/** A half-open UTC interval [startMs, endMs). */
export interface OpenInterval {
  kind: OpenKind;
  startMs: number;
  endMs: number;
}

export interface DayPlan {
  /** Local date, YYYY-MM-DD. */
  date: string;
  hours: DayHours;
  source: 'weekly' | 'exception' | 'holiday';
  /** Name of the exception or holiday that decided the day. */
  name?: string;
}

const CLOSED: DayHours = { staffed: [], meraapent: [] };

// date-holidays builds its rule set per instance, which is costly; one instance per country, and the
// holidays of a year are computed once. Only type "public" closes a torg: date-holidays lists
// Julaften and Nyttårsaften as "bank" and days like Morsdag as "observance", which are ordinary
// days in law (helligdagsloven § 2); the sample config closes Julaften by exception instead.
const holidayCache = new Map<string, Map<string, string>>();
let norway: Holidays | undefined;

function publicHolidays(country: 'NO', year: number): Map<string, string> {
  const key = `${country}-${year}`;
  let days = holidayCache.get(key);
  if (!days) {
    norway ??= new Holidays('NO');
    days = new Map();
    for (const h of norway.getHolidays(year)) {
      if (h.type === 'public') days.set(h.date.slice(0, 10), h.name);
    }
    holidayCache.set(key, days);
  }
  return days;
}

/** The public holiday on a local date (YYYY-MM-DD), if the torg closes for holidays. */
export function publicHoliday(torg: Pick<Torg, 'holidays'>, date: string): string | undefined {
  if (torg.holidays === 'none') return undefined;
  return publicHolidays(torg.holidays, Number(date.slice(0, 4))).get(date);
}

function exceptionFor(torg: Torg, date: string): OpeningException | undefined {
  // Later entries win, so a specific day can be carved out of a longer period listed before it.
  let found: OpeningException | undefined;
  for (const e of torg.exceptions) {
    if (date >= e.from && date <= (e.to ?? e.from)) found = e;
  }
  return found;
}

/** The hours that apply on a local date and why. */
export function dayPlan(torg: Torg, date: string): DayPlan {
  const exception = exceptionFor(torg, date);
  if (exception) {
    return { date, hours: exception.closed ? CLOSED : (exception.hours ?? CLOSED), source: 'exception', name: exception.name };
  }
  const holiday = publicHoliday(torg, date);
  if (holiday !== undefined) return { date, hours: CLOSED, source: 'holiday', name: holiday };
  const weekday = WEEKDAYS[DateTime.fromISO(date, { zone: torg.timeZone }).weekday - 1] as Weekday;
  return { date, hours: torg.openingHours[weekday], source: 'weekly' };
}

/** Local `HH:MM` on a local date → UTC ms. `24:00` is midnight at the start of the next day. */
function localToUtcMs(date: string, time: string, zone: string): number {
  const day = DateTime.fromISO(date, { zone });
  const [h, m] = time.split(':').map(Number) as [number, number];
  // Adding a duration to the local midnight would count elapsed hours and be off by one on DST days;
  // setting the wall-clock fields lets luxon resolve the offset valid at that wall time. A wall time
  // in the spring-forward gap (02:xx on the last Sunday of March) does not exist; luxon moves it
  // forward by the gap, which is the instant a clock on the wall shows it.
  const local = h === 24 ? day.plus({ days: 1 }).startOf('day') : day.set({ hour: h, minute: m, second: 0, millisecond: 0 });
  return local.toMillis();
}

/** The UTC intervals of one local date, in time order. */
export function dayIntervals(torg: Torg, date: string): OpenInterval[] {
  const { hours } = dayPlan(torg, date);
  const out: OpenInterval[] = [];
  for (const kind of ['staffed', 'meraapent'] as const) {
    for (const [from, to] of hours[kind]) {
      const startMs = localToUtcMs(date, from, torg.timeZone);
      const endMs = localToUtcMs(date, to, torg.timeZone);
      if (endMs > startMs) out.push({ kind, startMs, endMs });
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/**
 * Open intervals overlapping [fromMs, toMs), clipped to it, in time order. Touching intervals of the
 * same kind (e.g. 00:00–24:00 on consecutive days) are merged.
 */
export function openIntervals(torg: Torg, fromMs: number, toMs: number): OpenInterval[] {
  if (!(toMs > fromMs)) return [];
  const out: OpenInterval[] = [];
  let day = DateTime.fromMillis(fromMs, { zone: torg.timeZone }).startOf('day');
  const last = DateTime.fromMillis(toMs - 1, { zone: torg.timeZone }).startOf('day');
  while (day <= last) {
    for (const i of dayIntervals(torg, day.toISODate()!)) {
      const startMs = Math.max(i.startMs, fromMs);
      const endMs = Math.min(i.endMs, toMs);
      if (endMs <= startMs) continue;
      const prev = out[out.length - 1];
      if (prev && prev.kind === i.kind && prev.endMs === startMs) prev.endMs = endMs;
      else out.push({ kind: i.kind, startMs, endMs });
    }
    day = day.plus({ days: 1 });
  }
  return out;
}

/** Staffed, meråpent or closed at one instant. */
export function openingStatus(torg: Torg, instantMs: number): OpeningStatus {
  const date = DateTime.fromMillis(instantMs, { zone: torg.timeZone }).toISODate()!;
  for (const i of dayIntervals(torg, date)) {
    if (instantMs >= i.startMs && instantMs < i.endMs) return i.kind;
  }
  return 'closed';
}

/** A local calendar period as a half-open UTC interval, with a label for reports. */
export interface LocalPeriod {
  startMs: number;
  endMs: number;
  /** `2026-03-29`, `2026-W13` or `2026-03`. */
  label: string;
}

function period(start: DateTime, unit: 'day' | 'week' | 'month', label: string): LocalPeriod {
  // plus({ [unit]: 1 }) is calendar arithmetic in luxon: the next local midnight, not +24 h.
  return { startMs: start.toMillis(), endMs: start.plus({ [`${unit}s`]: 1 }).toMillis(), label };
}

/** The local day containing an instant (23 h on the spring-forward day, 25 h on the fall-back day). */
export function localDay(instantMs: number, zone = 'Europe/Oslo'): LocalPeriod {
  const start = DateTime.fromMillis(instantMs, { zone }).startOf('day');
  return period(start, 'day', start.toISODate()!);
}

/** The ISO 8601 week (Monday–Sunday) containing an instant, labelled with its ISO week-year. */
export function localIsoWeek(instantMs: number, zone = 'Europe/Oslo'): LocalPeriod {
  // startOf('week') is Monday in luxon (ISO), and weekYear is the ISO week-numbering year, which
  // differs from the calendar year around New Year (e.g. 2026-12-31 is in 2026-W53).
  const start = DateTime.fromMillis(instantMs, { zone }).startOf('week');
  return period(start, 'week', `${start.weekYear}-W${String(start.weekNumber).padStart(2, '0')}`);
}

/** The calendar month containing an instant. */
export function localMonth(instantMs: number, zone = 'Europe/Oslo'): LocalPeriod {
  const start = DateTime.fromMillis(instantMs, { zone }).startOf('month');
  return period(start, 'month', start.toFormat('yyyy-MM'));
}

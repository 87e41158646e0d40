/**
 * ICS text → concrete booked slots [startMs, endMs) of one room in a period. Parsing, RRULE
 * expansion, EXDATE and RECURRENCE-ID overrides are node-ical's (`expandRecurringEvent`, which
 * expands in the event's TZID, so a weekly 10:00 Europe/Oslo event stays at 10:00 local across a
 * DST change — RFC 5545 §3.3.10: recurrence in local time of DTSTART's TZID). What is done here:
 *
 * - STATUS:CANCELLED (RFC 5545 §3.8.1.11) drops the event, or only the one instance when it is set
 *   on a RECURRENCE-ID override.
 * - All-day events (VALUE=DATE) are local days of the torg: [local midnight, local midnight of the
 *   end date), so an all-day booking on the fall-back day lasts 25 hours. node-ical represents a
 *   date as host-local midnight of that calendar date (node-ical.js `createLocalDateFromUTC`), so
 *   the date is read with host-local getters and placed in the torg's zone with luxon; that keeps
 *   the result independent of the server's TZ.
 * - Slots overlapping [fromMs, toMs) are returned unclipped, sorted by start.
 */
import { DateTime } from 'luxon';
import ical from 'node-ical';
import type { EventInstance, VEvent } from 'node-ical';
import { PlatformError } from '../../devices/contract/errors.ts';
import type { BookingCategoryRule, BookingSlot } from './bookings.schema.ts';

const DAY_MS = 86_400_000;
/** Instances starting this long before the period are expanded so slots running into it are seen. */
const LOOKBACK_MS = 7 * DAY_MS;

export interface ExpandOptions {
  torg: string;
  zone: string;
  fromMs: number;
  toMs: number;
  /** The configured booking categories; a slot gets the id of every one it matches. */
  categories: readonly BookingCategoryRule[];
  timeZone?: string;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'val' in v && typeof v.val === 'string') return v.val;
  return '';
}

function organizerOf(ev: VEvent): string | null {
  const o: unknown = ev.organizer;
  if (!o) return null;
  if (typeof o === 'string') return o.replace(/^mailto:/i, '');
  if (typeof o === 'object' && 'params' in o) {
    const cn: unknown = (o.params as Record<string, unknown> | undefined)?.CN;
    if (typeof cn === 'string' && cn) return cn;
  }
  const val = text(o);
  return val ? val.replace(/^mailto:/i, '') : null;
}

function categoriesOf(ev: VEvent): string[] {
  const c: unknown = ev.categories;
  if (Array.isArray(c)) return c.filter((x): x is string => typeof x === 'string').map((x) => x.trim());
  if (typeof c === 'string') return c.split(',').map((x) => x.trim());
  return [];
}

function matches(categories: readonly string[], organizer: string | null, rule: BookingCategoryRule): boolean {
  const wanted = new Set(rule.values.map((v) => v.toLocaleLowerCase('nb')));
  if (wanted.size === 0) return false;
  if (rule.field === 'categories') return categories.some((c) => wanted.has(c.toLocaleLowerCase('nb')));
  return organizer !== null && wanted.has(organizer.toLocaleLowerCase('nb'));
}

/** Calendar date of a node-ical date-only value (host-local midnight of that date). */
function dateOf(d: Date): { year: number; month: number; day: number } {
  return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate() };
}

function allDaySpan(instance: EventInstance, base: VEvent, zone: string): [number, number] {
  const s = dateOf(instance.start);
  const bs = dateOf(base.start);
  const be = base.end ? dateOf(base.end) : null;
  // RFC 5545 §3.6.1: a VALUE=DATE event without DTEND lasts one day.
  const days = be ? Math.max(1, Math.round((Date.UTC(be.year, be.month - 1, be.day) - Date.UTC(bs.year, bs.month - 1, bs.day)) / DAY_MS)) : 1;
  const start = DateTime.fromObject(s, { zone });
  return [start.toMillis(), start.plus({ days }).toMillis()];
}

const FLOATING = /^(DTSTART|DTEND|EXDATE|RDATE|RECURRENCE-ID)((?:;[^:]*)?):(\d{8}T\d{6}(?:,\d{8}T\d{6})*)(\r?)$/gim;

/**
 * Floating times (no TZID, no Z) mean wall-clock time wherever the calendar is used (RFC 5545
 * §3.3.5) — for a room, the torg's zone. node-ical reads them in the host's zone and repeats them
 * at a fixed UTC offset (a weekly 10:00 becomes 09:00 after the fall-back), so they are given the
 * torg's TZID before parsing. Lines are unfolded first (§3.1).
 */
export function anchorFloatingTimes(icsText: string, timeZone: string): string {
  return icsText.replace(/\r?\n[ \t]/g, '').replace(FLOATING, (line: string, name: string, params: string, value: string, cr: string) =>
    /TZID=|VALUE=DATE(?!-)/i.test(params) ? line : `${name}${params};TZID=${timeZone}:${value}${cr}`,
  );
}

/** Parses ICS text; throws E_BOOKING_FEED_INVALID when it is not a calendar. */
export function parseCalendar(icsText: string, label: string, timeZone = 'Europe/Oslo'): VEvent[] {
  if (!/^\s*BEGIN:VCALENDAR/i.test(icsText)) throw new PlatformError('E_BOOKING_FEED_INVALID', `${label}: does not start with BEGIN:VCALENDAR`);
  let parsed: ReturnType<typeof ical.sync.parseICS>;
  try {
    parsed = ical.sync.parseICS(anchorFloatingTimes(icsText, timeZone));
  } catch (err) {
    throw new PlatformError('E_BOOKING_FEED_INVALID', `${label}: ${(err as Error).message}`, { cause: err });
  }
  const events: VEvent[] = [];
  for (const c of Object.values(parsed)) {
    if (c && typeof c === 'object' && 'type' in c && c.type === 'VEVENT') events.push(c);
  }
  return events;
}

/** Concrete slots of the events overlapping [fromMs, toMs). */
export function expandSlots(events: readonly VEvent[], o: ExpandOptions): BookingSlot[] {
  const zone = o.timeZone ?? 'Europe/Oslo';
  const slots: BookingSlot[] = [];
  for (const ev of events) {
    if (!(ev.start instanceof Date) || Number.isNaN(ev.start.getTime())) continue;
    if (ev.status === 'CANCELLED') continue;
    const instances = ical.expandRecurringEvent(ev, {
      from: new Date(o.fromMs - LOOKBACK_MS),
      to: new Date(o.toMs),
      // Slots that began before the lookback but run into the period (multi-day bookings).
      expandOngoing: true,
    });
    for (const inst of instances) {
      const instEvent = inst.event;
      if (instEvent.status === 'CANCELLED') continue;
      const [startMs, endMs] = inst.isFullDay ? allDaySpan(inst, ev, zone) : [inst.start.getTime(), inst.end.getTime()];
      if (!(endMs > startMs) || endMs <= o.fromMs || startMs >= o.toMs) continue;
      const categories = categoriesOf(instEvent).length > 0 ? categoriesOf(instEvent) : categoriesOf(ev);
      const organizer = organizerOf(instEvent) ?? organizerOf(ev);
      slots.push({
        torg: o.torg,
        zone: o.zone,
        uid: ev.uid,
        summary: text(inst.summary) || text(ev.summary),
        startMs,
        endMs,
        allDay: inst.isFullDay,
        override: inst.isOverride,
        categories,
        organizer,
        bookingCategories: o.categories.filter((rule) => matches(categories, organizer, rule)).map((rule) => rule.id),
      });
    }
  }
  return slots.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs || a.uid.localeCompare(b.uid));
}

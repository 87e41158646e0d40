/**
 * Booked slots + a room's presence timeline → booked hours, ghost bookings, unbooked use and the
 * booking-to-occupancy ratio per room for a period. Pure: no clock, no I/O. The rules, stated in
 * every result (`rules`) and in README.md:
 *
 * - Ghost (issue 6: "booked, and no presence for at least 15 minutes of the slot"; docs/product.md:
 *   "a booked slot of a room with no presence during it"): a slot with no presence at any reported
 *   moment, whose presence was reported for at least `minSlotCoverage` of it and for at least
 *   `ghostMinutes` minutes. A facility manager reads a ghost as "booked and nobody came", so one
 *   occupied moment makes the slot used (late arrivals are not ghosts). Too little reported time →
 *   unknown ("not-reported"); fully reported but shorter than ghostMinutes → unknown ("too-short").
 * - Slots are clipped to the period; overlapping slots count their booked time once.
 * - Attendance (issue 6 "attendance at local-democracy meetings"): the room's peak occupancy during
 *   the slot, the metrics engine's zone occupancy (dashboards/metrics/README.md "Zone occupancy") and
 *   its peak ("the highest value held for any positive duration"). It is a head count only where a
 *   reading carries a count: a presence-only room would give "1 per occupied sensor", which says
 *   nothing about how many came, so it is null. It is null, too, when presence was reported for less
 *   than `minSlotCoverage` of the slot (the ghost rule's evidence threshold): the peak may have been
 *   in the unreported part.
 */
import { openIntervals } from '../../devices/torg/opening-hours.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { bookingAnalysisResultSchema } from './bookings.schema.ts';
import type { BookingAnalysisResult, BookingSlot, CategoryAnalysis, SlotAnalysis, ZoneBookingAnalysis } from './bookings.schema.ts';
import type { PresenceSegment, PresenceState } from './presence-timeline.ts';

const HOUR_MS = 3_600_000;

export interface BookingAnalysisOptions {
  ghostMinutes: number;
  minSlotCoverage: number;
  /** Below this share of open time reported, a room's figures are flagged (as the metrics engine does). */
  completenessThreshold: number;
}
export const DEFAULT_BOOKING_ANALYSIS_OPTIONS: BookingAnalysisOptions = { ghostMinutes: 15, minSlotCoverage: 0.8, completenessThreshold: 0.8 };

export function bookingRulesOf(o: BookingAnalysisOptions): BookingAnalysisResult['rules'] {
  return {
    ghost:
      `A booked slot is a ghost when the room had no presence at any reported moment of it, and presence was reported for at least ` +
      `${Math.round(o.minSlotCoverage * 100)} % of the slot and at least ${o.ghostMinutes} minutes. Any presence makes it used. Otherwise it is unknown, never a ghost. ` +
      `Ghost share = ghosts ÷ slots that are used or ghost.`,
    bookedHours:
      "Booked hours are the union of slots within the torg's open time (staffed + meråpent), for a room and for each booking category in it; booked time while closed is reported apart.",
    unbookedUse: 'Unbooked use is occupied time with presence reporting outside every slot, within open time (closed time reported apart).',
    ratio: 'Booking-to-occupancy ratio = occupied hours ÷ booked hours, both over open time with presence reporting; above 1 means more use than bookings.',
    attendance:
      `Attendance of a slot = the room's peak head count (Σ count of its presence sensors, highest value held for any positive duration) during the slot's reported time; ` +
      `null when no reading held during the slot carries a count (presence-only room) or presence was reported for less than ${Math.round(o.minSlotCoverage * 100)} % of the slot. ` +
      `A category's attendance = Σ attendance of its meetings that have one; overlapping slots of one category in one room are one meeting, whose attendance is the highest of theirs. ` +
      `Null when the category has slots and none has an attendance; 0 when it has no slots.`,
    presence:
      'Presence follows the metrics engine: a reading holds until the next one of that sensor, never beyond its reporting window; a room reports when all its presence sensors do; occupied when Σ count (or 1 per occupied sensor without count) > 0.',
  };
}

interface Span {
  startMs: number;
  endMs: number;
}

/** Union of spans, clipped to [from, to). */
function unionClipped(spans: readonly Span[], from: number, to: number): Span[] {
  const sorted = spans
    .map((s) => ({ startMs: Math.max(s.startMs, from), endMs: Math.min(s.endMs, to) }))
    .filter((s) => s.endMs > s.startMs)
    .sort((a, b) => a.startMs - b.startMs);
  const out: Span[] = [];
  for (const s of sorted) {
    const prev = out[out.length - 1];
    if (prev && s.startMs <= prev.endMs) prev.endMs = Math.max(prev.endMs, s.endMs);
    else out.push({ ...s });
  }
  return out;
}

/** Index of the first of sorted, disjoint spans ending after t (binary search). */
function firstEndingAfter(spans: readonly Span[], t: number): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.endMs <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Overlap of [a, b) with sorted, disjoint spans. */
function overlap(spans: readonly Span[], a: number, b: number): number {
  let t = 0;
  for (let i = firstEndingAfter(spans, a); i < spans.length; i++) {
    const s = spans[i]!;
    if (s.startMs >= b) break;
    t += Math.max(0, Math.min(s.endMs, b) - Math.max(s.startMs, a));
  }
  return t;
}

/** Presence segments clipped to [from, to) with uncovered time as unreported. */
function normalisedTimeline(segments: readonly PresenceSegment[], from: number, to: number): PresenceSegment[] {
  const out: PresenceSegment[] = [];
  let t = from;
  for (const s of [...segments].sort((a, b) => a.startMs - b.startMs)) {
    const start = Math.max(s.startMs, t);
    const end = Math.min(s.endMs, to);
    if (end <= start) continue;
    if (start > t) out.push({ startMs: t, endMs: start, state: 'unreported', people: 0, headcount: false });
    out.push({ ...s, startMs: start, endMs: end });
    t = end;
  }
  if (t < to) out.push({ startMs: t, endMs: to, state: 'unreported', people: 0, headcount: false });
  return out;
}

function stateTime(timeline: readonly PresenceSegment[], a: number, b: number, states: readonly PresenceState[]): number {
  let t = 0;
  for (let i = firstEndingAfter(timeline, a); i < timeline.length; i++) {
    const s = timeline[i]!;
    if (s.startMs >= b) break;
    if (states.includes(s.state)) t += Math.max(0, Math.min(s.endMs, b) - Math.max(s.startMs, a));
  }
  return t;
}

/** Peak people over the reported part of [a, b) and whether any of it was head-counted. */
function peakPeople(timeline: readonly PresenceSegment[], a: number, b: number): { peak: number; headcount: boolean } {
  let peak = 0;
  let headcount = false;
  for (let i = firstEndingAfter(timeline, a); i < timeline.length; i++) {
    const s = timeline[i]!;
    if (s.startMs >= b) break;
    if (s.state === 'unreported' || Math.min(s.endMs, b) <= Math.max(s.startMs, a)) continue;
    peak = Math.max(peak, s.people);
    headcount ||= s.headcount;
  }
  return { peak, headcount };
}

const hours = (ms: number): number => ms / HOUR_MS;

/** Forward-only lookup in sorted, disjoint spans: the sweep asks in time order, so it is linear overall. */
class SpanCursor<T extends Span> {
  private i = 0;
  constructor(private readonly spans: readonly T[]) {}
  at(t: number): T | undefined {
    while (this.i < this.spans.length && this.spans[this.i]!.endMs <= t) this.i++;
    const s = this.spans[this.i];
    return s && s.startMs <= t ? s : undefined;
  }
}

/**
 * A category's figures in one room. Overlapping slots of one category are one meeting (the same
 * meeting in two feeds, or a series and an edited instance of it): their booked time counts once,
 * and their attendance is the highest of theirs, which is the room's peak over their union.
 */
function categoryOf(id: string, details: readonly SlotAnalysis[], open: readonly Span[], fromMs: number, toMs: number): CategoryAnalysis {
  const of = details.filter((d) => d.bookingCategories.includes(id));
  const openHours = (spans: readonly Span[]): number => hours(spans.reduce((t, s) => t + overlap(open, s.startMs, s.endMs), 0));
  // Meetings: groups of the category's slots whose clipped spans overlap, in time order.
  const clipped = of
    .map((d) => ({ d, startMs: Math.max(d.startMs, fromMs), endMs: Math.min(d.endMs, toMs) }))
    .sort((x, y) => x.startMs - y.startMs);
  const meetings: { endMs: number; attendance: number | null }[] = [];
  for (const c of clipped) {
    const last = meetings[meetings.length - 1];
    if (last && c.startMs < last.endMs) {
      last.endMs = Math.max(last.endMs, c.endMs);
      if (c.d.attendance !== null) last.attendance = Math.max(last.attendance ?? 0, c.d.attendance);
    } else meetings.push({ endMs: c.endMs, attendance: c.d.attendance });
  }
  const counted = meetings.filter((m) => m.attendance !== null);
  return {
    id,
    slots: of.length,
    bookedHours: openHours(unionClipped(of, fromMs, toMs)),
    usedBookedHours: openHours(unionClipped(of.filter((d) => d.status === 'used'), fromMs, toMs)),
    ghosts: of.filter((d) => d.status === 'ghost').length,
    // Meetings without a head count are left out of the sum rather than making it null, so one room
    // without a counter does not hide the others' attendance; slotsWithAttendance shows the gap.
    // With no slots at all nobody attended, which is 0, not unknown.
    attendance: of.length === 0 ? 0 : counted.length === 0 ? null : counted.reduce((t, m) => t + m.attendance!, 0),
    slotsWithAttendance: of.filter((d) => d.attendance !== null).length,
  };
}

function analyseZone(
  torg: Torg,
  open: readonly Span[],
  zone: string,
  slots: readonly BookingSlot[],
  presence: readonly PresenceSegment[],
  fromMs: number,
  toMs: number,
  categoryIds: readonly string[],
  o: BookingAnalysisOptions,
): ZoneBookingAnalysis {
  const timeline = normalisedTimeline(presence, fromMs, toMs);
  const booked = unionClipped(slots, fromMs, toMs);
  const ghostMs = o.ghostMinutes * 60_000;

  // Elementary pieces: every boundary of open time, booked time and presence state.
  const cuts = new Set<number>([fromMs, toMs]);
  for (const list of [open, booked, timeline]) for (const s of list) cuts.add(s.startMs).add(s.endMs);
  const points = [...cuts].filter((p) => p >= fromMs && p <= toMs).sort((a, b) => a - b);
  const openAt = new SpanCursor(open);
  const bookedAt = new SpanCursor(booked);
  const stateAt = new SpanCursor(timeline);
  let bookedOpen = 0;
  let bookedClosed = 0;
  let unbookedOpen = 0;
  let unbookedClosed = 0;
  let occupiedOpenReported = 0;
  let bookedOpenReported = 0;
  let bookedOpenOccupied = 0;
  let openTotal = 0;
  let openReported = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k]!;
    const b = points[k + 1]!;
    const len = b - a;
    // Every boundary is a cut, so membership at a holds for the whole piece [a, b).
    const isOpen = openAt.at(a) !== undefined;
    const isBooked = bookedAt.at(a) !== undefined;
    const state = stateAt.at(a)?.state ?? 'unreported';
    const occupied = state === 'occupied';
    const reported = state !== 'unreported';
    if (isBooked) {
      if (isOpen) bookedOpen += len;
      else bookedClosed += len;
    } else if (occupied) {
      if (isOpen) unbookedOpen += len;
      else unbookedClosed += len;
    }
    if (isOpen) {
      openTotal += len;
      if (reported) openReported += len;
      if (occupied) occupiedOpenReported += len;
      if (isBooked && reported) bookedOpenReported += len;
      if (isBooked && occupied) bookedOpenOccupied += len;
    }
  }

  const details: SlotAnalysis[] = [];
  for (const s of slots) {
    const a = Math.max(s.startMs, fromMs);
    const b = Math.min(s.endMs, toMs);
    if (b <= a) continue;
    const occupiedMs = stateTime(timeline, a, b, ['occupied']);
    const reportedMs = stateTime(timeline, a, b, ['occupied', 'empty']);
    const coverage = reportedMs / (b - a);
    let status: SlotAnalysis['status'];
    let unknownReason: SlotAnalysis['unknownReason'] = null;
    if (occupiedMs > 0) status = 'used';
    else if (coverage < o.minSlotCoverage) [status, unknownReason] = ['unknown', 'not-reported'];
    else if (reportedMs < ghostMs) [status, unknownReason] = ['unknown', 'too-short'];
    else status = 'ghost';
    const people = peakPeople(timeline, a, b);
    let attendance: number | null = null;
    let attendanceUnknownReason: SlotAnalysis['attendanceUnknownReason'] = null;
    if (coverage < o.minSlotCoverage) attendanceUnknownReason = 'not-reported';
    else if (!people.headcount) attendanceUnknownReason = 'no-headcount';
    else attendance = people.peak;
    details.push({
      uid: s.uid,
      summary: s.summary,
      startMs: s.startMs,
      endMs: s.endMs,
      bookingCategories: s.bookingCategories,
      status,
      unknownReason,
      coverage,
      occupiedHours: hours(occupiedMs),
      bookedOpenHours: hours(overlap(open, a, b)),
      attendance,
      attendanceUnknownReason,
    });
  }
  const ghosts = details.filter((d) => d.status === 'ghost');
  const used = details.filter((d) => d.status === 'used').length;
  // No open time in the window: there was nothing to report on, so completeness is undefined, not 0
  // (product.md "Metric definitions": completeness is a share of open time).
  const completeness = openTotal > 0 ? openReported / openTotal : null;
  return {
    torg: torg.id,
    zone,
    slots: details.length,
    bookedHours: hours(bookedOpen),
    bookedHoursClosed: hours(bookedClosed),
    ghost: {
      count: ghosts.length,
      share: used + ghosts.length > 0 ? ghosts.length / (used + ghosts.length) : null,
      hours: ghosts.reduce((t, g) => t + g.bookedOpenHours, 0),
    },
    used,
    unknown: details.length - used - ghosts.length,
    unbookedUseHours: hours(unbookedOpen),
    unbookedUseHoursClosed: hours(unbookedClosed),
    bookingToOccupancyRatio: bookedOpenReported > 0 ? occupiedOpenReported / bookedOpenReported : null,
    bookedTimeOccupiedShare: bookedOpenReported > 0 ? bookedOpenOccupied / bookedOpenReported : null,
    categories: [...new Set([...categoryIds, ...details.flatMap((d) => d.bookingCategories)])].map((id) => categoryOf(id, details, open, fromMs, toMs)),
    completeness,
    lowCompleteness: completeness !== null && completeness < o.completenessThreshold,
    slotDetails: details,
  };
}

/**
 * Rooms analysed: every zone marked `bookable` in the torg model plus every zone with slots.
 * `presence` maps `torg/zone` to its timeline (presenceTimeline); a room without one is unreported.
 */
export function analyseBookings(input: {
  torgs: readonly Torg[];
  fromMs: number;
  toMs: number;
  slots: readonly BookingSlot[];
  presence: ReadonlyMap<string, readonly PresenceSegment[]>;
  /** Ids of the configured booking categories: every room lists each, with zeros when it has no slot of it. */
  categories?: readonly string[];
  options?: Partial<BookingAnalysisOptions>;
}): BookingAnalysisResult {
  const o: BookingAnalysisOptions = { ...DEFAULT_BOOKING_ANALYSIS_OPTIONS, ...input.options };
  if (!(input.toMs > input.fromMs)) throw new RangeError('analyseBookings: from must be before to');
  const zones: ZoneBookingAnalysis[] = [];
  for (const torg of input.torgs) {
    // Open time of the torg once for all its rooms (openIntervals walks the calendar day by day).
    const open = openIntervals(torg, input.fromMs, input.toMs);
    const withSlots = new Set(input.slots.filter((s) => s.torg === torg.id).map((s) => s.zone));
    for (const z of torg.zones) {
      if (!z.bookable && !withSlots.has(z.id)) continue;
      const slots = input.slots.filter((s) => s.torg === torg.id && s.zone === z.id);
      zones.push(analyseZone(torg, open, z.id, slots, input.presence.get(`${torg.id}/${z.id}`) ?? [], input.fromMs, input.toMs, input.categories ?? [], o));
    }
  }
  return bookingAnalysisResultSchema.parse({ fromMs: input.fromMs, toMs: input.toMs, rules: bookingRulesOf(o), zones });
}

/**
 * Every configured room's feed → its slots in a period. Feeds are read one at a time (a handful
 * of rooms per torg; bounded concurrency of one keeps a slow booking server from being hammered).
 * A bad feed becomes an error entry naming torg and room and never stops the others; if an
 * earlier read of that feed succeeded, its last good copy is used and the entry says so.
 */
import type { Logger } from 'pino';
import { PlatformError } from '../../devices/contract/errors.ts';
import { loadedBookingsSchema, resolveSource } from './bookings.schema.ts';
import type { BookingsConfig, BookingSlot, FeedError, LoadedBookings } from './bookings.schema.ts';
import { readFeed, sourceKey } from './feed-reader.ts';
import type { FeedCache } from './feed-reader.ts';
import { expandSlots, parseCalendar } from './ics-slots.ts';

export interface LoadBookingsDeps {
  cache: FeedCache;
  /** Folder that relative file sources are resolved against (the config file's folder). */
  baseDir: string;
  fetch?: typeof fetch;
  logger?: Pick<Logger, 'warn'>;
  timeZone?: string;
}

export async function loadBookings(config: BookingsConfig, period: { fromMs: number; toMs: number }, deps: LoadBookingsDeps): Promise<LoadedBookings> {
  const slots: BookingSlot[] = [];
  const errors: FeedError[] = [];
  for (const [torg, rooms] of Object.entries(config.feeds)) {
    for (const [zone, raw] of Object.entries(rooms)) {
      const source = resolveSource(raw, deps.baseDir);
      const key = sourceKey(source);
      const label = `torg ${torg}, rom ${zone} (${source.kind === 'url' ? source.url : source.path})`;
      const expand = (text: string): BookingSlot[] =>
        expandSlots(parseCalendar(text, label, deps.timeZone), { torg, zone, fromMs: period.fromMs, toMs: period.toMs, categories: config.categories, timeZone: deps.timeZone });
      try {
        const read = await readFeed(source, deps.cache, { ...config.fetch, fetch: deps.fetch }, label);
        const roomSlots = expand(read.text);
        deps.cache.set(key, { text: read.text, etag: read.etag, lastModified: read.lastModified });
        slots.push(...roomSlots);
      } catch (err) {
        const e = err instanceof PlatformError ? err : new PlatformError('E_BOOKING_FEED_INVALID', `${label}: ${(err as Error).message}`, { cause: err });
        const code = e.code === 'E_BOOKING_FEED_UNAVAILABLE' ? e.code : 'E_BOOKING_FEED_INVALID';
        const cached = deps.cache.get(key);
        if (cached) slots.push(...expand(cached.text));
        errors.push({ torg, zone, code, retriable: e.retriable, message: e.message, servedFromCache: cached !== undefined });
        deps.logger?.warn({ torg, zone, code, servedFromCache: cached !== undefined, err: e.message }, 'booking feed failed');
      }
    }
  }
  slots.sort((a, b) => a.startMs - b.startMs || a.torg.localeCompare(b.torg) || a.zone.localeCompare(b.zone));
  return loadedBookingsSchema.parse({ fromMs: period.fromMs, toMs: period.toMs, slots, errors });
}

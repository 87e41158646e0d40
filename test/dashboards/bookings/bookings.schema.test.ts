import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bookingsConfigSchema, loadBookingsConfig } from '../../../dashboards/bookings/bookings.schema.ts';
import { loadBookings } from '../../../dashboards/bookings/load-bookings.ts';
import { PlatformError } from '../../../devices/contract/errors.ts';

const fixturesDir = fileURLToPath(new URL('../../fixtures/ics/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bookings-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bookings config: categories', () => {
  it('reads a config written before categories: localGroups becomes the category lokal-gruppe', () => {
    const c = bookingsConfigSchema.parse({ version: 1, feeds: {}, localGroups: { field: 'organizer', values: ['Asker Sjakklubb'] } });
    expect(c.categories).toEqual([{ id: 'lokal-gruppe', field: 'organizer', values: ['Asker Sjakklubb'] }]);
    expect('localGroups' in c).toBe(false);
  });

  it('keeps localGroups beside other categories, lokal-gruppe first; field defaults to categories', () => {
    const c = bookingsConfigSchema.parse({
      version: 1,
      feeds: {},
      localGroups: { values: ['Lag og foreninger'] },
      categories: [{ id: 'lokaldemokrati', values: ['Lokalutvalg', 'Folkemøte'] }],
    });
    expect(c.categories).toEqual([
      { id: 'lokal-gruppe', field: 'categories', values: ['Lag og foreninger'] },
      { id: 'lokaldemokrati', field: 'categories', values: ['Lokalutvalg', 'Folkemøte'] },
    ]);
  });

  it('has no categories when neither key is given', () => {
    expect(bookingsConfigSchema.parse({ version: 1, feeds: {} }).categories).toEqual([]);
  });

  it('refuses lokal-gruppe defined twice (localGroups and categories), a repeated id and an id that is not a slug, naming the key', () => {
    const both = bookingsConfigSchema.safeParse({ version: 1, feeds: {}, localGroups: { values: ['A'] }, categories: [{ id: 'lokal-gruppe', values: ['B'] }] });
    expect(both.success).toBe(false);
    expect(both.error?.issues.map((i) => i.path.join('.'))).toEqual(['localGroups']);
    const twice = bookingsConfigSchema.safeParse({ version: 1, feeds: {}, categories: [{ id: 'x', values: ['A'] }, { id: 'x', values: ['B'] }] });
    expect(twice.error?.issues.map((i) => i.path.join('.'))).toEqual(['categories.1.id']);
    const path = join(dir, 'bad-id.json');
    writeFileSync(path, JSON.stringify({ version: 1, feeds: {}, categories: [{ id: 'Lokal Gruppe', values: ['A'] }] }));
    let err: unknown;
    try {
      loadBookingsConfig(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe('E_CONFIG_INVALID');
    expect((err as PlatformError).message).toContain('categories.0.id');
  });

  it('an old config file with localGroups still loads, and its slots are classified as lokal-gruppe', async () => {
    const path = join(dir, 'old.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        feeds: { 'asker-sentrum': { fjorden: join(fixturesDir, 'moterom-fjorden.ics') } },
        localGroups: { field: 'categories', values: ['Lag og foreninger'] },
        ghostMinutes: 15,
      }),
    );
    const { config } = loadBookingsConfig(path);
    // Oslo day 2026-10-20: the weekly styremøte 10:00–12:00 CEST (CATEGORIES:Lag og foreninger).
    const r = await loadBookings(config, { fromMs: Date.parse('2026-10-19T22:00:00Z'), toMs: Date.parse('2026-10-20T22:00:00Z') }, { cache: new Map(), baseDir: dir });
    expect(r.errors).toEqual([]);
    expect(r.slots.map((s) => [s.summary, s.bookingCategories])).toEqual([['Styremøte Asker Sjakklubb', ['lokal-gruppe']]]);
  });
});

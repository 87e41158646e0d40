import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  dayPlan,
  localDay,
  localIsoWeek,
  localMonth,
  openIntervals,
  openingStatus,
} from '../../../devices/torg/opening-hours.ts';
import { parseTorgConfig, type Torg } from '../../../devices/torg/torg-config.schema.ts';

const weekday = { staffed: [['10:00', '15:00']], meraapent: [['07:00', '10:00'], ['15:00', '22:00']] };
const config = parseTorgConfig({
  municipality: 'Testkommune',
  torg: [
    {
      id: 'test-torg',
      name: 'Testtorget',
      population: 1000,
      openingHours: {
        mon: weekday,
        tue: weekday,
        wed: weekday,
        thu: { staffed: [['10:00', '18:00']], meraapent: [['07:00', '10:00'], ['18:00', '22:00']] },
        fri: weekday,
        sat: { meraapent: [['09:00', '16:00']] },
        // 01:00–04:00 on Sundays spans both DST changes of 2026 (both are Sundays).
        sun: { meraapent: [['01:00', '04:00']] },
      },
      exceptions: [
        { from: '2026-12-24', name: 'Julaften', closed: true },
        {
          from: '2026-06-29',
          to: '2026-07-03',
          name: 'Sommer',
          hours: { staffed: [['11:00', '14:00']], meraapent: [['07:00', '11:00'], ['14:00', '20:00']] },
        },
        { from: '2026-05-25', name: 'Åpen dag 2. pinsedag', hours: { staffed: [['12:00', '16:00']] } },
      ],
      entrances: [{ id: 'inngang', name: 'Inngang' }],
      zones: [{ id: 'service', name: 'Service', module: 'innbyggerservice', capacity: 10, fireMax: 20 }],
      capacity: 20,
    },
  ],
});
const torg = config.torg[0] as Torg;
const t = (iso: string) => Date.parse(iso);
const H = 3_600_000;

describe('openIntervals across DST', () => {
  it('spring forward 2026-03-29: local 01:00–04:00 is 2 h, 00:00Z–02:00Z', () => {
    const day = localDay(t('2026-03-29T10:00:00Z'));
    expect(openIntervals(torg, day.startMs, day.endMs)).toEqual([
      { kind: 'meraapent', startMs: t('2026-03-29T00:00:00Z'), endMs: t('2026-03-29T02:00:00Z') },
    ]);
  });
  it('fall back 2026-10-25: local 01:00–04:00 is 4 h, 23:00Z (CEST) – 03:00Z (CET)', () => {
    const day = localDay(t('2026-10-25T10:00:00Z'));
    const iv = openIntervals(torg, day.startMs, day.endMs);
    expect(iv).toEqual([{ kind: 'meraapent', startMs: t('2026-10-24T23:00:00Z'), endMs: t('2026-10-25T03:00:00Z') }]);
    expect(iv[0]!.endMs - iv[0]!.startMs).toBe(4 * H);
  });
  it('a Thursday in winter (UTC+1) with the late staffed day', () => {
    const day = localDay(t('2026-11-26T12:00:00Z'));
    expect(openIntervals(torg, day.startMs, day.endMs)).toEqual([
      { kind: 'meraapent', startMs: t('2026-11-26T06:00:00Z'), endMs: t('2026-11-26T09:00:00Z') },
      { kind: 'staffed', startMs: t('2026-11-26T09:00:00Z'), endMs: t('2026-11-26T17:00:00Z') },
      { kind: 'meraapent', startMs: t('2026-11-26T17:00:00Z'), endMs: t('2026-11-26T21:00:00Z') },
    ]);
  });
  it('clips to the requested range', () => {
    expect(openIntervals(torg, t('2026-11-26T10:00:00Z'), t('2026-11-26T18:00:00Z'))).toEqual([
      { kind: 'staffed', startMs: t('2026-11-26T10:00:00Z'), endMs: t('2026-11-26T17:00:00Z') },
      { kind: 'meraapent', startMs: t('2026-11-26T17:00:00Z'), endMs: t('2026-11-26T18:00:00Z') },
    ]);
  });
  it('a whole week in summer time sums to the hand-computed open hours', () => {
    // Mon 2026-09-07 .. Sun 2026-09-13: 4 weekdays × 15 h + Thu 15 h + Sat 7 h + Sun 3 h = 85 h,
    // of which staffed 4 × 5 + 8 = 28 h.
    const week = localIsoWeek(t('2026-09-09T12:00:00Z'));
    const iv = openIntervals(torg, week.startMs, week.endMs);
    const sum = (k?: string) => iv.filter((i) => !k || i.kind === k).reduce((s, i) => s + i.endMs - i.startMs, 0);
    expect(sum()).toBe(85 * H);
    expect(sum('staffed')).toBe(28 * H);
  });
});

describe('openingStatus', () => {
  it('staffed, meråpent and closed on ordinary days (CET and CEST)', () => {
    expect(openingStatus(torg, t('2026-03-27T08:30:00Z'))).toBe('meraapent'); // Fri 09:30 CET
    expect(openingStatus(torg, t('2026-03-30T08:30:00Z'))).toBe('staffed'); // Mon 10:30 CEST
    expect(openingStatus(torg, t('2026-03-30T13:00:00Z'))).toBe('meraapent'); // Mon 15:00 CEST, boundary
    expect(openingStatus(torg, t('2026-03-30T20:00:00Z'))).toBe('closed'); // Mon 22:00 CEST, end is exclusive
    expect(openingStatus(torg, t('2026-03-30T04:59:59Z'))).toBe('closed'); // Mon 06:59:59 CEST
  });
  it('public holidays close the torg: Kristi himmelfartsdag 2026-05-14 and 17. mai', () => {
    expect(openingStatus(torg, t('2026-05-14T10:00:00Z'))).toBe('closed'); // Thursday 12:00 local
    expect(openingStatus(torg, t('2026-05-07T10:00:00Z'))).toBe('staffed'); // the Thursday before
    expect(openingStatus(torg, t('2026-05-17T00:00:00Z'))).toBe('closed'); // Sunday 02:00 local
    expect(openingStatus(torg, t('2026-05-10T00:00:00Z'))).toBe('meraapent'); // the Sunday before
    expect(dayPlan(torg, '2026-05-17')).toMatchObject({ source: 'holiday', name: 'Grunnlovsdagen' });
  });
  it('exceptions override weekly hours and holidays', () => {
    expect(openingStatus(torg, t('2026-12-24T10:00:00Z'))).toBe('closed'); // Julaften, Thursday
    expect(openingStatus(torg, t('2026-07-01T08:30:00Z'))).toBe('meraapent'); // summer: staffed only from 11:00
    expect(openingStatus(torg, t('2026-07-01T09:30:00Z'))).toBe('staffed');
    expect(openingStatus(torg, t('2026-07-01T18:30:00Z'))).toBe('closed'); // summer meråpent ends 20:00
    expect(openingStatus(torg, t('2026-07-08T18:30:00Z'))).toBe('meraapent'); // a week later: weekly hours
    // 2. pinsedag is a public holiday, but the exception opens it 12–16.
    expect(openingStatus(torg, t('2026-05-25T10:30:00Z'))).toBe('staffed');
    expect(openingStatus(torg, t('2026-05-25T08:30:00Z'))).toBe('closed');
  });
});

describe('local calendar periods', () => {
  it('day: 23 h on spring-forward day, 25 h on fall-back day', () => {
    expect(localDay(t('2026-03-29T12:00:00Z'))).toEqual({
      startMs: t('2026-03-28T23:00:00Z'),
      endMs: t('2026-03-29T22:00:00Z'),
      label: '2026-03-29',
    });
    expect(localDay(t('2026-10-25T12:00:00Z'))).toEqual({
      startMs: t('2026-10-24T22:00:00Z'),
      endMs: t('2026-10-25T23:00:00Z'),
      label: '2026-10-25',
    });
    // 23:30Z on 1 June is already 2 June in Oslo.
    expect(localDay(t('2026-06-01T23:30:00Z')).label).toBe('2026-06-02');
  });
  it('ISO week: 2026-12-31 is in 2026-W53, Monday 28 Dec to Monday 4 Jan', () => {
    expect(localIsoWeek(t('2026-12-31T12:00:00Z'))).toEqual({
      startMs: t('2026-12-27T23:00:00Z'),
      endMs: t('2027-01-03T23:00:00Z'),
      label: '2026-W53',
    });
  });
  it('month: March 2026 starts in CET and ends in CEST', () => {
    expect(localMonth(t('2026-03-15T12:00:00Z'))).toEqual({
      startMs: t('2026-02-28T23:00:00Z'),
      endMs: t('2026-03-31T22:00:00Z'),
      label: '2026-03',
    });
  });
});

describe('sample config', () => {
  const raw = JSON.parse(readFileSync(new URL('../../../config/torg.asker.sample.json', import.meta.url), 'utf8')) as {
    torg: { id: string; zones: { id: string; capacity: number }[] }[];
  };
  it('loads, is marked as sample, and covers the seven torg and all six module types', () => {
    const c = parseTorgConfig(raw);
    expect(c.sample).toBe(true);
    expect(c.municipality).toBe('Asker kommune');
    expect(c.torg.map((x) => x.name.replace(' innbyggertorg', ''))).toEqual([
      'Asker sentrum', 'Heggedal', 'Slemmestad', 'Spikkestad', 'Røyken', 'Sætre', 'Tofte',
    ]);
    expect(new Set(c.torg.flatMap((x) => x.zones.map((z) => z.module))).size).toBe(6);
    const pop = c.torg.map((x) => x.population);
    expect(pop.reduce((a, b) => a + b, 0)).toBe(98_000);
    expect(Math.max(...pop)).toBe(c.torg.find((x) => x.id === 'asker-sentrum')!.population);
    expect(Math.min(...pop)).toBe(c.torg.find((x) => x.id === 'tofte')!.population);
  });
  it('Julaften is closed and the summer period reduces staffing at Heggedal', () => {
    const heggedal = parseTorgConfig(raw).torg.find((x) => x.id === 'heggedal')!;
    expect(openingStatus(heggedal, t('2026-12-24T10:00:00Z'))).toBe('closed');
    // Wed 2026-07-15 10:30 CEST: normally staffed (10–15), in summer meråpent until 11:00.
    expect(openingStatus(heggedal, t('2026-07-15T08:30:00Z'))).toBe('meraapent');
    expect(openingStatus(heggedal, t('2026-09-16T08:30:00Z'))).toBe('staffed');
  });
  it('a bad value is reported with the key path by ids', () => {
    const bad = structuredClone(raw);
    bad.torg.find((x) => x.id === 'heggedal')!.zones.find((z) => z.id === 'mote-1')!.capacity = 0;
    expect(() => parseTorgConfig(bad)).toThrow(/E_CONFIG_INVALID.*torg\[heggedal\]\.zones\[mote-1\]\.capacity/);
  });
});

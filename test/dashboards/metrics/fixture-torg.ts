import { torgSchema } from '../../../devices/torg/torg-config.schema.ts';
import type { Torg } from '../../../devices/torg/torg-config.schema.ts';
import type { AssignmentLookup, Place } from '../../../dashboards/metrics/metrics-engine.ts';

const weekday = { staffed: [['10:00', '15:00']], meraapent: [['07:00', '10:00'], ['15:00', '22:00']] };

/** Weekdays: meråpent 07–10, staffed 10–15, meråpent 15–22; Saturday closed; Sunday meråpent 08–22. */
export function makeTorg(id = 'testtorg'): Torg {
  return torgSchema.parse({
    id,
    name: 'Testtorg',
    population: 1000,
    holidays: 'none',
    openingHours: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday, sat: {}, sun: { meraapent: [['08:00', '22:00']] } },
    entrances: [{ id: 'hoved', name: 'Hovedinngang', lines: ['line-1'] }],
    zones: [
      { id: 'sone-a', name: 'Sone A', module: 'møterom', capacity: 10, fireMax: 20 },
      { id: 'sone-b', name: 'Sone B', module: 'møterom', capacity: 4, fireMax: 8 },
    ],
    capacity: 50,
  });
}

export const t = (iso: string): number => Date.parse(iso);

/** Fixed assignments; devices not listed are unassigned (pending). */
export function assignments(torg: string, map: Record<string, Place>): AssignmentLookup {
  return (device) => {
    const place = map[device];
    return place ? { torg, place } : null;
  };
}

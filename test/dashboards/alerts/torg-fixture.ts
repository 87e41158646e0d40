/**
 * Two small torg for the alert tests. Weekdays: meråpent 07–10, staffed 10–15, meråpent 15–22;
 * Saturday meråpent 09–16; Sunday closed. November 2026 is winter time in Oslo (UTC+1), so the
 * instants below are written with an explicit +01:00 offset and parsed by Date, not by the code under
 * test. 2026-11-22 is a Sunday, 2026-11-23 a Monday.
 */
import { parseTorgConfig, type Torg } from '../../../devices/torg/torg-config.schema.ts';

const weekday = { staffed: [['10:00', '15:00']], meraapent: [['07:00', '10:00'], ['15:00', '22:00']] };
const hours = { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday, sat: { meraapent: [['09:00', '16:00']] }, sun: {} };

function torg(id: string, name: string): unknown {
  return {
    id,
    name,
    population: 1000,
    openingHours: hours,
    entrances: [{ id: 'hoved', name: 'Hovedinngang' }],
    zones: [
      { id: 'mote-1', name: 'Møterom 1', module: 'møterom', capacity: 10, fireMax: 12 },
      { id: 'sal', name: 'Arrangementssal', module: 'arrangement', capacity: 35, fireMax: 40 },
    ],
    capacity: 80,
  };
}

export const TORG: readonly Torg[] = parseTorgConfig({
  municipality: 'Testkommune',
  torg: [torg('nordby', 'Nordby innbyggertorg'), torg('sydby', 'Sydby innbyggertorg')],
}).torg;

/** Oslo local time in November 2026 (UTC+1) → ms since epoch. */
export function oslo(local: string): number {
  const ms = Date.parse(`${local}:00+01:00`);
  if (Number.isNaN(ms)) throw new Error(`bad local time ${local}`);
  return ms;
}

export const MIN = 60_000;

import { torgSchema } from '../../../devices/torg/torg-config.schema.ts';
import type { Torg } from '../../../devices/torg/torg-config.schema.ts';

const weekday = { staffed: [['10:00', '15:00']], meraapent: [['07:00', '10:00'], ['15:00', '22:00']] };

/** Weekdays: meråpent 07–10, staffed 10–15, meråpent 15–22; Saturday closed; Sunday meråpent 08–22 unless `sundayMeraapent` says otherwise. */
export function skaleringTorg(sundayMeraapent: [string, string][] = [['08:00', '22:00']]): Torg {
  return torgSchema.parse({
    id: 'toppen',
    name: 'Toppen innbyggertorg',
    population: 5000,
    holidays: 'none',
    openingHours: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday, sat: {}, sun: { meraapent: sundayMeraapent } },
    entrances: [{ id: 'hoved', name: 'Hovedinngang' }],
    zones: [
      { id: 'mote-1', name: 'Møterom 1', module: 'møterom', capacity: 10, fireMax: 12 },
      { id: 'mote-2', name: 'Møterom 2', module: 'møterom', capacity: 4, fireMax: 6 },
      { id: 'arbeid', name: 'Arbeidsplasser', module: 'arbeidsplasser', capacity: 6, fireMax: 10 },
      { id: 'arbeid-2', name: 'Stillerom', module: 'arbeidsplasser', capacity: 2, fireMax: 4 },
    ],
    capacity: 60,
  });
}

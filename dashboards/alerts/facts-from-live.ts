/**
 * The alert engine's facts for one torg, from the live state the facility staff see (issue 5): the
 * alerts and the live page judge the same numbers. A value the live state marks not fresh is unknown
 * (null) here, so a stale sensor neither fires nor resolves an alert (alert-facts.ts).
 */
import type { TorgLive } from '../live/live.schema.ts';
import type { AlertFacts } from './alert-facts.ts';

export function factsFromLive(torg: TorgLive, classOf: (device: string) => 'mains' | 'battery' | undefined): AlertFacts {
  return {
    zones: torg.zones.map((z) => ({
      id: z.id,
      occupied: z.fresh ? z.occupied : null,
      count: z.fresh ? z.count : null,
      co2: z.climate !== null && z.climate.fresh ? z.climate.co2 : null,
      fireMax: z.fireMax,
    })),
    doors: torg.doors.map((d) => ({
      device: d.device,
      ...(d.name ? { name: d.name } : {}),
      ...(d.zone !== null ? { zone: d.zone } : {}),
      open: d.fresh ? d.open : null,
    })),
    devices: torg.devices.flatMap((d) => {
      const cls = classOf(d.device);
      if (cls === undefined) return [];
      return [{ device: d.device, class: cls, liveness: d.state, battery: d.battery, ...(d.place !== null ? { name: d.place } : {}) }];
    }),
  };
}

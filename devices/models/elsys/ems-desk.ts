/**
 * Elsys EMS Desk: desk occupancy (thermopile under the desk) plus temperature and humidity.
 *
 * Occupancy byte per the Elsys desk-sensor manuals (allthingstalk/device-types
 * ELSYS/ERS/Desk/README.md): 0 = unoccupied, 1 = pending (someone entering or leaving),
 * 2 = occupied. "Pending" is a transition, neither state, so it yields no presence reading.
 */
import type { ReadingInput } from '../../contract/reading.schema.ts';
import { DecodeError } from '../device-model.ts';
import { defineElsysModel } from './elsys-model.ts';

export const elsysEmsDesk = defineElsysModel({
  id: 'elsys-ems-desk',
  model: 'EMS Desk',
  kinds: ['climate', 'presence'],
  docs: [
    'https://www.elsys.se/en/ems-desk/',
    'allthingstalk/device-types ELSYS/ERS/Desk/README.md (occupancy values)',
    'TheThingsNetwork/lorawan-devices vendor/elsys/ems-desk-codec.yaml',
  ],
  climate: true,
  readings(v, ctx): ReadingInput[] {
    if (v.occupancy === undefined || v.occupancy === 1) return [];
    if (v.occupancy === 0) return [{ kind: 'presence', device: ctx.device, time: ctx.time, occupied: false }];
    if (v.occupancy === 2) return [{ kind: 'presence', device: ctx.device, time: ctx.time, occupied: true }];
    throw new DecodeError('E_DECODE_BAD_VALUE', `EMS Desk occupancy ${v.occupancy} is not 0, 1 or 2`);
  },
});

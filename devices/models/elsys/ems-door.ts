/**
 * Elsys EMS Door: reed switch plus accelerometer on a door frame.
 *
 * - Door state is digital input 1 (type 0x0D). Its level is the reed switch: 1 = magnet near =
 *   door CLOSED (allthingstalk/device-types ELSYS/EMS/Door/README.md names the asset "Door Closed",
 *   "Door sensor (reed switch)"), so the contract's `open` is the inverse.
 * - Openings: the switch drives pulse input 1. Type 0x0A is the count since the previous uplink,
 *   type 0x0B the accumulated count ("Total Door Cycles", same README); the contract's `openings`
 *   is a running count, so it takes 0x0B. The relative count adds nothing the total does not
 *   carry, and the ingest derives deltas from totals.
 */
import type { ReadingInput } from '../../contract/reading.schema.ts';
import { DecodeError } from '../device-model.ts';
import { defineElsysModel } from './elsys-model.ts';

export const elsysEmsDoor = defineElsysModel({
  id: 'elsys-ems-door',
  model: 'EMS Door',
  kinds: ['door'],
  docs: [
    'https://www.elsys.se/en/ems-door/',
    'https://elsys.se/public/manuals/Operating%20_Manual_EMS_Door.pdf',
    'allthingstalk/device-types ELSYS/EMS/Door/README.md (digital = door closed, pulse abs = door cycles)',
    'TheThingsNetwork/lorawan-devices vendor/elsys/ems-door-codec.yaml',
  ],
  // EMS Door has no climate sensors.
  climate: false,
  readings(v, ctx): ReadingInput[] {
    let open: boolean | undefined;
    if (v.digital !== undefined) {
      if (v.digital > 1) throw new DecodeError('E_DECODE_BAD_VALUE', `EMS Door digital input ${v.digital} is not 0 or 1`);
      open = v.digital === 0;
    }
    if (open === undefined && v.pulse1Abs === undefined) return [];
    return [
      {
        kind: 'door',
        device: ctx.device,
        time: ctx.time,
        ...(open !== undefined ? { open } : {}),
        ...(v.pulse1Abs !== undefined ? { openings: v.pulse1Abs } : {}),
      },
    ];
  },
});

/**
 * Elsys ERS Eye: ERS plus a Grid-EYE thermopile for occupancy (type 0x11).
 *
 * Occupancy byte per the ERS Eye operating manual (as summarised in allthingstalk/device-types
 * ELSYS/ERS/Eye/README.md): 0 = nobody, 1 = PIR triggered, 2 = heat (Grid-EYE) triggered. Both
 * 1 and 2 mean a person was detected, so both map to occupied. The sensor reports a state, not a
 * head count, so `count` stays unset.
 */
import type { ReadingInput } from '../../contract/reading.schema.ts';
import { DecodeError } from '../device-model.ts';
import { defineElsysModel, presenceFromMotion } from './elsys-model.ts';

export const elsysErsEye = defineElsysModel({
  id: 'elsys-ers-eye',
  model: 'ERS Eye',
  kinds: ['climate', 'presence'],
  docs: [
    'https://www.elsys.se/en/ers-eye/',
    'https://elsys.se/public/manuals/Operating%20Manual%20ERS%20Eye.pdf',
    'allthingstalk/device-types ELSYS/ERS/Eye/README.md (occupancy values)',
    'TheThingsNetwork/lorawan-devices vendor/elsys/ers-eye-codec.yaml',
  ],
  climate: true,
  readings(v, ctx): ReadingInput[] {
    // The occupancy state is the Eye's own verdict; the PIR count is only a fallback for uplinks
    // that carry no occupancy record.
    if (v.occupancy === undefined) return presenceFromMotion(v, ctx);
    if (v.occupancy > 2) throw new DecodeError('E_DECODE_BAD_VALUE', `ERS Eye occupancy ${v.occupancy} is not 0, 1 or 2`);
    return [{ kind: 'presence', device: ctx.device, time: ctx.time, occupied: v.occupancy > 0 }];
  },
});

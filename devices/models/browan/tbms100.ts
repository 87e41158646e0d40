/**
 * Browan TBMS100 PIR motion sensor, fPort 102, 8 bytes:
 *   byte 0 bit 0  room state: 1 = occupied, 0 = free (Browan TBMS100 payload doc)
 *   bytes 3-4     minutes since the last motion event (uint16 LE) — no contract field
 *   bytes 5-7     motion event count (uint24 LE): PIR triggers, not people, so never `count`
 */
import type { ReadingInput } from '../../contract/reading.schema.ts';
import type { LorawanDeviceModel } from '../device-model.ts';
import { byteAt, requirePortAndLength } from './browan-common.ts';

export const browanTbms100: LorawanDeviceModel = {
  id: 'browan-tbms100',
  vendor: 'Browan',
  model: 'TBMS100',
  transport: 'lorawan',
  kinds: ['presence'],
  power: 'battery',
  docs: ['https://www.browan.com/product/merryiot-motion-detection-sensor/', 'TheThingsNetwork/lorawan-devices vendor/browan/tbms100.js and tbms100-codec.yaml'],
  decode(fPort, bytes, ctx): ReadingInput[] {
    requirePortAndLength('TBMS100', fPort, 102, bytes, 8);
    return [{ kind: 'presence', device: ctx.device, time: ctx.time, occupied: (byteAt(bytes, 0) & 0x01) === 1 }];
  },
};

/**
 * Browan TBDW100 door/window sensor, fPort 100, 8 bytes:
 *   byte 0 bit 0  door: 0 = closed, 1 = open (Browan TBDW100 payload doc; TTN's normalised
 *                 output calls it "motion", which it is not)
 *   bytes 3-4     minutes since the last event (uint16 LE) — no contract field
 *   bytes 5-7     door-open event count (uint24 LE), a running total → `openings`
 */
import type { ReadingInput } from '../../contract/reading.schema.ts';
import type { LorawanDeviceModel } from '../device-model.ts';
import { byteAt, requirePortAndLength, u24le } from './browan-common.ts';

export const browanTbdw100: LorawanDeviceModel = {
  id: 'browan-tbdw100',
  vendor: 'Browan',
  model: 'TBDW100',
  transport: 'lorawan',
  kinds: ['door'],
  power: 'battery',
  docs: ['https://www.browan.com/product/merryiot-door-window-sensor/', 'TheThingsNetwork/lorawan-devices vendor/browan/tbdw100.js and tbdw100-codec.yaml'],
  decode(fPort, bytes, ctx): ReadingInput[] {
    requirePortAndLength('TBDW100', fPort, 100, bytes, 8);
    return [{ kind: 'door', device: ctx.device, time: ctx.time, open: (byteAt(bytes, 0) & 0x01) === 1, openings: u24le(bytes, 5) }];
  },
};

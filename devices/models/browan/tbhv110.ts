/**
 * Browan TBHV110 healthy-home (IAQ) sensor, fPort 103, 11 bytes:
 *   byte 3 bits 6..0  relative humidity, %
 *   bytes 4-5         eCO2, ppm (uint16 LE) — an equivalent CO2 estimated by the VOC sensor, not
 *                     an NDIR measurement; it goes to `co2` because that is what the device offers
 *   bytes 6-7         VOC, ppb (uint16 LE) → `tvoc`
 *   bytes 8-9         IAQ index (uint16 LE): an index, not ppb, so it is not put in `tvoc`; skipped
 *   byte 10 bits 6..0 ambient temperature, value - 32 °C (the room sensor, unlike byte 2)
 * Layout: TheThingsNetwork/lorawan-devices vendor/browan/tbhv110.js; status bits in byte 0 only
 * say which values changed and carry no reading.
 */
import type { ReadingInput } from '../../contract/reading.schema.ts';
import type { LorawanDeviceModel } from '../device-model.ts';
import { byteAt, plausible, requirePortAndLength, u16le } from './browan-common.ts';

export const browanTbhv110: LorawanDeviceModel = {
  id: 'browan-tbhv110',
  vendor: 'Browan',
  model: 'TBHV110',
  transport: 'lorawan',
  kinds: ['climate'],
  power: 'battery',
  docs: ['https://www.browan.com/product/merryiot-iaq-sensor/', 'TheThingsNetwork/lorawan-devices vendor/browan/tbhv110.js and tbhv110-codec.yaml'],
  decode(fPort, bytes, ctx): ReadingInput[] {
    requirePortAndLength('TBHV110', fPort, 103, bytes, 11);
    const values = {
      temperature: plausible('temperature', (byteAt(bytes, 10) & 0x7f) - 32),
      humidity: plausible('humidity', byteAt(bytes, 3) & 0x7f),
      co2: plausible('co2', u16le(bytes, 4)),
      tvoc: plausible('tvoc', u16le(bytes, 6)),
    };
    const present = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    if (Object.keys(present).length === 0) return [];
    return [{ kind: 'climate', device: ctx.device, time: ctx.time, ...present }];
  },
};

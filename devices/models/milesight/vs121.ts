/**
 * Milesight VS121 AI workplace occupancy sensor (mains powered).
 * Format: Milesight-IoT/SensorDecoders VS_Series/VS121/README.md ("Payload Definition").
 */
import type { LorawanDeviceModel } from '../device-model.ts';
import { channel, decodeChannels, ignore } from './milesight-frame.ts';
import type { ChannelDecoder } from './milesight-frame.ts';

const ID = 'milesight-vs121';

const table = new Map<number, ChannelDecoder>([
  // Attributes of this model: protocol version 1, serial number 6, hardware 2, firmware 4 bytes.
  [channel(0xff, 0x01), ignore(1)],
  [channel(0xff, 0x08), ignore(6)],
  [channel(0xff, 0x09), ignore(2)],
  [channel(0xff, 0x1f), ignore(4)],
  // People count: people_count_all(1) + region_count(1) + region occupancy mask(2). The total head
  // count is the room's occupancy; the per-region mask has no place in the contract. (The README
  // table says "region_count(2B)" but its example 04C9030800A1 shows 1 + 1 + 2 bytes.)
  [
    channel(0x04, 0xc9),
    (r, s) => {
      const count = r.u8('people count');
      r.skip(3, 'region count and mask');
      s.setPresence(count > 0, count);
    },
  ],
  // People in/out (2+2): the README does not say whether these are per-interval or running
  // values, so they are not mapped to a counter reading (a guessed periodSeconds would be wrong).
  [channel(0x05, 0xcc), ignore(4)],
  [channel(0x06, 0xcd), ignore(1)], // maximum people count in the period
  // Region counts 1-8 and 9-16 (8 x uint8 each; the table's "1" is the per-region size).
  [channel(0x07, 0xd5), ignore(8)],
  [channel(0x08, 0xd5), ignore(8)],
  // Region-to-region flows A..D (4 x uint16 each).
  [channel(0x09, 0xda), ignore(8)],
  [channel(0x0a, 0xda), ignore(8)],
  [channel(0x0b, 0xda), ignore(8)],
  [channel(0x0c, 0xda), ignore(8)],
]);

export const vs121: LorawanDeviceModel = {
  id: ID,
  vendor: 'Milesight',
  model: 'VS121',
  transport: 'lorawan',
  kinds: ['presence'],
  power: 'mains',
  docs: [
    'https://github.com/Milesight-IoT/SensorDecoders/blob/main/VS_Series/VS121/README.md',
    'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/vs121-codec.yaml',
  ],
  decode: (fPort, bytes, ctx) => decodeChannels(ID, fPort, bytes, ctx, table),
};

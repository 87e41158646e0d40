/**
 * Milesight AM319 (HCHO variant): AM307 channels plus HCHO, PM2.5 and PM10; battery powered.
 * Format: Milesight-IoT/SensorDecoders am-series/am319-hcho/README.md.
 */
import type { LorawanDeviceModel } from '../device-model.ts';
import { channel, decodeChannels, ignore } from './milesight-frame.ts';
import type { ChannelDecoder } from './milesight-frame.ts';
import { am30xChannels } from './am30x-format.ts';

const ID = 'milesight-am319';

const table = new Map<number, ChannelDecoder>([
  // History record: the AM307 record plus pm2.5(2) + pm10(2) + hcho(2) = 22 bytes.
  ...am30xChannels(ID, 22),
  // HCHO (mg/m³), PM2.5 and PM10 (µg/m³): no contract field, skipped by their documented length.
  [channel(0x0a, 0x7d), ignore(2)],
  [channel(0x0b, 0x7d), ignore(2)],
  [channel(0x0c, 0x7d), ignore(2)],
  // O3 (uint16/100 ppm) on the AM319-O3 variant, listed in the AM307/AM319 decoder of
  // TheThingsNetwork/lorawan-devices vendor/milesight-iot/am307l.js: no contract field.
  [channel(0x0d, 0x7d), ignore(2)],
]);

export const am319: LorawanDeviceModel = {
  id: ID,
  vendor: 'Milesight',
  model: 'AM319',
  transport: 'lorawan',
  kinds: ['climate', 'presence', 'health'],
  power: 'battery',
  docs: [
    'https://github.com/Milesight-IoT/SensorDecoders/blob/main/am-series/am319-hcho/README.md',
    'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/am319-codec.yaml',
  ],
  decode: (fPort, bytes, ctx) => decodeChannels(ID, fPort, bytes, ctx, table),
};

/**
 * Milesight AM307: temperature, humidity, PIR, light level, CO2, TVOC, pressure; battery powered.
 * Format: Milesight-IoT/SensorDecoders am-series/am307/README.md.
 */
import type { LorawanDeviceModel } from '../device-model.ts';
import { decodeChannels } from './milesight-frame.ts';
import type { ChannelDecoder } from './milesight-frame.ts';
import { am30xChannels } from './am30x-format.ts';

const ID = 'milesight-am307';

// History record: timestamp(4) + temperature(2) + humidity(2) + pir(1) + light(1) + co2(2) + tvoc(2) + pressure(2).
const table = new Map<number, ChannelDecoder>(am30xChannels(ID, 16));

export const am307: LorawanDeviceModel = {
  id: ID,
  vendor: 'Milesight',
  model: 'AM307',
  transport: 'lorawan',
  kinds: ['climate', 'presence', 'health'],
  power: 'battery',
  docs: [
    'https://github.com/Milesight-IoT/SensorDecoders/blob/main/am-series/am307/README.md',
    'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/am307-codec.yaml',
  ],
  decode: (fPort, bytes, ctx) => decodeChannels(ID, fPort, bytes, ctx, table),
};

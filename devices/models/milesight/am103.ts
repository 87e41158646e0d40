/**
 * Milesight AM103: indoor temperature, humidity and CO2, battery powered.
 * Format: Milesight-IoT/SensorDecoders am-series/am103/README.md (Telemetry table).
 */
import type { LorawanDeviceModel } from '../device-model.ts';
import {
  ATTRIBUTE_CHANNELS,
  BATTERY_CHANNEL,
  channel,
  decodeChannels,
  readHumidity,
  readTemperature,
} from './milesight-frame.ts';
import type { ChannelDecoder } from './milesight-frame.ts';

const ID = 'milesight-am103';

const table = new Map<number, ChannelDecoder>([
  ...ATTRIBUTE_CHANNELS,
  BATTERY_CHANNEL,
  [channel(0x03, 0x67), (r, s) => s.setClimate('temperature', readTemperature(r))],
  [channel(0x04, 0x68), (r, s) => s.setClimate('humidity', readHumidity(r))],
  [channel(0x07, 0x7d), (r, s) => s.setClimate('co2', r.u16('co2'))],
  // History: timestamp(4) + temperature(2) + humidity(1) + co2(2), same scales as the live channels.
  [
    channel(0x20, 0xce),
    (r, s) => {
      const timestamp = r.u32('history timestamp');
      const temperature = readTemperature(r);
      const humidity = readHumidity(r);
      const co2 = r.u16('history co2');
      s.addHistory({ timestamp, climate: { temperature, humidity, co2 } });
    },
  ],
]);

export const am103: LorawanDeviceModel = {
  id: ID,
  vendor: 'Milesight',
  model: 'AM103',
  transport: 'lorawan',
  kinds: ['climate', 'health'],
  power: 'battery',
  docs: [
    'https://github.com/Milesight-IoT/SensorDecoders/blob/main/am-series/am103/README.md',
    'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/am103-codec.yaml',
  ],
  decode: (fPort, bytes, ctx) => decodeChannels(ID, fPort, bytes, ctx, table),
};

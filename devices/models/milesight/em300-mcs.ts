/**
 * Milesight EM300-MCS magnetic contact switch with temperature and humidity, battery powered.
 * Format: Milesight-IoT/SensorDecoders em-series/em300-mcs/README.md. The TTN repository has a codec
 * file for it but no examples, so the golden cases come from that README.
 */
import type { LorawanDeviceModel } from '../device-model.ts';
import {
  ATTRIBUTE_CHANNELS,
  BATTERY_CHANNEL,
  channel,
  decodeChannels,
  readEnum,
  readHumidity,
  readTemperature,
} from './milesight-frame.ts';
import type { ChannelDecoder } from './milesight-frame.ts';

const ID = 'milesight-em300-mcs';

// Magnet status: 0 = close, 1 = open (README "Magnet Status"), the contract's polarity.
const OPEN = 1;

const table = new Map<number, ChannelDecoder>([
  ...ATTRIBUTE_CHANNELS,
  BATTERY_CHANNEL,
  [channel(0x03, 0x67), (r, s) => s.setClimate('temperature', readTemperature(r))],
  [channel(0x04, 0x68), (r, s) => s.setClimate('humidity', readHumidity(r))],
  [channel(0x06, 0x00), (r, s) => s.setDoorOpen(readEnum(r, 'magnet status', [0, 1], ID) === OPEN)],
  // History: timestamp(4) + temperature(2) + humidity(1) + magnet status(1).
  [
    channel(0x20, 0xce),
    (r, s) => {
      const timestamp = r.u32('history timestamp');
      const temperature = readTemperature(r);
      const humidity = readHumidity(r);
      const door = readEnum(r, 'history magnet status', [0, 1], ID) === OPEN;
      s.addHistory({ timestamp, climate: { temperature, humidity }, door });
    },
  ],
]);

export const em300Mcs: LorawanDeviceModel = {
  id: ID,
  vendor: 'Milesight',
  model: 'EM300-MCS',
  transport: 'lorawan',
  kinds: ['door', 'climate', 'health'],
  power: 'battery',
  docs: ['https://github.com/Milesight-IoT/SensorDecoders/blob/main/em-series/em300-mcs/README.md'],
  decode: (fPort, bytes, ctx) => decodeChannels(ID, fPort, bytes, ctx, table),
};

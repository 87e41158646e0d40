/**
 * Milesight EM500-CO2: temperature, humidity, CO2 and barometric pressure, battery powered.
 * Format: Milesight-IoT/SensorDecoders em-series/em500-co2/README.md (Telemetry table); there is no
 * example in TheThingsNetwork/lorawan-devices, so the golden cases come from that README.
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

const ID = 'milesight-em500-co2';

const table = new Map<number, ChannelDecoder>([
  ...ATTRIBUTE_CHANNELS,
  BATTERY_CHANNEL,
  [channel(0x03, 0x67), (r, s) => s.setClimate('temperature', readTemperature(r))],
  [channel(0x04, 0x68), (r, s) => s.setClimate('humidity', readHumidity(r))],
  [channel(0x05, 0x7d), (r, s) => s.setClimate('co2', r.u16('co2'))],
  // Pressure is uint16 in 0.1 hPa (README example 06736827 -> 1008.8 hPa).
  [channel(0x06, 0x73), (r, s) => s.setClimate('pressure', r.u16('pressure') / 10)],
  // Temperature alarm: temperature(2) + temperature_change(2) + alarm type(1). The temperature is a
  // current measurement; the change and alarm type have no contract field.
  [
    channel(0x83, 0xd7),
    (r, s) => {
      s.setClimate('temperature', readTemperature(r));
      r.skip(3, 'temperature change and alarm type');
    },
  ],
  // History: timestamp(4) + co2(2) + pressure(2) + temperature(2) + humidity(1).
  [
    channel(0x20, 0xce),
    (r, s) => {
      const timestamp = r.u32('history timestamp');
      const co2 = r.u16('history co2');
      const pressure = r.u16('history pressure') / 10;
      const temperature = readTemperature(r);
      const humidity = readHumidity(r);
      s.addHistory({ timestamp, climate: { co2, pressure, temperature, humidity } });
    },
  ],
]);

export const em500Co2: LorawanDeviceModel = {
  id: ID,
  vendor: 'Milesight',
  model: 'EM500-CO2',
  transport: 'lorawan',
  kinds: ['climate', 'health'],
  power: 'battery',
  docs: ['https://github.com/Milesight-IoT/SensorDecoders/blob/main/em-series/em500-co2/README.md'],
  decode: (fPort, bytes, ctx) => decodeChannels(ID, fPort, bytes, ctx, table),
};

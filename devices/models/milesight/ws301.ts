/**
 * Milesight WS301 magnetic contact switch, battery powered.
 * Format: Milesight-IoT/SensorDecoders ws-series/ws301/README.md.
 */
import type { LorawanDeviceModel } from '../device-model.ts';
import { ATTRIBUTE_CHANNELS, BATTERY_CHANNEL, channel, decodeChannels, ignore, readEnum } from './milesight-frame.ts';
import type { ChannelDecoder } from './milesight-frame.ts';

const ID = 'milesight-ws301';

const table = new Map<number, ChannelDecoder>([
  ...ATTRIBUTE_CHANNELS,
  BATTERY_CHANNEL,
  // Magnet status: 0 = close, 1 = open (README "Magnet Status"; the TTN example 030001 decodes to
  // door: open). The contract's `open` has the same polarity, so 1 -> open: true.
  [channel(0x03, 0x00), (r, s) => s.setDoorOpen(readEnum(r, 'magnet status', [0, 1], ID) === 1)],
  // Tamper / install status (0 installed, 1 uninstalled): no contract field.
  [channel(0x04, 0x00), ignore(1)],
]);

export const ws301: LorawanDeviceModel = {
  id: ID,
  vendor: 'Milesight',
  model: 'WS301',
  transport: 'lorawan',
  kinds: ['door', 'health'],
  power: 'battery',
  docs: [
    'https://github.com/Milesight-IoT/SensorDecoders/blob/main/ws-series/ws301/README.md',
    'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/ws301-codec.yaml',
  ],
  decode: (fPort, bytes, ctx) => decodeChannels(ID, fPort, bytes, ctx, table),
};

/**
 * Channels shared by the Milesight AM307 and AM319 (Milesight-IoT/SensorDecoders
 * am-series/am307/README.md and am-series/am319-hcho/README.md, Telemetry tables).
 */
import {
  ATTRIBUTE_CHANNELS,
  BATTERY_CHANNEL,
  channel,
  ignore,
  readEnum,
  readHumidity,
  readTemperature,
} from './milesight-frame.ts';
import type { ChannelDecoder } from './milesight-frame.ts';

export function am30xChannels(modelId: string, historyLength: number): Array<readonly [number, ChannelDecoder]> {
  return [
    ...ATTRIBUTE_CHANNELS,
    BATTERY_CHANNEL,
    [channel(0x03, 0x67), (r, s) => s.setClimate('temperature', readTemperature(r))],
    [channel(0x04, 0x68), (r, s) => s.setClimate('humidity', readHumidity(r))],
    // PIR: 0 = idle, 1 = trigger (motion seen in the reporting window). Motion is the device's
    // occupancy signal, so it becomes a presence reading without a head count.
    [channel(0x05, 0x00), (r, s) => s.setPresence(readEnum(r, 'pir', [0, 1], modelId) === 1)],
    // Light is a level 0..5, not lux; it has no contract field and is skipped.
    [channel(0x06, 0xcb), ignore(1)],
    [channel(0x07, 0x7d), (r, s) => s.setClimate('co2', r.u16('co2'))],
    // TVOC trap: 0x08 0x7D is an IAQ index (uint16/100) per the vendor README, although the TTN
    // examples label the raw number "tvoc"; 0x08 0xE6 is µg/m³. Neither is ppb and the vendor
    // documents no molar mass to convert µg/m³ to ppb, so both are skipped rather than mislabelled.
    [channel(0x08, 0x7d), ignore(2)],
    [channel(0x08, 0xe6), ignore(2)],
    // Pressure, uint16 in 0.1 hPa.
    [channel(0x09, 0x73), (r, s) => s.setClimate('pressure', r.u16('pressure') / 10)],
    [channel(0x0e, 0x01), ignore(1)], // buzzer status
    // History records store humidity in 2 bytes with an undocumented scale, so they are skipped
    // (by their documented length) rather than decoded with a guessed scale.
    [channel(0x20, 0xce), ignore(historyLength)],
    [channel(0x21, 0xce), ignore(historyLength)],
  ];
}

/**
 * Milesight VS133 / VS135 ToF people counters: one shared format (Milesight-IoT/SensorDecoders
 * VS_Series/VS13x/README.md and vs-series/vs135/README.md). Up to four counting lines, each with
 * running totals (uint32, channels 0x03/0x04, 0x06/0x07, 0x09/0x0A, 0x0C/0x0D) and period counts
 * (uint16 in + uint16 out, channels 0x05, 0x08, 0x0B, 0x0E).
 *
 * Running totals are cumulative since the last reset and wrap at 2^32 (or are cleared by the
 * "clear total count" command / the cumulative reset schedule in the VS133 user guide v1.2); the
 * decoder reports them as sent, and whoever differences totals must treat a decrease as a wrap
 * or reset, not as negative traffic. Period counts cover one reporting interval, which the uplink
 * does not carry: see reportIntervalSeconds.
 */
import type { LorawanDeviceModel } from '../device-model.ts';
import { ATTRIBUTE_CHANNELS, channel, decodeChannels, ignore } from './milesight-frame.ts';
import type { ChannelDecoder } from './milesight-frame.ts';

export interface Vs13xOptions {
  /**
   * The device's configured reporting interval, the length of one period count. The uplink does
   * not carry it. The default, 3600 s, is the report_interval value (60 min) of Milesight's own
   * people-counter codec description (vs-series/vs350/vs350-codec.json); the VS13x sources we have
   * give no default, so an installation that sets another interval must pass it here.
   */
  reportIntervalSeconds?: number;
}

export const DEFAULT_COUNTER_REPORT_INTERVAL_SECONDS = 3600;

const LINE_COUNT = 4;

function vs13xTable(periodSeconds: number): Map<number, ChannelDecoder> {
  const table = new Map<number, ChannelDecoder>(ATTRIBUTE_CHANNELS);
  for (let i = 0; i < LINE_COUNT; i++) {
    const line = `line-${i + 1}`;
    const first = 0x03 + 3 * i;
    table.set(channel(first, 0xd2), (r, s) => s.setCounter(line, { totalIn: r.u32(`${line} total in`) }));
    table.set(channel(first + 1, 0xd2), (r, s) => s.setCounter(line, { totalOut: r.u32(`${line} total out`) }));
    table.set(channel(first + 2, 0xcc), (r, s) => {
      const periodIn = r.u16(`${line} period in`);
      const periodOut = r.u16(`${line} period out`);
      s.setCounter(line, { periodIn, periodOut, periodSeconds });
    });
    // "Child" counts (0x11..0x1C, same layout) are a subset counted by the group-counting feature;
    // the contract has no field for them and adding them to the line would double count.
    const child = 0x11 + 3 * i;
    table.set(channel(child, 0xd2), ignore(4));
    table.set(channel(child + 1, 0xd2), ignore(4));
    table.set(channel(child + 2, 0xcc), ignore(4));
  }
  // Region counts (4 x uint8) and dwell times (region + avg + max): per-region figures the
  // contract does not model (presence readings carry no zone).
  table.set(channel(0x0f, 0xe3), ignore(4));
  table.set(channel(0x1d, 0xe3), ignore(4));
  table.set(channel(0x10, 0xe4), ignore(5));
  table.set(channel(0x1e, 0xe4), ignore(5));
  // Occlusion alarm: 3 bytes.
  table.set(channel(0x50, 0xfc), ignore(3));
  // Older VS13x firmware attribute layout (VS_Series/VS13x decoder): firmware 4 bytes.
  table.set(channel(0xff, 0x1f), ignore(4));
  // Replies to configuration downlinks (report interval 2 bytes, the rest 1 byte).
  table.set(channel(0xff, 0x03), ignore(2));
  table.set(channel(0xfe, 0x03), ignore(2));
  for (const type of [0x04, 0x10, 0x40, 0x42, 0x43, 0x44, 0x51]) {
    table.set(channel(0xfe, type), ignore(1));
    if (!table.has(channel(0xff, type))) table.set(channel(0xff, type), ignore(1));
  }
  return table;
}

export function createVs13xModel(model: 'VS133' | 'VS135', docs: readonly string[], options: Vs13xOptions = {}): LorawanDeviceModel {
  const periodSeconds = options.reportIntervalSeconds ?? DEFAULT_COUNTER_REPORT_INTERVAL_SECONDS;
  const id = `milesight-${model.toLowerCase()}`;
  const table = vs13xTable(periodSeconds);
  return {
    id,
    vendor: 'Milesight',
    model,
    transport: 'lorawan',
    kinds: ['counter'],
    // PoE / DC powered; no battery channel.
    power: 'mains',
    docs,
    decode: (fPort, bytes, ctx) => decodeChannels(id, fPort, bytes, ctx, table),
  };
}

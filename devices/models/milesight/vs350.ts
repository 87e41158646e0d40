/**
 * Milesight VS350 passage people counter (one line) with temperature, battery powered.
 * Format: Milesight-IoT/SensorDecoders VS_Series/VS350/README.md and the current decoder's channel
 * list (vs-series/vs350). Totals are uint16 and therefore wrap at 65 536; they are reported as sent
 * (see vs13x-format.ts on differencing totals).
 */
import type { LorawanDeviceModel } from '../device-model.ts';
import { DecodeError } from '../device-model.ts';
import {
  ATTRIBUTE_CHANNELS,
  BATTERY_CHANNEL,
  channel,
  decodeChannels,
  ignore,
  readTemperature,
} from './milesight-frame.ts';
import type { ChannelDecoder, FieldReader, ReadingSink } from './milesight-frame.ts';
import { DEFAULT_COUNTER_REPORT_INTERVAL_SECONDS } from './vs13x-format.ts';

const LINE = 'main';

export interface Vs350Options {
  /** Reporting interval (the period of one period count); default 60 min from vs350-codec.json. */
  reportIntervalSeconds?: number;
}

function totals(r: FieldReader, s: ReadingSink): void {
  const totalIn = r.u16('total in');
  const totalOut = r.u16('total out');
  s.setCounter(LINE, { totalIn, totalOut });
}

function period(r: FieldReader, s: ReadingSink, periodSeconds: number): void {
  const periodIn = r.u16('period in');
  const periodOut = r.u16('period out');
  s.setCounter(LINE, { periodIn, periodOut, periodSeconds });
}

function vs350Table(id: string, periodSeconds: number): Map<number, ChannelDecoder> {
  return new Map<number, ChannelDecoder>([
    ...ATTRIBUTE_CHANNELS,
    BATTERY_CHANNEL,
    [channel(0x03, 0x67), (r, s) => s.setClimate('temperature', readTemperature(r))],
    [channel(0x04, 0xcc), totals],
    [channel(0x05, 0xcc), (r, s) => period(r, s, periodSeconds)],
    // Device timestamp of the uplink (uint32 s); the envelope's time is kept.
    [channel(0x0a, 0xef), ignore(4)],
    // Alarm variants carry the same values followed by a one-byte alarm type.
    [
      channel(0x83, 0x67),
      (r, s) => {
        s.setClimate('temperature', readTemperature(r));
        r.skip(1, 'temperature alarm type');
      },
    ],
    [
      channel(0x84, 0xcc),
      (r, s) => {
        totals(r, s);
        r.skip(1, 'total count alarm type');
      },
    ],
    [
      channel(0x85, 0xcc),
      (r, s) => {
        period(r, s, periodSeconds);
        r.skip(1, 'period count alarm type');
      },
    ],
    // History: timestamp(4) + data type(1) + period in/out(2+2) [+ total in/out(2+2) when type is 1].
    [
      channel(0x20, 0xce),
      (r, s) => {
        const timestamp = r.u32('history timestamp');
        const type = r.u8('history data type');
        if (type !== 0 && type !== 1) {
          throw new DecodeError('E_DECODE_BAD_VALUE', `${id}: history data type ${type}, documented values are 0, 1`);
        }
        const periodIn = r.u16('history period in');
        const periodOut = r.u16('history period out');
        const counter =
          type === 1
            ? { line: LINE, periodIn, periodOut, periodSeconds, totalIn: r.u16('history total in'), totalOut: r.u16('history total out') }
            : { line: LINE, periodIn, periodOut, periodSeconds };
        s.addHistory({ timestamp, counter });
      },
    ],
  ]);
}

export function createVs350(options: Vs350Options = {}): LorawanDeviceModel {
  const id = 'milesight-vs350';
  const table = vs350Table(id, options.reportIntervalSeconds ?? DEFAULT_COUNTER_REPORT_INTERVAL_SECONDS);
  return {
    id,
    vendor: 'Milesight',
    model: 'VS350',
    transport: 'lorawan',
    kinds: ['counter', 'climate', 'health'],
    power: 'battery',
    docs: [
      'https://github.com/Milesight-IoT/SensorDecoders/blob/main/VS_Series/VS350/README.md',
      'https://github.com/Milesight-IoT/SensorDecoders/blob/main/vs-series/vs350/vs350-codec.json',
      'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/vs350-codec.yaml',
    ],
    decode: (fPort, bytes, ctx) => decodeChannels(id, fPort, bytes, ctx, table),
  };
}

export const vs350: LorawanDeviceModel = createVs350();

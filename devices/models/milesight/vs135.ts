/** Milesight VS135 ultra ToF people counter: the VS133 format (shared VS13x decoder). */
import type { LorawanDeviceModel } from '../device-model.ts';
import { createVs13xModel } from './vs13x-format.ts';
import type { Vs13xOptions } from './vs13x-format.ts';

export const VS135_DOCS = [
  'https://github.com/Milesight-IoT/SensorDecoders/blob/main/vs-series/vs135/README.md',
  'https://github.com/Milesight-IoT/SensorDecoders/blob/main/VS_Series/VS13x/README.md',
  'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/vs135-codec.yaml',
] as const;

/** A VS135 whose reporting interval differs from the default. */
export function createVs135(options: Vs13xOptions): LorawanDeviceModel {
  return createVs13xModel('VS135', VS135_DOCS, options);
}

export const vs135: LorawanDeviceModel = createVs13xModel('VS135', VS135_DOCS);

/** Milesight VS133 AI ToF people counter (up to four counting lines). */
import type { LorawanDeviceModel } from '../device-model.ts';
import { createVs13xModel } from './vs13x-format.ts';
import type { Vs13xOptions } from './vs13x-format.ts';

export const VS133_DOCS = [
  'https://github.com/Milesight-IoT/SensorDecoders/blob/main/VS_Series/VS133/README.md',
  'https://github.com/Milesight-IoT/SensorDecoders/blob/main/VS_Series/VS13x/README.md',
  'https://github.com/TheThingsNetwork/lorawan-devices/blob/master/vendor/milesight-iot/vs133-codec.yaml',
] as const;

/** A VS133 whose reporting interval differs from the default. */
export function createVs133(options: Vs13xOptions): LorawanDeviceModel {
  return createVs13xModel('VS133', VS133_DOCS, options);
}

export const vs133: LorawanDeviceModel = createVs13xModel('VS133', VS133_DOCS);

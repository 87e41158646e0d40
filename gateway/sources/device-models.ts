/**
 * Every LoRaWAN device model the gateway can decode, by id. The vendor folders each export their
 * `models`; this is the gateway's lookup over them (the config maps DevEUI → model id).
 */
import type { LorawanDeviceModel } from '../../devices/models/device-model.ts';
import { models as browan } from '../../devices/models/browan/index.ts';
import { models as dragino } from '../../devices/models/dragino/index.ts';
import { models as elsys } from '../../devices/models/elsys/index.ts';
import { models as imbuildings } from '../../devices/models/imbuildings/index.ts';
import { models as milesight } from '../../devices/models/milesight/index.ts';
import { models as parametric } from '../../devices/models/parametric/index.ts';

export const DEVICE_MODELS: ReadonlyMap<string, LorawanDeviceModel> = new Map(
  [...browan, ...dragino, ...elsys, ...imbuildings, ...milesight, ...parametric].map((m) => [m.id, m]),
);

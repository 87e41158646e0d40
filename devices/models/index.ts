/**
 * Every supported LoRaWAN device model, by id. Device support is data: adding a model is a file
 * in its vendor folder plus its golden payloads, and one entry in that vendor's index.
 */
import type { LorawanDeviceModel } from './device-model.ts';
import { models as browan } from './browan/index.ts';
import { models as dragino } from './dragino/index.ts';
import { models as elsys } from './elsys/index.ts';
import { models as imbuildings } from './imbuildings/index.ts';
import { models as milesight } from './milesight/index.ts';
import { models as parametric } from './parametric/index.ts';

export const lorawanModels: readonly LorawanDeviceModel[] = [...milesight, ...elsys, ...dragino, ...browan, ...parametric, ...imbuildings];

const byId = new Map(lorawanModels.map((m) => [m.id, m]));
if (byId.size !== lorawanModels.length) throw new Error('duplicate device model id in devices/models');

/** The model with this id, or undefined. */
export function findModel(id: string): LorawanDeviceModel | undefined {
  return byId.get(id);
}

export function modelIds(): string[] {
  return [...byId.keys()].sort();
}

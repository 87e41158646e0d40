import type { LorawanDeviceModel } from '../device-model.ts';
import { parametricPcr2 } from './pcr2.ts';

export const models: LorawanDeviceModel[] = [parametricPcr2];

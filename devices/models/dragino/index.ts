import type { LorawanDeviceModel } from '../device-model.ts';
import { draginoLds02 } from './lds02.ts';

export const models: LorawanDeviceModel[] = [draginoLds02];

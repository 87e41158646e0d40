import type { LorawanDeviceModel } from '../device-model.ts';
import { imbuildingsPeopleCounter } from './people-counter.ts';

export const models: LorawanDeviceModel[] = [imbuildingsPeopleCounter];

import type { LorawanDeviceModel } from '../device-model.ts';
import { browanTbdw100 } from './tbdw100.ts';
import { browanTbhv110 } from './tbhv110.ts';
import { browanTbms100 } from './tbms100.ts';

export const models: LorawanDeviceModel[] = [browanTbdw100, browanTbms100, browanTbhv110];

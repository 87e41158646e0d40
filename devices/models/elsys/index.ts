import type { LorawanDeviceModel } from '../device-model.ts';
import { elsysEmsDesk } from './ems-desk.ts';
import { elsysEmsDoor } from './ems-door.ts';
import { elsysErsCo2 } from './ers-co2.ts';
import { elsysErsEye } from './ers-eye.ts';
import { elsysErs } from './ers.ts';

export const models: LorawanDeviceModel[] = [elsysErs, elsysErsCo2, elsysErsEye, elsysEmsDoor, elsysEmsDesk];

/** Milesight device models, for the lead's registry in devices/models/index.ts. */
import type { LorawanDeviceModel } from '../device-model.ts';
import { am103 } from './am103.ts';
import { am307 } from './am307.ts';
import { am319 } from './am319.ts';
import { em300Mcs } from './em300-mcs.ts';
import { em500Co2 } from './em500-co2.ts';
import { vs121 } from './vs121.ts';
import { vs133 } from './vs133.ts';
import { vs135 } from './vs135.ts';
import { vs350 } from './vs350.ts';
import { ws301 } from './ws301.ts';

export const models: LorawanDeviceModel[] = [vs133, vs135, vs121, vs350, ws301, em300Mcs, am103, am307, am319, em500Co2];

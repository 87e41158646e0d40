/** Elsys ERS: temperature, humidity, light and PIR motion (indoor room sensor). */
import { defineElsysModel, presenceFromMotion } from './elsys-model.ts';

export const elsysErs = defineElsysModel({
  id: 'elsys-ers',
  model: 'ERS',
  kinds: ['climate', 'presence'],
  docs: ['https://www.elsys.se/en/ers/', 'TheThingsNetwork/lorawan-devices vendor/elsys/ers-codec.yaml'],
  climate: true,
  readings: presenceFromMotion,
});

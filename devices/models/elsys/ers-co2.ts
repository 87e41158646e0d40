/** Elsys ERS CO2: the ERS plus an NDIR CO2 sensor (type 0x06, ppm). */
import { defineElsysModel, presenceFromMotion } from './elsys-model.ts';

export const elsysErsCo2 = defineElsysModel({
  id: 'elsys-ers-co2',
  model: 'ERS CO2',
  kinds: ['climate', 'presence'],
  docs: ['https://www.elsys.se/en/ers-co2/', 'TheThingsNetwork/lorawan-devices vendor/elsys/ers-co2-codec.yaml'],
  climate: true,
  readings: presenceFromMotion,
});

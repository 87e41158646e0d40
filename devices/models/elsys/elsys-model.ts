/**
 * Builds an Elsys device model from a declarative description: which readings a model emits and
 * how its occupancy byte reads. Every Elsys model shares the TLV payload (elsys-tlv.ts).
 */
import { climateReadingSchema } from '../../contract/reading.schema.ts';
import type { ReadingInput, ReadingKind } from '../../contract/reading.schema.ts';
import { DecodeError } from '../device-model.ts';
import type { DecodeContext, LorawanDeviceModel } from '../device-model.ts';
import { isApplicationPort, parseElsysTlv } from './elsys-tlv.ts';
import type { ElsysValues } from './elsys-tlv.ts';

export const ELSYS_PAYLOAD_DOC = 'https://www.elsys.se/en/elsys-payload/';

type ClimateField = 'temperature' | 'humidity' | 'co2' | 'tvoc' | 'pressure' | 'illuminance';

/**
 * A value outside the contract's physical limits is a sensor fault, not a measurement: drop the
 * field rather than lose the whole reading at the ingest (the limits live once, in the contract).
 */
function plausible(field: ClimateField, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  return climateReadingSchema.shape[field].safeParse(value).success ? value : undefined;
}

export function elsysClimate(v: ElsysValues, ctx: DecodeContext): ReadingInput[] {
  const fields = {
    temperature: plausible('temperature', v.temperature),
    humidity: plausible('humidity', v.humidity),
    co2: plausible('co2', v.co2),
    tvoc: plausible('tvoc', v.tvoc),
    pressure: plausible('pressure', v.pressure),
    illuminance: plausible('illuminance', v.light),
  };
  const present = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  if (Object.keys(present).length === 0) return [];
  return [{ kind: 'climate', device: ctx.device, time: ctx.time, ...present }];
}

export interface ElsysModelSpec {
  id: string;
  model: string;
  kinds: readonly ReadingKind[];
  docs: readonly string[];
  /** Model-specific readings (presence, door) from the parsed values. */
  readings(values: ElsysValues, ctx: DecodeContext): ReadingInput[];
  /** Whether climate values in the payload become a climate reading. */
  climate: boolean;
}

export function defineElsysModel(spec: ElsysModelSpec): LorawanDeviceModel {
  return {
    id: spec.id,
    vendor: 'Elsys',
    model: spec.model,
    transport: 'lorawan',
    kinds: spec.kinds,
    power: 'battery',
    docs: [ELSYS_PAYLOAD_DOC, ...spec.docs],
    decode(fPort, bytes, ctx) {
      // Elsys sensors send on a configurable port (default 5; TTN's examples use 1), so any
      // application port is accepted.
      if (!isApplicationPort(fPort)) throw new DecodeError('E_DECODE_BAD_PORT', `fPort ${fPort} is not an application port`);
      const values = parseElsysTlv(bytes);
      // Battery arrives as VDD in mV; Elsys publishes no voltage-to-percent curve and the
      // contract's battery is a percentage, so no health reading is derived from it.
      return [...(spec.climate ? elsysClimate(values, ctx) : []), ...spec.readings(values, ctx)];
    },
  };
}

/**
 * PIR motion count since the previous uplink (type 0x05): any motion in the interval means the
 * room was in use; zero means nobody moved in front of the sensor. It is an event count, not a
 * head count, so it never goes into `count`.
 */
export function presenceFromMotion(v: ElsysValues, ctx: DecodeContext): ReadingInput[] {
  if (v.motion === undefined) return [];
  return [{ kind: 'presence', device: ctx.device, time: ctx.time, occupied: v.motion > 0 }];
}

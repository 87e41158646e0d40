/**
 * Registry and liveness routes of the HTTP API (paths and roles agreed for issue 4). Reads come from
 * the registry and the liveness tracker; every change goes through the control plane, so the gateways'
 * retained config and the ingest's directory follow the registry, and is logged with the principal's
 * name (never the token).
 */
import { z } from 'zod';
import { DEVICE_STATUSES, placeSchema } from '../../devices/contract/device-messages.schema.ts';
import { deviceIdSchema, slugSchema } from '../../devices/contract/reading.schema.ts';
import { ApiError, defineRoute, type AnyRoute } from '../api/route.ts';
import {
  GATEWAY_STATUSES,
  assignmentRecordSchema,
  deviceRecordSchema,
  gatewayRecordSchema,
  instantSchema,
  type AssignmentRecord,
  type DeviceRecord,
  type Registry,
} from '../registry/registry.ts';
import { LIVENESS_STATES } from '../liveness/liveness.ts';
import type { ControlPlane } from './control-plane.ts';

export interface RegistryRoutesDeps {
  registry: Registry;
  control: ControlPlane;
}

const livenessStateSchema = z.enum(LIVENESS_STATES).meta({
  id: 'LivenessState',
  description: 'never_seen: registered, nothing received yet. stale: reports are late; the last value is old, not zero.',
});
const livenessSchema = z.object({ state: livenessStateSchema, lastSeenAt: instantSchema.nullable() }).meta({ id: 'Liveness' });

const countsOf = <T extends readonly string[]>(keys: T) => z.object(Object.fromEntries(keys.map((k) => [k, z.number().int().nonnegative()])) as Record<T[number], z.ZodNumber>);

const torgSummarySchema = z
  .object({
    id: slugSchema,
    name: z.string(),
    inModel: z.boolean(),
    gateways: countsOf(GATEWAY_STATUSES),
    devices: countsOf(DEVICE_STATUSES),
  })
  .meta({ id: 'TorgSummary' });

const gatewayViewSchema = gatewayRecordSchema.extend({ liveness: livenessSchema.nullable() }).meta({ id: 'Gateway' });
const deviceViewSchema = deviceRecordSchema
  .extend({
    /** The open assignment; null while pending or after decommissioning. */
    assignment: assignmentRecordSchema.nullable(),
    /** Null for a decommissioned device (not tracked). */
    liveness: livenessSchema.nullable(),
  })
  .meta({ id: 'Device' });
const deviceDetailSchema = deviceViewSchema.extend({ history: z.array(assignmentRecordSchema) }).meta({ id: 'DeviceDetail' });

const deviceParams = z.object({ id: deviceIdSchema }).strict();
const torgQuery = z.object({ torg: slugSchema.optional() }).strict();

const assignBodySchema = z
  .object({
    torg: slugSchema,
    place: placeSchema,
    at: instantSchema.optional(),
    /** Required when `torg` is not the device's torg: moving a device between torg is explicit (E_REGISTRY_TORG_MISMATCH otherwise). */
    moveTorg: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'AssignRequest' });
const decommissionBodySchema = z.object({ at: instantSchema.optional() }).strict().default({}).meta({ id: 'DecommissionRequest' });
const deviceConfigBodySchema = z
  .object({ enabled: z.boolean().optional(), expectedIntervalS: z.number().int().positive().max(7 * 86_400).nullable().optional() })
  .strict()
  .refine((b) => b.enabled !== undefined || b.expectedIntervalS !== undefined, { message: 'give enabled and/or expectedIntervalS' })
  .meta({ id: 'DeviceConfigRequest' });

export function registryRoutes(deps: RegistryRoutesDeps): AnyRoute[] {
  const { registry, control } = deps;

  function viewOf(device: DeviceRecord, assignment: AssignmentRecord | null): z.input<typeof deviceViewSchema> {
    const l = control.deviceLiveness(device.id);
    return { ...device, assignment, liveness: l === null ? null : { state: l.state, lastSeenAt: l.lastSeenAt } };
  }
  async function deviceView(id: string): Promise<z.input<typeof deviceDetailSchema>> {
    const device = await registry.getDevice(id);
    if (device === null) throw ApiError.of('E_API_NOT_FOUND', { device: id });
    const history = await registry.assignmentHistory(id);
    return { ...viewOf(device, history.find((a) => a.validTo === null) ?? null), history };
  }

  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/torg',
      access: 'viewer',
      tag: 'registry',
      summary: 'Torg with their names and the number of gateways and devices by status',
      response: z.object({ torg: z.array(torgSummarySchema) }),
      handler: async () => {
        const [torg, gateways, devices] = await Promise.all([registry.listTorg(), registry.listGateways(), registry.listDevices()]);
        return {
          torg: torg.map((t) => ({
            ...t,
            gateways: Object.fromEntries(GATEWAY_STATUSES.map((s) => [s, gateways.filter((g) => g.torg === t.id && g.status === s).length])) as Record<(typeof GATEWAY_STATUSES)[number], number>,
            devices: Object.fromEntries(DEVICE_STATUSES.map((s) => [s, devices.filter((d) => d.torg === t.id && d.status === s).length])) as Record<(typeof DEVICE_STATUSES)[number], number>,
          })),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/gateways',
      access: 'viewer',
      tag: 'registry',
      summary: 'Gateways with status, last seen and liveness',
      query: torgQuery,
      response: z.object({ gateways: z.array(gatewayViewSchema) }),
      handler: async ({ query }) => ({
        gateways: (await registry.listGateways(query.torg)).map((g) => {
          const l = control.gatewayLiveness(g.torg, g.id);
          return { ...g, liveness: l === null ? null : { state: l.state, lastSeenAt: l.lastSeenAt } };
        }),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/devices',
      access: 'viewer',
      tag: 'registry',
      summary: 'Devices with their current assignment and liveness (status=pending: devices waiting for an admin)',
      query: z.object({ torg: slugSchema.optional(), status: z.enum(DEVICE_STATUSES).optional() }).strict(),
      response: z.object({ devices: z.array(deviceViewSchema) }),
      handler: async ({ query }) => {
        // Two reads for the whole list, not two per device.
        const [devices, assignments] = await Promise.all([
          registry.listDevices({ ...(query.torg ? { torg: query.torg } : {}), ...(query.status ? { status: query.status } : {}) }),
          registry.listAssignments(),
        ]);
        const open = new Map<string, AssignmentRecord>();
        for (const a of assignments) if (a.validTo === null) open.set(a.device, a);
        return { devices: devices.map((d) => viewOf(d, open.get(d.id) ?? null)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/devices/{id}',
      access: 'viewer',
      tag: 'registry',
      summary: 'One device with its assignment history',
      params: deviceParams,
      response: deviceDetailSchema,
      handler: ({ params }) => deviceView(params.id),
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/devices/{id}/assign',
      access: 'admin',
      tag: 'registry',
      summary:
        'Place a device in a zone or on an entrance line from `at` (default now); the previous placement keeps its history. moveTorg: true moves it to another torg',
      params: deviceParams,
      body: assignBodySchema,
      response: assignmentRecordSchema,
      handler: ({ params, body, principal }) =>
        control.assign(params.id, body.torg, body.place, body.at, { name: principal!.name }, body.moveTorg === true ? { moveTorg: true } : {}),
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/devices/{id}/decommission',
      access: 'admin',
      tag: 'registry',
      summary: 'Take a device out of service from `at` (default now); its later readings are dead-lettered',
      params: deviceParams,
      body: decommissionBodySchema,
      response: deviceRecordSchema,
      handler: ({ params, body, principal }) => control.decommission(params.id, body.at, { name: principal!.name }),
    }),
    defineRoute({
      method: 'patch',
      path: '/api/v1/devices/{id}/config',
      access: 'admin',
      tag: 'registry',
      summary: 'Enable/disable a device at its gateway, or override its expected reporting interval (null: back to what the device reports)',
      params: deviceParams,
      body: deviceConfigBodySchema,
      response: deviceRecordSchema,
      handler: ({ params, body, principal }) =>
        control.setDeviceConfig(
          params.id,
          { ...(body.enabled !== undefined ? { enabled: body.enabled } : {}), ...(body.expectedIntervalS !== undefined ? { expectedIntervalS: body.expectedIntervalS } : {}) },
          { name: principal!.name },
        ),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/liveness',
      access: 'viewer',
      tag: 'registry',
      summary: 'Devices and gateways with their liveness state (online, stale, offline, never_seen) and last seen',
      query: torgQuery,
      response: z
        .object({
          devices: z.array(z.object({ device: deviceIdSchema, torg: slugSchema, state: livenessStateSchema, lastSeenAt: instantSchema.nullable() })),
          gateways: z.array(z.object({ torg: slugSchema, gateway: slugSchema, state: livenessStateSchema, lastSeenAt: instantSchema.nullable() })),
        })
        .meta({ id: 'LivenessSnapshot' }),
      handler: ({ query }) => {
        const snap = control.livenessSnapshot();
        const keep = (t: string): boolean => query.torg === undefined || t === query.torg;
        return { devices: snap.devices.filter((d) => keep(d.torg)), gateways: snap.gateways.filter((g) => keep(g.torg)) };
      },
    }),
  ];
}

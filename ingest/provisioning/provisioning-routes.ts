/**
 * HTTP routes for provisioning keys and gateway broker access (issue 4; paths agreed in the API
 * route list). Admin only: a provisioning key lets anyone holding it bring a gateway into a torg.
 * A key's plaintext appears only in the response that created it.
 */
import { z } from 'zod';
import { PROVISION_REFUSALS } from '../../devices/contract/provisioning.schema.ts';
import { slugSchema } from '../../devices/contract/reading.schema.ts';
import { ApiError, defineRoute, type AnyRoute } from '../api/route.ts';
import { gatewayRecordSchema, type KnownPlaces, type Registry } from '../registry/registry.ts';
import type { BrokerAuthSync, BrokerCredentialStore } from './broker-credentials.ts';
import { provisioningKeyRecordSchema, type ProvisioningKeyStore } from './key-store.ts';

export interface ProvisioningRoutesDeps {
  keys: ProvisioningKeyStore;
  credentials: BrokerCredentialStore;
  authSync: Pick<BrokerAuthSync, 'sync'>;
  registry: Registry;
  knownPlaces: KnownPlaces;
}

const torgBodySchema = z.object({ torg: slugSchema }).strict().meta({ id: 'ProvisioningKeyTorg' });
const createdKeySchema = z
  .object({ key: z.string().describe('the plaintext key, shown this once'), record: provisioningKeyRecordSchema })
  .meta({ id: 'ProvisioningKeyCreated' });
const rotatedKeySchema = z
  .object({ key: z.string(), record: provisioningKeyRecordSchema, disabled: z.array(z.string()) })
  .meta({ id: 'ProvisioningKeyRotated' });
const gatewayAccessSchema = z
  .object({
    gateway: gatewayRecordSchema,
    /** `none`: the gateway never provisioned, so it has no broker user. */
    brokerAccess: z.enum(['active', 'revoked', 'none']),
  })
  .meta({ id: 'GatewayAccess' });
const gatewayParamsSchema = z.object({ torg: slugSchema, id: slugSchema });

function unknownTorg(torg: string): ApiError {
  const r = PROVISION_REFUSALS.E_PROVISION_TORG_UNKNOWN;
  return new ApiError(404, 'E_PROVISION_TORG_UNKNOWN', { en: r.en, nb: r.nb }, r.retriable, { torg });
}

export function provisioningRoutes(deps: ProvisioningRoutesDeps): AnyRoute[] {
  const requireTorg = (torg: string) => {
    if (!deps.knownPlaces.has(torg)) throw unknownTorg(torg);
  };

  const setGatewayAccess = async (torg: string, id: string, enabled: boolean) => {
    // Registry first: it refuses an unknown gateway (404) before broker access is touched.
    const gateway = await deps.registry.setGatewayStatus(torg, id, enabled ? 'active' : 'disabled');
    const hasUser = await deps.credentials.setGatewayEnabled(torg, id, enabled);
    if (hasUser) await deps.authSync.sync();
    return { gateway, brokerAccess: hasUser ? (enabled ? ('active' as const) : ('revoked' as const)) : ('none' as const) };
  };

  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/provisioning-keys',
      access: 'admin',
      tag: 'provisioning',
      summary: 'Provisioning keys, optionally of one torg (never their secrets)',
      query: z.object({ torg: slugSchema.optional() }),
      response: z.object({ keys: z.array(provisioningKeyRecordSchema) }),
      handler: async ({ query }) => ({ keys: await deps.keys.list(query.torg) }),
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/provisioning-keys',
      access: 'admin',
      tag: 'provisioning',
      summary: "Create a provisioning key for a torg; the plaintext is in this response only. The torg's other keys stay active",
      status: 201,
      body: torgBodySchema,
      response: createdKeySchema,
      handler: async ({ body }) => {
        requireTorg(body.torg);
        return deps.keys.create(body.torg);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/provisioning-keys/{id}/disable',
      access: 'admin',
      tag: 'provisioning',
      summary: 'Disable a provisioning key (idempotent); gateways presenting it are refused with E_PROVISION_KEY_DISABLED',
      params: z.object({ id: z.string().regex(/^[a-z2-7]{12}$/) }),
      response: provisioningKeyRecordSchema,
      handler: async ({ params }) => {
        const record = await deps.keys.disable(params.id);
        if (!record) throw ApiError.of('E_API_NOT_FOUND', { provisioningKey: params.id });
        return record;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/provisioning-keys/rotate',
      access: 'admin',
      tag: 'provisioning',
      summary: "Rotate a torg's provisioning key: a new key (plaintext in this response only), the torg's other active keys disabled",
      status: 201,
      body: torgBodySchema,
      response: rotatedKeySchema,
      handler: async ({ body }) => {
        requireTorg(body.torg);
        return deps.keys.rotate(body.torg);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/gateways/{torg}/{id}/disable',
      access: 'admin',
      tag: 'provisioning',
      summary: 'Disable a gateway: its broker password is revoked (the broker disconnects it) and it cannot provision again until enabled',
      params: gatewayParamsSchema,
      response: gatewayAccessSchema,
      handler: ({ params }) => setGatewayAccess(params.torg, params.id, false),
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/gateways/{torg}/{id}/enable',
      access: 'admin',
      tag: 'provisioning',
      summary: 'Enable a disabled gateway: its last issued broker password works again',
      params: gatewayParamsSchema,
      response: gatewayAccessSchema,
      handler: ({ params }) => setGatewayAccess(params.torg, params.id, true),
    }),
  ];
}

/**
 * Gateway provisioning over MQTT (issue 4 "Auto-provisioning"): request/response with correlation.
 *
 * A new gateway knows only its torg, its id, the broker and its torg's provisioning key. It connects
 * as the shared bootstrap user (whose ACL allows nothing but its own request/response topics, keyed
 * by client id) and publishes a request on `itorg/v1/_sys/provision/request/{clientId}` with the
 * MQTT 5 request/response properties: Response Topic `itorg/v1/_sys/provision/response/{clientId}`
 * and Correlation Data [MQTT-4.10]. The platform answers on the response topic with the same
 * Correlation Data: its own broker credentials and config, or a refusal with a stable code.
 *
 * The key proves the gateway belongs to the torg; it is checked by the platform (not the broker) so
 * that a wrong or disabled key gets a clear refusal instead of a bare CONNACK error.
 */
import { z } from 'zod';
import { slugSchema } from './reading.schema.ts';

export const PROVISIONING_VERSION = 1;

/** Provisioning keys: `itpk_<torg>_<secret>`; the torg in the key lets an admin see which one leaked. */
export const provisioningKeySchema = z.string().min(20).max(200).regex(/^[A-Za-z0-9_-]+$/, 'must be a provisioning key (itpk_…)');

export const provisionRequestSchema = z
  .object({
    v: z.literal(PROVISIONING_VERSION),
    torg: slugSchema,
    gateway: slugSchema,
    key: provisioningKeySchema,
    /** Free text for the registry and logs (software version, hostname). Never a secret. */
    agent: z.string().max(200).optional(),
  })
  .strict();
export type ProvisionRequest = z.infer<typeof provisionRequestSchema>;

export const PROVISION_REFUSALS = {
  E_PROVISION_INVALID: { retriable: false, en: 'the provisioning request does not match the contract', nb: 'provisjoneringsforespørselen følger ikke kontrakten' },
  E_PROVISION_KEY_INVALID: { retriable: false, en: 'the provisioning key is not valid for this torg', nb: 'provisjoneringsnøkkelen gjelder ikke for dette torget' },
  E_PROVISION_KEY_DISABLED: { retriable: false, en: 'the provisioning key has been disabled; ask an admin for the current key', nb: 'provisjoneringsnøkkelen er deaktivert; be en administrator om gjeldende nøkkel' },
  E_PROVISION_TORG_UNKNOWN: { retriable: false, en: 'the torg is not in the torg model', nb: 'torget finnes ikke i torgmodellen' },
  E_PROVISION_GATEWAY_DISABLED: { retriable: false, en: 'this gateway has been disabled by an admin', nb: 'denne gatewayen er deaktivert av en administrator' },
  // Retriable: a gateway that lost its credential is provisioned once its old session has ended
  // (the broker publishes its last will after 1.5 × keepalive), so backing off and asking again works.
  E_PROVISION_GATEWAY_ONLINE: {
    retriable: true,
    en: 'this gateway is connected with its current credential; it is provisioned again only once that session has ended (replacing a box: stop the old one first)',
    nb: 'denne gatewayen er tilkoblet med gjeldende passord; den provisjoneres på nytt først når den økten er avsluttet (ved bytte av boks: stopp den gamle først)',
  },
  E_PROVISION_UNAVAILABLE: { retriable: true, en: 'the platform could not complete provisioning now; try again', nb: 'plattformen kunne ikke fullføre provisjoneringen nå; prøv igjen' },
} as const satisfies Record<string, { retriable: boolean; en: string; nb: string }>;
export type ProvisionRefusalCode = keyof typeof PROVISION_REFUSALS;

export const provisionResponseSchema = z.discriminatedUnion('ok', [
  z
    .object({
      v: z.literal(PROVISIONING_VERSION),
      ok: z.literal(true),
      torg: slugSchema,
      gateway: slugSchema,
      /** The gateway's own broker credentials; the password is sent once and kept by the gateway on disk (mode 0600). */
      mqtt: z.object({ username: z.string().min(1).max(64), password: z.string().min(12).max(256) }).strict(),
      /** Suggested uplink settings; the gateway's local config wins where set. */
      config: z.object({ heartbeatS: z.number().int().positive().optional() }).passthrough().default({}),
      issuedAt: z.number().int().nonnegative(),
    })
    .strict(),
  z
    .object({
      v: z.literal(PROVISIONING_VERSION),
      ok: z.literal(false),
      code: z.enum(Object.keys(PROVISION_REFUSALS) as [ProvisionRefusalCode, ...ProvisionRefusalCode[]]),
      message: z.string(),
      nb: z.string(),
      retriable: z.boolean(),
    })
    .strict(),
]);
export type ProvisionResponse = z.infer<typeof provisionResponseSchema>;

export function refusal(code: ProvisionRefusalCode): Extract<ProvisionResponse, { ok: false }> {
  const r = PROVISION_REFUSALS[code];
  return { v: PROVISIONING_VERSION, ok: false, code, message: r.en, nb: r.nb, retriable: r.retriable };
}

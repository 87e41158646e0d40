/**
 * Provisioning bootstrap of a new gateway (issue 4 "Auto-provisioning"; contract in
 * devices/contract/provisioning.schema.ts): with no broker credentials of its own, the gateway
 * connects as the shared bootstrap user with a random client id (the bootstrap ACL keys the
 * request/response topics by client id), subscribes to its response topic FIRST (a response
 * published before the subscription would be lost: it is not retained), then publishes the request
 * with the MQTT 5 Response Topic and Correlation Data [MQTT-4.10], and takes the first answer whose
 * Correlation Data matches. No answer within `timeoutMs`, a lost connection or a retriable refusal:
 * try again after an exponential backoff with full jitter, up to `maxAttempts`. A non-retriable
 * refusal ends it with a ProvisioningRefusedError naming the code.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { PlatformError } from '../../devices/contract/errors.ts';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import {
  PROVISION_REFUSALS,
  PROVISIONING_VERSION,
  provisionRequestSchema,
  provisionResponseSchema,
  type ProvisionRefusalCode,
  type ProvisionResponse,
} from '../../devices/contract/provisioning.schema.ts';

export interface BootstrapOptions {
  url: string;
  torg: string;
  gateway: string;
  key: string;
  username: string;
  password: string;
  /** PEM contents for TLS (mqtts://). */
  ca?: string | Buffer;
  timeoutMs: number;
  retry: { initialMs: number; maxMs: number; maxAttempts: number };
  logger: Logger;
  /** Free text for the registry: software version, hostname. Never a secret. */
  agent?: string;
  /** Random in [0,1) for backoff jitter; injected for tests. */
  random?: () => number;
}

export type ProvisionGrant = Extract<ProvisionResponse, { ok: true }>;

/** The platform refused provisioning for good: the gateway cannot run until a person acts. */
export class ProvisioningRefusedError extends Error {
  readonly code: ProvisionRefusalCode;
  readonly retriable = false;
  readonly nb: string;
  constructor(code: ProvisionRefusalCode) {
    const r = PROVISION_REFUSALS[code];
    super(`${code}: ${r.en} / ${r.nb}`);
    this.name = 'ProvisioningRefusedError';
    this.code = code;
    this.nb = r.nb;
  }
}

/** MQTT 5 CONNACK reason codes that no retry can fix: 0x86 bad user name or password, 0x87 not authorised (MQTT 5.0 §3.2.2.2); 4 and 5 are their MQTT 3.1.1 return codes. */
const AUTH_REFUSED = new Set([4, 5, 134, 135]);

type AttemptResult = { kind: 'answer'; response: ProvisionResponse } | { kind: 'retry'; why: string };

export async function bootstrapProvisioning(o: BootstrapOptions): Promise<ProvisionGrant> {
  const request = provisionRequestSchema.parse({
    v: PROVISIONING_VERSION,
    torg: o.torg,
    gateway: o.gateway,
    key: o.key,
    ...(o.agent !== undefined ? { agent: o.agent } : {}),
  });
  const random = o.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    const result = await attemptOnce(o, JSON.stringify(request));
    if (result.kind === 'answer') {
      const r = result.response;
      if (r.ok) {
        if (r.torg !== o.torg || r.gateway !== o.gateway) {
          throw new PlatformError('E_CONFIG_INVALID', `provisioning answered for ${r.torg}/${r.gateway}, this gateway is ${o.torg}/${o.gateway}`);
        }
        o.logger.info({ username: r.mqtt.username, attempt }, 'provisioned: received broker credentials');
        return r;
      }
      // The code is the contract's; `retriable` is taken from the catalogue, not from the wire, so
      // a platform bug cannot turn a refused key into an endless loop.
      if (!PROVISION_REFUSALS[r.code].retriable) throw new ProvisioningRefusedError(r.code);
      o.logger.warn({ code: r.code, attempt }, 'provisioning refused for now; retrying');
    } else {
      o.logger.warn({ why: result.why, attempt }, 'provisioning attempt failed; retrying');
    }
    if (attempt >= o.retry.maxAttempts) {
      throw new PlatformError('E_MQTT_UNAVAILABLE', `provisioning got no usable answer in ${attempt} attempts (last: ${result.kind === 'retry' ? result.why : 'retriable refusal'})`);
    }
    const ceiling = Math.min(o.retry.maxMs, o.retry.initialMs * 2 ** Math.min(attempt - 1, 16));
    const delay = Math.max(o.retry.initialMs / 2, Math.floor(random() * ceiling));
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function attemptOnce(o: BootstrapOptions, request: string): Promise<AttemptResult> {
  // Random per attempt: a response topic of an earlier attempt can never be answered into this one.
  const clientId = `itorg-prov-${randomBytes(8).toString('hex')}`;
  const correlation = randomBytes(16);
  const responseTopic = topics.provisionResponse(clientId);
  const options: IClientOptions = {
    clientId,
    username: o.username,
    password: o.password,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: o.timeoutMs,
    ...(o.ca !== undefined ? { ca: o.ca } : {}),
  };
  let client: MqttClient;
  try {
    client = await mqtt.connectAsync(o.url, options, false);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number' && AUTH_REFUSED.has(code)) {
      throw new PlatformError('E_CONFIG_INVALID', `the broker refused the bootstrap user "${o.username}" (CONNACK ${code}): check provisioning.bootstrapUsername/bootstrapPassword`);
    }
    return { kind: 'retry', why: `connect: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    return await new Promise<AttemptResult>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'retry', why: `no answer within ${o.timeoutMs} ms` }), o.timeoutMs);
      const done = (r: AttemptResult): void => {
        clearTimeout(timer);
        resolve(r);
      };
      client.on('close', () => done({ kind: 'retry', why: 'connection closed' }));
      client.on('message', (topic, payload, packet) => {
        if (topic !== responseTopic) return;
        const cd = packet.properties?.correlationData;
        if (cd === undefined || !correlation.equals(cd)) {
          o.logger.warn({ topic }, 'provisioning answer with foreign correlation data ignored');
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(payload.toString('utf8'));
        } catch {
          done({ kind: 'retry', why: 'answer is not JSON' });
          return;
        }
        const r = provisionResponseSchema.safeParse(json);
        if (!r.success) done({ kind: 'retry', why: `answer violates the contract: ${r.error.issues[0]?.message ?? ''}` });
        else done({ kind: 'answer', response: r.data });
      });
      client.subscribe(responseTopic, { qos: 1 }, (err, granted) => {
        if (err || granted?.[0]?.qos === 128) {
          done({ kind: 'retry', why: `subscribe to ${responseTopic} refused` });
          return;
        }
        client.publish(topics.provisionRequest(clientId), request, { qos: 1, properties: { responseTopic, correlationData: correlation } }, (pubErr) => {
          if (pubErr) done({ kind: 'retry', why: `request not acknowledged: ${pubErr.message}` });
        });
      });
    });
  } finally {
    await client.endAsync(true);
  }
}

/**
 * The platform side of gateway provisioning over MQTT (issue 4 "Auto-provisioning"; contract in
 * devices/contract/provisioning.schema.ts).
 *
 * A request arrives on `itorg/v1/_sys/provision/request/{clientId}` from the bootstrap user; the
 * answer goes to the request's MQTT 5 Response Topic with its Correlation Data copied [MQTT-4.10].
 * The Response Topic must be the requester's own `…/provision/response/{clientId}`: the service's
 * client may write everywhere, so obeying any Response Topic would let the bootstrap user make it
 * publish into, say, another gateway's retained config.
 *
 * Requests are handled one at a time from a bounded queue: each one writes the broker's files and
 * reloads it, and two interleaved re-issues for the same gateway would leave an undefined password.
 * The subscription is shared ([MQTT-4.8.2]) so that with several ingest instances each request is
 * handled once.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import { filters, topics } from '../../devices/contract/mqtt-topics.ts';
import { PlatformError } from '../../devices/contract/errors.ts';
import { describeIssues } from '../../devices/contract/validate.ts';
import {
  PROVISIONING_VERSION,
  provisionRequestSchema,
  provisionResponseSchema,
  refusal,
  type ProvisionRefusalCode,
  type ProvisionResponse,
} from '../../devices/contract/provisioning.schema.ts';
import type { KnownPlaces, Registry } from '../registry/registry.ts';
import { CredentialConflictError, awaitBrokerAccepts, type BrokerAuthSync, type BrokerCredentialStore } from './broker-credentials.ts';
import type { ProvisioningKeyStore } from './key-store.ts';

/** Outcomes counted by `ingest_provisioning_requests_total`. */
export type ProvisioningOutcome = 'ok' | ProvisionRefusalCode | 'ignored_retained' | 'ignored_no_response_topic' | 'ignored_foreign_response_topic' | 'dropped_queue_full' | 'dropped_stopping';

export interface ProvisioningMetrics {
  requests: Counter<'outcome'>;
  queueDepth: Gauge;
}

export function createProvisioningMetrics(registers: PromRegistry[]): ProvisioningMetrics {
  return {
    requests: new Counter({ name: 'ingest_provisioning_requests_total', help: 'Gateway provisioning requests, by outcome (ok, refusal code, ignored, dropped)', labelNames: ['outcome'], registers }),
    queueDepth: new Gauge({ name: 'ingest_provisioning_queue_depth', help: 'Provisioning requests waiting to be handled', registers }),
  };
}

export interface ProvisioningServiceOptions {
  /** An MQTT 5 client of a user that may read every request and write every response topic (the admin user). */
  client: MqttClient;
  keys: ProvisioningKeyStore;
  credentials: BrokerCredentialStore;
  /** Writes the broker's password and ACL files from `credentials` and reloads the broker. */
  authSync: Pick<BrokerAuthSync, 'sync'>;
  registry: Registry;
  knownPlaces: KnownPlaces;
  now: () => number;
  logger: Logger;
  metrics: ProvisioningMetrics;
  /**
   * Whether the gateway has a session up now (its birth seen and no death since: liveness online or
   * stale). Such a gateway is not provisioned again: a holder of the torg's key could otherwise take
   * over a working gateway's identity and cut it off by revoking its password. Absent: not checked.
   */
  gatewayConnected?: (torg: string, gateway: string) => boolean;
  /** Suggested uplink settings sent to every gateway (the response's `config`). */
  gatewayConfig?: { heartbeatS?: number };
  /**
   * Before answering, connect with the issued credential until the broker accepts it (the reload is
   * applied asynchronously); null skips it (a broker the service cannot reach directly).
   */
  /** Where the new credential is tried before it is handed out; `ca` as for the ingest's own broker connections. */
  probe: { url: string; timeoutMs?: number; ca?: Buffer } | null;
  /** Requests waiting beyond this are answered E_PROVISION_UNAVAILABLE (retriable). Default 100. */
  maxQueue?: number;
  /** Shared-subscription group (default `provisioning`). */
  group?: string;
}

export interface ProvisioningService {
  /** Resolves when every queued request has been answered. */
  idle(): Promise<void>;
  /** Unsubscribes and waits for the request in progress; queued ones are answered E_PROVISION_UNAVAILABLE. */
  stop(): Promise<void>;
}

const REQUEST_PREFIX = topics.provisionRequest('');

/**
 * Gateway ids that are fixed levels at the gateway's position of the topic tree
 * (devices/contract/mqtt-topics.ts): a gateway `alerts` would be granted writes under
 * `itorg/v1/{torg}/alerts/`, where alert events are published, so its messages would reach alert
 * subscribers as alerts.
 */
export const RESERVED_GATEWAY_IDS: ReadonlySet<string> = new Set(['alerts']);

interface Job {
  clientId: string;
  responseTopic: string;
  correlationData: Buffer | undefined;
  payload: Buffer;
}

/** Refusal codes of failures that are the request's fault; anything else is E_PROVISION_UNAVAILABLE. */
class Refusal extends Error {
  constructor(readonly code: ProvisionRefusalCode, readonly detail: string) {
    super(`${code}: ${detail}`);
  }
}

export async function startProvisioningService(opts: ProvisioningServiceOptions): Promise<ProvisioningService> {
  const { client, logger: log, metrics } = opts;
  if (client.options.protocolVersion !== 5) {
    // Response Topic and Correlation Data exist only in MQTT 5 [MQTT-3.3.2.3.5, MQTT-3.3.2.3.6].
    throw new PlatformError('E_CONFIG_INVALID', 'the provisioning service needs an MQTT 5 client (protocolVersion: 5)');
  }
  const maxQueue = opts.maxQueue ?? 100;
  const filter = filters.shared(opts.group ?? 'provisioning', filters.allProvisionRequests);
  const queue: Job[] = [];
  let running: Promise<void> | null = null;
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  const count = (outcome: ProvisioningOutcome) => metrics.requests.inc({ outcome });

  async function respond(job: Job, response: ProvisionResponse): Promise<void> {
    const body = provisionResponseSchema.parse(response);
    await client.publishAsync(job.responseTopic, JSON.stringify(body), {
      qos: 1,
      ...(job.correlationData ? { properties: { correlationData: job.correlationData } } : {}),
    });
  }

  async function provision(job: Job): Promise<ProvisionResponse> {
    let raw: unknown;
    try {
      raw = JSON.parse(job.payload.toString('utf8'));
    } catch {
      throw new Refusal('E_PROVISION_INVALID', 'payload is not JSON');
    }
    const parsed = provisionRequestSchema.safeParse(raw);
    if (!parsed.success) throw new Refusal('E_PROVISION_INVALID', describeIssues(parsed.error));
    if (job.correlationData === undefined) throw new Refusal('E_PROVISION_INVALID', 'no Correlation Data');
    const { torg, gateway, key } = parsed.data;
    if (RESERVED_GATEWAY_IDS.has(gateway)) throw new Refusal('E_PROVISION_INVALID', `gateway id "${gateway}" is reserved (a level of the topic tree)`);
    const verdict = await opts.keys.verify(torg, key);
    if (verdict === 'invalid') throw new Refusal('E_PROVISION_KEY_INVALID', torg);
    if (verdict === 'disabled') throw new Refusal('E_PROVISION_KEY_DISABLED', torg);
    if (!opts.knownPlaces.has(torg)) throw new Refusal('E_PROVISION_TORG_UNKNOWN', torg);
    const existing = await opts.registry.getGateway(torg, gateway);
    if (existing?.status === 'disabled') throw new Refusal('E_PROVISION_GATEWAY_DISABLED', `${torg}/${gateway}`);
    if (existing !== null && opts.gatewayConnected?.(torg, gateway) === true) throw new Refusal('E_PROVISION_GATEWAY_ONLINE', `${torg}/${gateway}`);

    let issued: { username: string; password: string };
    try {
      issued = await opts.credentials.issueGateway(torg, gateway);
    } catch (error) {
      if (error instanceof CredentialConflictError) throw new Refusal('E_PROVISION_INVALID', error.message);
      throw error;
    }
    await opts.registry.upsertGateway({ torg, id: gateway, credentialsRef: issued.username });
    await opts.authSync.sync();
    if (opts.probe && !(await awaitBrokerAccepts({ url: opts.probe.url, username: issued.username, password: issued.password, ...(opts.probe.timeoutMs !== undefined ? { timeoutMs: opts.probe.timeoutMs } : {}), ...(opts.probe.ca !== undefined ? { ca: opts.probe.ca } : {}) }))) {
      throw new PlatformError('E_MQTT_UNAVAILABLE', `the broker did not accept the new credential of ${torg}/${gateway} after reload`);
    }
    log.info({ torg, gateway, clientId: job.clientId, username: issued.username, reprovisioned: existing !== null, agent: parsed.data.agent }, 'gateway provisioned');
    return {
      v: PROVISIONING_VERSION,
      ok: true,
      torg,
      gateway,
      mqtt: issued,
      config: opts.gatewayConfig ?? {},
      issuedAt: opts.now(),
    };
  }

  async function handle(job: Job): Promise<void> {
    let response: ProvisionResponse;
    let outcome: ProvisioningOutcome;
    try {
      response = await provision(job);
      outcome = 'ok';
    } catch (error) {
      if (error instanceof Refusal) {
        log.warn({ clientId: job.clientId, code: error.code, detail: error.detail }, 'provisioning refused');
        outcome = error.code;
      } else {
        log.error({ clientId: job.clientId, err: error }, 'provisioning failed');
        outcome = 'E_PROVISION_UNAVAILABLE';
      }
      response = refusal(outcome);
    }
    try {
      await respond(job, response);
      count(outcome);
    } catch (error) {
      // The gateway times out and asks again; a re-issue replaces the credential it never received.
      log.error({ clientId: job.clientId, err: error }, 'provisioning response could not be published');
      count('E_PROVISION_UNAVAILABLE');
    }
  }

  function pump(): void {
    if (running) return;
    const job = queue.shift();
    metrics.queueDepth.set(queue.length);
    if (!job) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    running = handle(job).finally(() => {
      running = null;
      pump();
    });
  }

  function onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (!topic.startsWith(REQUEST_PREFIX)) return;
    const clientId = topic.slice(REQUEST_PREFIX.length);
    if (clientId.length === 0 || clientId.includes('/')) return;
    if (packet.retain) {
      // Delivered because of the subscription, i.e. an old request [MQTT-3.3.1-8]; answering it again
      // would re-issue (and so revoke) a credential a gateway already holds.
      log.warn({ clientId }, 'retained provisioning request ignored');
      count('ignored_retained');
      return;
    }
    const responseTopic = packet.properties?.responseTopic;
    if (responseTopic !== topics.provisionResponse(clientId)) {
      log.warn({ clientId, responseTopic }, 'provisioning request without its own response topic ignored');
      count(responseTopic === undefined ? 'ignored_no_response_topic' : 'ignored_foreign_response_topic');
      return;
    }
    const job: Job = { clientId, responseTopic, correlationData: packet.properties?.correlationData, payload };
    if (stopped || queue.length >= maxQueue) {
      count(stopped ? 'dropped_stopping' : 'dropped_queue_full');
      respond(job, refusal('E_PROVISION_UNAVAILABLE')).catch((error: unknown) => log.error({ clientId, err: error }, 'provisioning response could not be published'));
      return;
    }
    queue.push(job);
    metrics.queueDepth.set(queue.length);
    pump();
  }

  client.on('message', onMessage);
  try {
    await client.subscribeAsync(filter, { qos: 1 });
  } catch (error) {
    client.off('message', onMessage);
    throw new PlatformError('E_MQTT_UNAVAILABLE', `cannot subscribe to ${filter}: ${(error as Error).message}`, { cause: error });
  }
  log.info({ filter }, 'provisioning service listening');

  const idle = (): Promise<void> => (running === null && queue.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)));

  return {
    idle,
    async stop() {
      if (stopped) return;
      stopped = true;
      client.off('message', onMessage);
      if (client.connected) await client.unsubscribeAsync(filter).catch(() => undefined);
      const waiting = queue.splice(0);
      metrics.queueDepth.set(0);
      await Promise.all(waiting.map((job) => respond(job, refusal('E_PROVISION_UNAVAILABLE')).catch(() => undefined)));
      await running;
    },
  };
}

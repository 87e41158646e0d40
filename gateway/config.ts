/**
 * Gateway configuration: one JSON file, validated once at start-up. Every field is documented
 * here; defaults live in GATEWAY_DEFAULTS. A bad file fails with E_CONFIG_INVALID naming the key.
 *
 * Example (gateway/gateway.sample.json):
 *   { "gateway": "gw-sentrum-1", "torg": "asker-sentrum",
 *     "central": { "url": "mqtts://mqtt.example:8883", "username": "gw-sentrum-1", "password": "…",
 *                  "tls": { "caFile": "/etc/itorg/ca.pem" } },
 *     "outbox": { "path": "/var/lib/itorg/outbox.db" },
 *     "devices": { "24e124136b316361": { "model": "milesight-vs133", "reportIntervalSeconds": 300 } },
 *     "sources": [ { "type": "mqtt", "name": "chirpstack", "url": "mqtt://127.0.0.1:1883",
 *                    "topics": ["application/+/device/+/event/up"], "format": "chirpstack-v4" } ] }
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PlatformError } from '../devices/contract/errors.ts';
import { provisioningKeySchema } from '../devices/contract/provisioning.schema.ts';
import { MAX_READINGS_PER_ENVELOPE, slugSchema } from '../devices/contract/reading.schema.ts';
import { DEFAULT_MAX_AGE_MS } from '../devices/contract/validate.ts';
import { credentialSecretSchema, NODE_RED_DEFAULT_HOST, nodeRedAdminAuthSchema, nodeRedHttpNodeAuthSchema, unsafeHostProblem } from './node-red/node-red-settings.ts';
import { MQTT_FORMATS } from './sources/formats.ts';
import { reportIntervalSchema } from './sources/model-resolver.ts';

export const GATEWAY_DEFAULTS = {
  maxReadingsPerEnvelope: 500,
  maxInFlight: 8,
  /** 5 million readings ≈ 1.5 GB at ~300 bytes each: weeks of a torg's sensors at typical rates. */
  outboxMaxReadings: 5_000_000,
  outboxMaxBytes: 2_000_000_000,
  /** Same as the ingest's accepted age: older readings would be dead-lettered there anyway. */
  outboxMaxAgeMs: DEFAULT_MAX_AGE_MS,
  groupCommitMs: 2,
  httpPort: 9464,
  clockMaxAheadMs: 2 * 60_000,
  clockMaxBehindMs: 7 * 86_400_000,
  inventoryDebounceMs: 2_000,
  rebirthDelayMs: 1_000,
  birthsPerSecond: 100,
  maxDevices: 10_000,
  provisionTimeoutMs: 10_000,
} as const;

/** Environment variable that may hold the provisioning key, so it need not be written in the config file. */
export const PROVISIONING_KEY_ENV = 'GATEWAY_PROVISIONING_KEY';

const mqttUrl = z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL');

const mqttSourceSchema = z
  .object({
    type: z.literal('mqtt'),
    name: slugSchema,
    url: mqttUrl,
    topics: z.array(z.string().min(1)).min(1),
    format: z.enum(MQTT_FORMATS),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Fixed so the local broker keeps our persistent session; defaults to `{gateway}-{name}`. */
    clientId: z.string().min(1).optional(),
    /** zigbee2mqtt `mqtt.base_topic`. */
    baseTopic: z.string().min(1).optional(),
  })
  .strict();

const httpSourceSchema = z
  .object({
    type: z.literal('http'),
    name: slugSchema,
    port: z.number().int().min(1).max(65_535),
    path: z.string().startsWith('/'),
    /** Disruptive Technologies Data Connector signature secret (HS256). */
    dtSecret: z.string().min(1),
  })
  .strict();

const noderedSourceSchema = z
  .object({
    type: z.literal('nodered'),
    name: slugSchema.default('nodered'),
    enabled: z.boolean(),
    userDir: z.string().min(1),
    /** Port of the Node-RED editor, admin API and http-in endpoints (gateway/node-red/embed.ts); 0 = any free port. */
    httpPort: z.number().int().min(0).max(65_535).default(1880),
    /** Listen address of that port, default 127.0.0.1; anything but loopback (e.g. 0.0.0.0 in a container) requires adminAuth. */
    host: z.string().min(1).optional(),
    /** Editor login (Node-RED adminAuth, bcrypt password hashes): gateway/node-red/node-red-settings.ts. */
    adminAuth: nodeRedAdminAuthSchema.optional(),
    /** Login for the flows' http-in endpoints under /api (bcrypt hash), which adminAuth does not cover. */
    httpNodeAuth: nodeRedHttpNodeAuthSchema.optional(),
    /** Key that encrypts the flows' credentials; GATEWAY_NODE_RED_CREDENTIAL_SECRET may hold it instead. */
    credentialSecret: credentialSecretSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const problem = unsafeHostProblem(s.host ?? NODE_RED_DEFAULT_HOST, s.adminAuth);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['adminAuth'], message: problem });
  });

export const gatewayConfigSchema = z
  .object({
    gateway: slugSchema,
    torg: slugSchema,
    central: z
      .object({
        url: mqttUrl,
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        clientId: z.string().min(1).optional(),
        tls: z
          .object({ caFile: z.string().min(1).optional(), certFile: z.string().min(1).optional(), keyFile: z.string().min(1).optional() })
          .strict()
          .optional(),
        maxReadingsPerEnvelope: z.number().int().min(1).max(MAX_READINGS_PER_ENVELOPE).default(GATEWAY_DEFAULTS.maxReadingsPerEnvelope),
        maxInFlight: z.number().int().min(1).max(100).default(GATEWAY_DEFAULTS.maxInFlight),
        /** Reconnect backoff: exponential from initialMs, capped at maxMs, full jitter. */
        reconnect: z
          .object({ initialMs: z.number().int().min(10).default(500), maxMs: z.number().int().min(10).default(30_000) })
          .strict()
          .default({ initialMs: 500, maxMs: 30_000 }),
      })
      .strict(),
    outbox: z
      .object({
        path: z.string().min(1),
        maxReadings: z.number().int().min(1).default(GATEWAY_DEFAULTS.outboxMaxReadings),
        maxBytes: z.number().int().min(1024).default(GATEWAY_DEFAULTS.outboxMaxBytes),
        maxAgeMs: z.number().int().min(60_000).default(GATEWAY_DEFAULTS.outboxMaxAgeMs),
        groupCommitMs: z.number().int().min(0).max(100).default(GATEWAY_DEFAULTS.groupCommitMs),
      })
      .strict(),
    http: z
      .object({ host: z.string().default('0.0.0.0'), port: z.number().int().min(0).max(65_535).default(GATEWAY_DEFAULTS.httpPort) })
      .strict()
      .default({ host: '0.0.0.0', port: GATEWAY_DEFAULTS.httpPort }),
    clock: z
      .object({
        maxAheadMs: z.number().int().min(0).default(GATEWAY_DEFAULTS.clockMaxAheadMs),
        maxBehindMs: z.number().int().min(0).default(GATEWAY_DEFAULTS.clockMaxBehindMs),
      })
      .strict()
      .default({ maxAheadMs: GATEWAY_DEFAULTS.clockMaxAheadMs, maxBehindMs: GATEWAY_DEFAULTS.clockMaxBehindMs }),
    /**
     * DevEUI (any case) → per-device settings; both keys are optional and override the LNS device
     * tags of the same name (gateway/sources/model-resolver.ts). `model`: device model id
     * (devices/models/index.ts). `reportIntervalSeconds`: the configured reporting interval of a
     * people counter whose uplink does not carry it (Milesight VS133/VS135/VS350).
     */
    devices: z
      .record(
        z.string().regex(/^[0-9a-fA-F]{16}$/, 'must be a 16-hex-digit DevEUI'),
        z
          .object({ model: z.string().min(1).optional(), reportIntervalSeconds: reportIntervalSchema.optional() })
          .strict()
          .refine((d) => d.model !== undefined || d.reportIntervalSeconds !== undefined, 'set model and/or reportIntervalSeconds'),
      )
      .default({}),
    sources: z.array(z.discriminatedUnion('type', [mqttSourceSchema, httpSourceSchema, noderedSourceSchema])).default([]),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * Development mode: the gateway may run against a broker without credentials. Outside it, the
     * gateway refuses to start without MQTT credentials (central.username/password, or the
     * `credentials.json` provisioning stored in `dataDir`) or a provisioning key (issue 4, Security).
     */
    devMode: z.boolean().default(false),
    /** Where the gateway keeps its state besides the outbox (credentials.json, devices.db); defaults to the outbox's directory. */
    dataDir: z.string().min(1).optional(),
    /**
     * Bootstrap of a new gateway (gateway/provisioning/bootstrap.ts): with no credentials on disk, it
     * connects as the shared bootstrap user and asks the platform for its own credentials with the
     * torg's provisioning key. The key may instead come from GATEWAY_PROVISIONING_KEY.
     */
    provisioning: z
      .object({
        key: provisioningKeySchema.optional(),
        bootstrapUsername: z.string().min(1),
        bootstrapPassword: z.string().min(1),
        /** How long one request waits for its answer. */
        timeoutMs: z.number().int().min(100).default(GATEWAY_DEFAULTS.provisionTimeoutMs),
        /** Backoff between attempts while the platform does not answer or answers retriably. */
        retry: z
          .object({ initialMs: z.number().int().min(10).default(1_000), maxMs: z.number().int().min(10).default(60_000), maxAttempts: z.number().int().min(1).default(20) })
          .strict()
          .default({ initialMs: 1_000, maxMs: 60_000, maxAttempts: 20 }),
      })
      .strict()
      .optional(),
    /** Device births and inventory (gateway/devices/device-announcer.ts). */
    announce: z
      .object({
        inventoryDebounceMs: z.number().int().min(0).default(GATEWAY_DEFAULTS.inventoryDebounceMs),
        rebirthDelayMs: z.number().int().min(0).default(GATEWAY_DEFAULTS.rebirthDelayMs),
        birthsPerSecond: z.number().int().min(1).default(GATEWAY_DEFAULTS.birthsPerSecond),
        maxDevices: z.number().int().min(1).default(GATEWAY_DEFAULTS.maxDevices),
      })
      .strict()
      .default({
        inventoryDebounceMs: GATEWAY_DEFAULTS.inventoryDebounceMs,
        rebirthDelayMs: GATEWAY_DEFAULTS.rebirthDelayMs,
        birthsPerSecond: GATEWAY_DEFAULTS.birthsPerSecond,
        maxDevices: GATEWAY_DEFAULTS.maxDevices,
      }),
  })
  .strict();

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type MqttSourceConfig = z.infer<typeof mqttSourceSchema>;
export type NoderedSourceConfig = z.infer<typeof noderedSourceSchema>;

/** Validates a parsed config value; the error names the first bad keys (e.g. `sources.0.format`). */
export function parseGatewayConfig(json: unknown): GatewayConfig {
  const r = gatewayConfigSchema.safeParse(json);
  if (r.success) return r.data;
  const detail = r.error.issues
    .slice(0, 5)
    .map((i) => {
      const path = i.path.map(String).join('.');
      const unknown = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
      return `${path || '(root)'}: ${i.message}${unknown}`;
    })
    .join('; ');
  throw new PlatformError('E_CONFIG_INVALID', detail);
}

export function loadGatewayConfig(path: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PlatformError('E_CONFIG_INVALID', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PlatformError('E_CONFIG_INVALID', `${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseGatewayConfig(json);
}

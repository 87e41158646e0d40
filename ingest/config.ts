/**
 * Ingest configuration, read from the environment once at start-up (ingest/main.ts) and validated
 * with zod. A bad value stops the service with E_CONFIG_INVALID naming the variable.
 */
import { z } from 'zod';
import { PlatformError } from '../devices/contract/errors.ts';
import { filters } from '../devices/contract/mqtt-topics.ts';
import { INFLUX_DB_DEFAULT, RP_RAW } from '../devices/contract/influx-layout.ts';

// Not z.coerce.number(): Number('') is 0, so an empty INGEST_SESSION_EXPIRY_S would silently make the
// broker end the session, and drop its queue, at every disconnect (MQTT 5.0 §3.1.2.11.2).
const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const optionalString = z.string().optional().transform((s) => (s === '' ? undefined : s));

/** Every variable, its type and default. README "Configuration" documents each (a test checks every name is there). */
export const ingestEnvSchema = z.object({
  /** Broker URL (mqtt://, mqtts://, ws://). */
  INGEST_MQTT_URL: z.url().default('mqtt://127.0.0.1:1883'),
  INGEST_MQTT_USERNAME: optionalString,
  INGEST_MQTT_PASSWORD: optionalString,
  /**
   * Stable client id. The persistent session (and the messages the broker queues while we are away)
   * belongs to this id, so it must survive restarts: set it per instance in deployment.
   */
  /** Names the persistent session; also used in a topic level and as the `instance` tag of dead letters. */
  INGEST_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, ".", "_" and "-" only (it is an MQTT topic level and an InfluxDB tag)')
    .default('itorg-ingest-1'),
  /** Subscription filter; default every gateway's readings topic. */
  INGEST_FILTER: z.string().min(1).default(filters.allReadings),
  /** Shared-subscription group; empty = not shared. */
  INGEST_SHARE_GROUP: z.string().regex(/^[A-Za-z0-9_-]*$/).default(''),
  /** How long the broker keeps our session (and queues messages) while we are disconnected. */
  INGEST_SESSION_EXPIRY_S: int(0, 0xffffffff).default(7 * 86_400),
  INGEST_MQTT_KEEPALIVE_S: int(5, 3600).default(60),
  INGEST_INFLUX_URL: z.url().default('http://127.0.0.1:8086'),
  INGEST_INFLUX_DB: z.string().min(1).default(INFLUX_DB_DEFAULT),
  INGEST_INFLUX_RP: z.string().default(RP_RAW),
  /** InfluxDB 2/3 v1-compat token (sent as `Authorization: Token …`). */
  INGEST_INFLUX_TOKEN: optionalString,
  /** InfluxDB 1.x credentials (sent as u/p query parameters). */
  INGEST_INFLUX_USERNAME: optionalString,
  INGEST_INFLUX_PASSWORD: optionalString,
  /** A write is sent when it holds this many lines… */
  INGEST_BATCH_LINES: int(1, 100_000).default(10_000),
  /** …or this many bytes… */
  INGEST_BATCH_BYTES: int(1024, 64 * 1024 * 1024).default(4 * 1024 * 1024),
  /** …or, while every write slot is busy, when its oldest line has waited this long (a free slot writes at once). */
  INGEST_FLUSH_MS: int(1, 60_000).default(200),
  /** Concurrent write requests to InfluxDB. */
  INGEST_WRITE_CONCURRENCY: int(1, 16).default(3),
  INGEST_WRITE_TIMEOUT_MS: int(100, 600_000).default(30_000),
  INGEST_RETRY_BASE_MS: int(1, 60_000).default(200),
  INGEST_RETRY_MAX_MS: int(1, 600_000).default(15_000),
  /** MQTT 5 Receive Maximum: unacknowledged QoS 1 messages the broker may send us [MQTT-3.3.4-9]. */
  INGEST_RECEIVE_MAXIMUM: int(1, 65_535).default(10_000),
  /** Payload bytes held unacknowledged before we stop reading the socket. */
  INGEST_MAX_INFLIGHT_BYTES: int(64 * 1024, 2 * 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  /** Messages larger than this are dead-lettered unread. */
  INGEST_MAX_MESSAGE_BYTES: int(256, 256 * 1024 * 1024).default(2 * 1024 * 1024),
  INGEST_MAX_READING_AGE_DAYS: int(1, 36_500).default(30),
  /** Dead-letter payload/detail strings kept in InfluxDB are cut to this many characters. */
  INGEST_DEADLETTER_MAX_CHARS: int(64, 1024 * 1024).default(16 * 1024),
  /** On SIGTERM, wait this long for in-flight writes before leaving the rest to redelivery. */
  INGEST_SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(20_000),
  /** 0 = pick a free port (tests). */
  INGEST_HTTP_PORT: int(0, 65_535).default(9100),
  INGEST_HTTP_HOST: z.string().default('0.0.0.0'),
  INGEST_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type IngestConfig = z.infer<typeof ingestEnvSchema>;

/** Defaults, for tests and docs: the schema applied to an empty environment. */
export function defaultIngestConfig(overrides: Partial<IngestConfig> = {}): IngestConfig {
  return { ...ingestEnvSchema.parse({}), ...overrides };
}

export function loadIngestConfig(env: Record<string, string | undefined>): IngestConfig {
  const relevant: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('INGEST_') && v !== undefined) relevant[k] = v;
  const parsed = ingestEnvSchema.safeParse(relevant);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new PlatformError('E_CONFIG_INVALID', detail);
  }
  const c = parsed.data;
  if (c.INGEST_RETRY_MAX_MS < c.INGEST_RETRY_BASE_MS) {
    throw new PlatformError('E_CONFIG_INVALID', 'INGEST_RETRY_MAX_MS: must be >= INGEST_RETRY_BASE_MS');
  }
  return c;
}

/**
 * Ingest configuration, read from the environment once at start-up (ingest/main.ts) and validated
 * with zod. A bad value stops the service with E_CONFIG_INVALID naming the variable.
 */
import { readFileSync } from 'node:fs';
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
   * PEM file of the CA certificate(s) the broker's TLS certificate must chain to (mqtts://, wss://),
   * in place of Node's default trust store: a private CA (deploy/init-secrets.sh) is trusted for the
   * broker connections only, not for every TLS client in the process (as NODE_EXTRA_CA_CERTS would).
   */
  INGEST_MQTT_CA_FILE: optionalString,
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

  // --- The service around the writer (ingest/service.ts; issues 4 and 5) ---
  /**
   * `production` refuses to start with security off (issue 4): no broker login, the device check
   * off, gateways registered on first birth, or (role all) no broker auth files to manage.
   */
  INGEST_MODE: z.enum(['production', 'development']).default('production'),
  /**
   * `all`: the writer plus the control plane (registry, provisioning, liveness), the API, the live
   * page and the alerts; one such instance per installation. `writer`: only the writer, for more
   * instances in the shared-subscription group (set INGEST_SHARE_GROUP), checking readings against the
   * directory the `all` instance publishes.
   */
  INGEST_ROLE: z.enum(['all', 'writer']).default('all'),
  INGEST_TORG_CONFIG: z.string().min(1).default('config/torg.json'),
  /** The registry's SQLite file; API tokens, provisioning keys and broker users live in it too. */
  INGEST_REGISTRY_PATH: z.string().min(1).default('data/registry.sqlite'),
  /** Assignment rules (config/assignment-rules.sample.json); none when empty. */
  INGEST_ASSIGNMENT_RULES_FILE: optionalString,
  /** Alert rules overrides and webhooks (dashboards/alerts/alerts.sample.json); built-in defaults when empty. */
  INGEST_ALERTS_FILE: optionalString,
  /** `off` (development only) stores readings of any device, as before issue 4 (benchmarks, imports). */
  INGEST_DEVICE_CHECK: z.enum(['enforce', 'off']).default('enforce'),
  /** Development only: a gateway's first device birth registers the gateway (production: provisioning does). */
  INGEST_AUTO_REGISTER_GATEWAYS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** Writer instances wait this long for the directory snapshot before reading the stream. */
  INGEST_DIRECTORY_WAIT_MS: int(0, 600_000).default(30_000),
  INGEST_LIVENESS_EVERY_S: int(1, 3600).default(30),
  /** The API, the live page and the citizens' widget. 0 = pick a free port (tests). */
  INGEST_API_PORT: int(0, 65_535).default(8080),
  INGEST_API_HOST: z.string().default('127.0.0.1'),
  /** Failed authentications per client address per window before 429. */
  INGEST_API_AUTH_FAILURE_MAX: int(1, 1_000_000).default(20),
  INGEST_API_AUTH_FAILURE_WINDOW_MS: int(1000, 86_400_000).default(15 * 60_000),
  /**
   * express `trust proxy` behind a reverse proxy: a hop count (`1`) or addresses/subnets
   * (`loopback, 10.0.0.0/8`). Unset: req.ip is the connecting address.
   */
  INGEST_API_TRUST_PROXY: optionalString,
  /** Mark the session cookie Secure (the API is behind TLS). Default: true in production. */
  INGEST_API_SECURE_COOKIES: z.enum(['true', 'false']).optional().transform((v) => (v === undefined ? undefined : v === 'true')),
  /**
   * Directory of the broker's `passwd` and `acl` files, generated from the registry; the broker's config
   * points at them (config/mosquitto/secure.conf.example). Empty: the service does not manage broker
   * auth and provisioning is off (development).
   */
  INGEST_BROKER_AUTH_DIR: optionalString,
  /** How the broker is told to re-read those files: its PID file (SIGHUP, mosquitto(8))… */
  INGEST_BROKER_PID_FILE: optionalString,
  /** …or a command (e.g. `docker kill -s HUP mosquitto`), run with /bin/sh. */
  INGEST_BROKER_RELOAD_COMMAND: optionalString,
  /** The broker's admin user: the control plane and provisioning connect with it. */
  INGEST_BROKER_ADMIN_USERNAME: optionalString,
  INGEST_BROKER_ADMIN_PASSWORD: optionalString,
  /** The shared bootstrap user new gateways provision with (its ACL allows nothing else). */
  INGEST_BROKER_BOOTSTRAP_USERNAME: z.string().default('itorg-bootstrap'),
  INGEST_BROKER_BOOTSTRAP_PASSWORD: optionalString,
  /** Effektmål indicator definitions (config/indicators.sample.json); GET /api/v1/indicators is served when set. */
  INGEST_INDICATORS_FILE: optionalString,
  /** Skalering rules (config/skalering.sample.json); GET /api/v1/recommendations is served when set. */
  INGEST_SKALERING_FILE: optionalString,
  /** Room booking feeds (config/bookings.sample.json); GET /api/v1/bookings is served when set. */
  INGEST_BOOKINGS_FILE: optionalString,
  /**
   * Where the monthly report schedule writes `rapport-YYYY-MM.pdf` and `.html` (dashboards/report/report-job.ts);
   * no schedule when empty. GET /api/v1/report is served either way.
   */
  INGEST_REPORT_DIR: optionalString,
  /**
   * Counts below this are suppressed in the report (product.md: "Board and public views suppress very
   * small counts"): shown as `<n`, never as the number (dashboards/report/report-data.schema.ts).
   */
  INGEST_REPORT_MIN_COUNT: int(1, 1000).default(5),
  /** The Chromium that prints the report to PDF (Debian package `chromium`). */
  INGEST_CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
  /** Live page and alerts on (role all). */
  INGEST_LIVE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
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

/**
 * What is insecure about a configuration; production refuses to start with any of it (issue 4:
 * "Outside a development mode the services refuse to start with security off").
 */
export function insecureSettings(c: IngestConfig): string[] {
  const problems: string[] = [];
  if (!c.INGEST_MQTT_USERNAME || !c.INGEST_MQTT_PASSWORD) problems.push('INGEST_MQTT_USERNAME/INGEST_MQTT_PASSWORD: the broker login is not set (anonymous access)');
  if (c.INGEST_DEVICE_CHECK === 'off') problems.push('INGEST_DEVICE_CHECK=off: readings are not checked against the registry');
  if (c.INGEST_AUTO_REGISTER_GATEWAYS) problems.push('INGEST_AUTO_REGISTER_GATEWAYS=true: any client could register a gateway');
  if (c.INGEST_ROLE === 'all') {
    if (!c.INGEST_BROKER_AUTH_DIR) problems.push('INGEST_BROKER_AUTH_DIR: the broker password and ACL files are not managed');
    if (!c.INGEST_BROKER_ADMIN_USERNAME || !c.INGEST_BROKER_ADMIN_PASSWORD) problems.push('INGEST_BROKER_ADMIN_USERNAME/INGEST_BROKER_ADMIN_PASSWORD: not set');
    if (!c.INGEST_BROKER_BOOTSTRAP_PASSWORD) problems.push('INGEST_BROKER_BOOTSTRAP_PASSWORD: not set');
  }
  return problems;
}

export function assertSecureOrDevelopment(c: IngestConfig): void {
  if (c.INGEST_MODE === 'development') return;
  const problems = insecureSettings(c);
  if (problems.length > 0) {
    throw new PlatformError('E_CONFIG_INVALID', `security is off and INGEST_MODE is production; fix or set INGEST_MODE=development: ${problems.join('; ')}`);
  }
}

/**
 * TLS options of every broker connection the ingest makes: the CA of INGEST_MQTT_CA_FILE, if set.
 * Read when a connection is made (the service reads it first thing, so a missing or unreadable file
 * stops the start, naming the variable); loadIngestConfig itself reads no files.
 */
export function mqttTlsOptions(c: Pick<IngestConfig, 'INGEST_MQTT_CA_FILE'>): { ca?: Buffer } {
  if (c.INGEST_MQTT_CA_FILE === undefined) return {};
  let ca: Buffer;
  try {
    ca = readFileSync(c.INGEST_MQTT_CA_FILE);
  } catch (err) {
    throw new PlatformError('E_CONFIG_INVALID', `INGEST_MQTT_CA_FILE ${c.INGEST_MQTT_CA_FILE}: ${(err as Error).message}`);
  }
  if (!ca.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) {
    throw new PlatformError('E_CONFIG_INVALID', `INGEST_MQTT_CA_FILE ${c.INGEST_MQTT_CA_FILE}: not a PEM certificate`);
  }
  return { ca };
}

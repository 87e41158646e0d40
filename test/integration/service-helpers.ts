/**
 * The whole central service (ingest/service.ts startService) in this process, in PRODUCTION mode,
 * against a real Mosquitto whose password and ACL files the service itself generates from its
 * registry (INGEST_BROKER_AUTH_DIR + the broker's PID file for the SIGHUP reload), and a real
 * InfluxDB. Used by the service-*.test.ts end-to-end tests of issue 4.
 *
 * The broker starts with auth already on: before the first service start, the files are written
 * with the three service users only, as an installation would do (config/mosquitto/secure.conf.example).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { z } from 'zod';
import { writeBrokerAuthFiles } from '../../ingest/broker-acl/mosquitto-acl.ts';
import { defaultIngestConfig, type IngestConfig } from '../../ingest/config.ts';
import { SqliteTokenStore } from '../../ingest/api/token-store.ts';
import type { Role } from '../../ingest/api/route.ts';
import { startService, type ServiceHandle } from '../../ingest/service.ts';
import { startInfluxDB, startMosquitto, type InfluxHandle, type MosquittoHandle } from '../support/services.ts';
import { silent } from './gateway-helpers.ts';

/** E2E_LOG=debug shows the service's and the gateways' logs (for a failing run). */
export const testLogger = process.env['E2E_LOG'] ? pino({ level: process.env['E2E_LOG'] }) : silent;

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TORG_CONFIG = join(REPO_ROOT, 'config/torg.asker.sample.json');

export const INGEST_USER = { username: 'itorg-ingest', password: 'ingest-secret-0001' };
export const ADMIN_USER = { username: 'itorg-admin', password: 'admin-secret-0002' };
export const BOOTSTRAP_USER = { username: 'itorg-bootstrap', password: 'bootstrap-secret-0003' };

/** A ChirpStack v4 uplink of a Milesight WS301 (test/gateway/fixtures, with its attribution there). */
const fixture = z
  .object({ envelope: z.object({ deviceInfo: z.record(z.string(), z.unknown()) }).loose() })
  .parse(JSON.parse(readFileSync(new URL('../gateway/fixtures/chirpstack-v4-up-ws301.json', import.meta.url), 'utf8')));

/**
 * The fixture's uplink of a ChirpStack application for another DevEUI at `timeMs` (whole seconds, 9 fractional digits as ChirpStack
 * writes them), optionally with LNS device tags. The payload decodes to: door open, battery 100 %, and a
 * radio health reading (rssi -74, snr 9.8) — WS301 README example.
 */
export function ws301Uplink(application: string, devEui: string, timeMs: number, tags?: Record<string, string>): { topic: string; payload: string } {
  const iso = new Date(Math.floor(timeMs / 1000) * 1000).toISOString().slice(0, 19);
  const envelope = {
    ...fixture.envelope,
    time: `${iso}.000000000+00:00`,
    deviceInfo: { ...fixture.envelope.deviceInfo, applicationId: application, devEui, ...(tags ? { tags } : {}) },
  };
  return { topic: `application/${application}/device/${devEui}/event/up`, payload: JSON.stringify(envelope) };
}

export interface SecureStack {
  dir: string;
  mqtt: MosquittoHandle;
  influx: InfluxHandle;
  registryPath: string;
  authDir: string;
  /** Production config for this stack; `clientId` must differ between concurrently running services. */
  config(overrides?: Partial<IngestConfig>): IngestConfig;
  start(overrides?: Partial<IngestConfig>, now?: () => number): Promise<ServiceHandle>;
  /** Tokens for each role, created in the registry file's token store (as `cli tokens create` does). */
  tokens(): Promise<Record<Role, string>>;
  dispose(): Promise<void>;
}

export async function startSecureStack(): Promise<SecureStack> {
  const dir = mkdtempSync(join(tmpdir(), 'itorg-service-'));
  const authDir = join(dir, 'broker-auth');
  mkdirSync(authDir);
  const registryPath = join(dir, 'registry.sqlite');
  const files = await writeBrokerAuthFiles(authDir, [
    { role: 'ingest', ...INGEST_USER },
    { role: 'admin', ...ADMIN_USER },
    { role: 'bootstrap', ...BOOTSTRAP_USER },
  ]);
  const [mqtt, influx] = await Promise.all([startMosquitto({ extraConfig: files.config }), startInfluxDB()]);
  const config = (overrides: Partial<IngestConfig> = {}): IngestConfig =>
    defaultIngestConfig({
      INGEST_MODE: 'production',
      INGEST_MQTT_URL: mqtt.url,
      INGEST_MQTT_USERNAME: INGEST_USER.username,
      INGEST_MQTT_PASSWORD: INGEST_USER.password,
      INGEST_BROKER_ADMIN_USERNAME: ADMIN_USER.username,
      INGEST_BROKER_ADMIN_PASSWORD: ADMIN_USER.password,
      INGEST_BROKER_BOOTSTRAP_USERNAME: BOOTSTRAP_USER.username,
      INGEST_BROKER_BOOTSTRAP_PASSWORD: BOOTSTRAP_USER.password,
      INGEST_BROKER_AUTH_DIR: authDir,
      INGEST_BROKER_PID_FILE: join(mqtt.dataDir, 'mosquitto.pid'),
      INGEST_INFLUX_URL: influx.url,
      INGEST_INFLUX_DB: influx.db,
      INGEST_TORG_CONFIG: TORG_CONFIG,
      INGEST_REGISTRY_PATH: registryPath,
      INGEST_HTTP_PORT: 0,
      INGEST_HTTP_HOST: '127.0.0.1',
      INGEST_API_PORT: 0,
      INGEST_API_HOST: '127.0.0.1',
      INGEST_API_AUTH_FAILURE_MAX: 100_000,
      INGEST_LIVENESS_EVERY_S: 1,
      INGEST_FLUSH_MS: 20,
      INGEST_LOG_LEVEL: 'silent',
      INGEST_CLIENT_ID: 'itorg-ingest-e2e',
      ...overrides,
    });
  return {
    dir,
    mqtt,
    influx,
    registryPath,
    authDir,
    config,
    start: (overrides, now) => startService(config(overrides), { defaultMetrics: false, logger: testLogger, ...(now ? { now } : {}) }),
    async tokens() {
      const store = new SqliteTokenStore({ path: registryPath, now: Date.now });
      try {
        const out = {} as Record<Role, string>;
        for (const role of ['viewer', 'analyst', 'admin'] as const) out[role] = (await store.create({ name: `e2e ${role}`, role })).token;
        return out;
      } finally {
        await store.close();
      }
    },
    async dispose() {
      await Promise.all([mqtt.dispose(), influx.dispose()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A JSON call to the service's API with a bearer token. */
export async function api(handle: ServiceHandle, method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${handle.apiPort}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Writes a JSON file into the stack's dir (rules files) and returns its path. */
export function writeJson(stack: SecureStack, name: string, value: unknown): string {
  const path = join(stack.dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/**
 * The central service's composition root (issues 2, 4, 5): reads the config, builds the concrete parts
 * and wires them. Everything else gets its dependencies passed in.
 *
 *   role `all` (one per installation)
 *     registry (SQLite) ── control plane: births → pending/rules/assignments, per-device config,
 *                          directory snapshot, liveness            (own MQTT client, admin user)
 *                     └── provisioning: keys, gateway credentials, broker passwd/acl + reload
 *     writer (ingest/main.ts): readings → checked against the directory → InfluxDB   (ingest user)
 *     live state (own non-shared subscription, rebuilt from InfluxDB) → alerts (MQTT, webhooks, InfluxDB)
 *     HTTP on INGEST_API_PORT: the API (tokens, roles, OpenAPI), the live page, the citizens' widget
 *   role `writer` (more instances in the shared-subscription group)
 *     writer only, checking readings against the directory the `all` instance publishes (retained).
 *
 * Run by ingest/main.ts (`npx tsx ingest/main.ts`; production `node dist/ingest/main.js`), config from INGEST_*.
 */
import { LOG_REDACT } from '../devices/contract/log-redaction.ts';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { Registry as PromRegistry } from 'prom-client';
import { deviceBirthSchema } from '../devices/contract/device-messages.schema.ts';
import { PlatformError } from '../devices/contract/errors.ts';
import { RP_AGGREGATES } from '../devices/contract/influx-layout.ts';
import { loadTorgConfig, type TorgConfig } from '../devices/torg/torg-config.schema.ts';
import { parseAlertConfig, type AlertConfig } from '../dashboards/alerts/alert-config.schema.ts';
import { createAlertMetrics } from '../dashboards/alerts/alert-metrics.ts';
import { AlertService } from '../dashboards/alerts/alert-service.ts';
import { factsFromLive } from '../dashboards/alerts/facts-from-live.ts';
import { liveRoutes, startLiveService, type AlertsView, type LiveService } from '../dashboards/live/index.ts';
import { mountLivePage } from '../dashboards/live/web/serve.ts';
import { bookingFactsFrom, ghostWeeksFrom } from '../dashboards/bookings/booking-facts.ts';
import { bookingsRoutes, createBookingsQuery, type BookingsRoutesDeps } from '../dashboards/bookings/bookings-routes.ts';
import { loadBookingsConfig } from '../dashboards/bookings/bookings.schema.ts';
import { loadIndicatorFile } from '../dashboards/indicators/indicator-definition.schema.ts';
import { createIndicatorComputer, effectRoutes, metricsRoutes, type MetricsRoutesDeps } from '../dashboards/metrics/metrics-routes.ts';
import { IndicatorJob } from '../dashboards/indicators/indicator-job.ts';
import { IndicatorStore } from '../dashboards/indicators/indicator-store.ts';
import { loadSkaleringRules } from '../dashboards/skalering/skalering-rules.schema.ts';
import { InfluxMetricsReader } from '../dashboards/metrics/influx-metrics-reader.ts';
import { LateDataTracker } from '../dashboards/metrics/late-data-tracker.ts';
import { MetricsJob } from '../dashboards/metrics/metrics-job.ts';
import { monthReady, ReportJob } from '../dashboards/report/report-job.ts';
import { createReportProducer, reportRoutes } from '../dashboards/report/report-routes.ts';
import { createReportSources } from '../dashboards/report/report-sources.ts';
import { createApiApp, listen } from './api/app.ts';
import type { AnyRoute } from './api/route.ts';
import { coreRoutes } from './api/core-routes.ts';
import { SqliteTokenStore } from './api/token-store.ts';
import { NO_RULES, loadAssignmentRules } from './control/assignment-rules.ts';
import { directoryFromBroker, startControlPlane, type ControlPlane } from './control/control-plane.ts';
import { DeviceDirectory } from './control/device-directory.ts';
import { RegistryPlaceCache } from './control/place-cache.ts';
import { registryRoutes } from './control/registry-routes.ts';
import { assertSecureOrDevelopment, mqttTlsOptions, type IngestConfig } from './config.ts';
import { InfluxWriter } from './influx-writer.ts';
import { LivenessTracker } from './liveness/liveness.ts';
import { influxWriteOptions, startIngest, type IngestHandle } from './writer.ts';
import { BrokerAuthSync, SqliteBrokerCredentialStore, type BrokerReload } from './provisioning/broker-credentials.ts';
import { SqliteProvisioningKeyStore } from './provisioning/key-store.ts';
import { createProvisioningMetrics, startProvisioningService, type ProvisioningService } from './provisioning/provisioning-service.ts';
import { provisioningRoutes } from './provisioning/provisioning-routes.ts';
import { knownPlacesFromTorgConfig } from './registry/registry.ts';
import { SqliteRegistry } from './registry/sqlite-registry.ts';

export interface ServiceDeps {
  now?: () => number;
  logger?: Logger;
  /** Default process metrics are global to the process; off for several in-process instances (tests). */
  defaultMetrics?: boolean;
  /** Period of the monthly report schedule (default 15 minutes); tests shorten it. */
  reportEveryMs?: number;
}

export interface ServiceHandle {
  ingest: IngestHandle;
  /** Null for role writer. */
  apiPort: number | null;
  control: ControlPlane | null;
  live: LiveService | null;
  /** The API routes mounted (empty for role writer): what the route-matrix test checks. */
  routes: readonly AnyRoute[];
  stop(): Promise<void>;
}

/**
 * The writer's hook for births on its own connection (ingest/writer.ts): an unknown device becomes
 * provisionally pending, so its first readings right behind the birth are stored, not dead-lettered.
 * Only a birth that matches the contract and names the device of its topic counts.
 */
function provisionalBirths(directory: DeviceDirectory, now: () => number) {
  return (torg: string, _gateway: string, device: string, payload: Buffer): void => {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const birth = deviceBirthSchema.safeParse(json);
    if (birth.success && birth.data.device === device) directory.provisional(device, torg, now());
  };
}

/** Alert evaluation period; each live change of a torg evaluates that torg at once as well. */
const ALERT_EVERY_MS = 15_000;
/** Hourly aggregates: each tick computes the hours completed since the last one and the days late data touched (issue 6). */
const METRICS_EVERY_MS = 5 * 60_000;
/** The monthly report schedule looks at the previous month this often (issue 7); cheap until the month is ready. */
const REPORT_EVERY_MS = 15 * 60_000;

function brokerReload(c: IngestConfig): BrokerReload {
  if (c.INGEST_BROKER_PID_FILE) return { pidFile: c.INGEST_BROKER_PID_FILE };
  if (c.INGEST_BROKER_RELOAD_COMMAND) return { command: ['/bin/sh', '-c', c.INGEST_BROKER_RELOAD_COMMAND] };
  return { none: true };
}

function loadAlertConfig(path: string | undefined): AlertConfig {
  if (!path) return parseAlertConfig({});
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PlatformError('E_CONFIG_INVALID', `INGEST_ALERTS_FILE ${path}: ${(err as Error).message}`);
  }
  return parseAlertConfig(json, path);
}

async function connectMqtt(c: IngestConfig, clientId: string, creds: { username?: string | undefined; password?: string | undefined }): Promise<MqttClient> {
  return mqtt.connectAsync(c.INGEST_MQTT_URL, {
    protocolVersion: 5,
    clientId,
    clean: true,
    reconnectPeriod: 1000,
    keepalive: c.INGEST_MQTT_KEEPALIVE_S,
    ...mqttTlsOptions(c),
    ...(creds.username ? { username: creds.username } : {}),
    ...(creds.password ? { password: creds.password } : {}),
  });
}

export async function startService(config: IngestConfig, deps: ServiceDeps = {}): Promise<ServiceHandle> {
  assertSecureOrDevelopment(config);
  mqttTlsOptions(config); // an unusable INGEST_MQTT_CA_FILE stops the start here, before anything connects
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? pino({ level: config.INGEST_LOG_LEVEL, redact: LOG_REDACT, base: { service: 'ingest', instance: config.INGEST_CLIENT_ID } });
  if (config.INGEST_MODE === 'development') log.warn('INGEST_MODE=development: security checks are not enforced');
  const metricsRegistry = new PromRegistry();
  const check = config.INGEST_DEVICE_CHECK === 'enforce';
  const directory = new DeviceDirectory();
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err: unknown) => log.warn({ err }, 'shutdown step failed'));
  };

  try {
    if (config.INGEST_ROLE === 'writer') {
      // A writer instance needs the directory before the first reading, or it would dead-letter every
      // device as unknown; it refuses to start without one (retriable: the supervisor restarts it).
      if (check) {
        const dirClient = await connectMqtt(config, `${config.INGEST_CLIENT_ID}-directory`, { username: config.INGEST_MQTT_USERNAME, password: config.INGEST_MQTT_PASSWORD });
        cleanups.push(() => dirClient.endAsync());
        const d = await directoryFromBroker(dirClient, config.INGEST_DIRECTORY_WAIT_MS, { directory, logger: log });
        cleanups.push(d.stop);
      }
      const ingest = await startIngest(config, {
        now,
        logger: log,
        metricsRegistry,
        ...(deps.defaultMetrics !== undefined ? { defaultMetrics: deps.defaultMetrics } : {}),
        ...(check ? { devices: directory, onBirth: provisionalBirths(directory, now) } : {}),
      });
      cleanups.push(() => ingest.stop());
      return { ingest, apiPort: null, control: null, live: null, routes: [], stop: cleanup };
    }

    const torgConfig: TorgConfig = loadTorgConfig(config.INGEST_TORG_CONFIG);
    const knownPlaces = knownPlacesFromTorgConfig(torgConfig);
    if (config.INGEST_REGISTRY_PATH !== ':memory:') mkdirSync(dirname(config.INGEST_REGISTRY_PATH), { recursive: true });
    const path = config.INGEST_REGISTRY_PATH;
    const registry = new SqliteRegistry({ path, knownPlaces, now, logger: log });
    cleanups.push(() => registry.close());
    const tokens = new SqliteTokenStore({ path, now });
    cleanups.push(() => tokens.close());
    const keys = new SqliteProvisioningKeyStore({ path, now });
    cleanups.push(() => keys.close());
    const credentials = new SqliteBrokerCredentialStore({ path, now });
    cleanups.push(() => credentials.close());

    // Broker users from the registry (issue 4 "Security"): the service users from the environment,
    // gateways from provisioning. Written before any client connects, so a changed password applies.
    let authSync: BrokerAuthSync | null = null;
    if (config.INGEST_BROKER_AUTH_DIR) {
      if (config.INGEST_MQTT_USERNAME && config.INGEST_MQTT_PASSWORD)
        await credentials.setService({ role: 'ingest', username: config.INGEST_MQTT_USERNAME, password: config.INGEST_MQTT_PASSWORD });
      if (config.INGEST_BROKER_ADMIN_USERNAME && config.INGEST_BROKER_ADMIN_PASSWORD)
        await credentials.setService({ role: 'admin', username: config.INGEST_BROKER_ADMIN_USERNAME, password: config.INGEST_BROKER_ADMIN_PASSWORD });
      if (config.INGEST_BROKER_BOOTSTRAP_PASSWORD)
        await credentials.setService({ role: 'bootstrap', username: config.INGEST_BROKER_BOOTSTRAP_USERNAME, password: config.INGEST_BROKER_BOOTSTRAP_PASSWORD });
      authSync = new BrokerAuthSync({ store: credentials, dir: config.INGEST_BROKER_AUTH_DIR, reload: brokerReload(config), logger: log });
      await authSync.sync();
    }

    const adminCreds = config.INGEST_BROKER_ADMIN_USERNAME
      ? { username: config.INGEST_BROKER_ADMIN_USERNAME, password: config.INGEST_BROKER_ADMIN_PASSWORD }
      : { username: config.INGEST_MQTT_USERNAME, password: config.INGEST_MQTT_PASSWORD };
    const controlClient = await connectMqtt(config, `${config.INGEST_CLIENT_ID}-control`, adminCreds);
    cleanups.push(() => controlClient.endAsync());

    const liveness = new LivenessTracker();
    const control = await startControlPlane({
      client: controlClient,
      registry,
      torgConfig,
      directory,
      liveness,
      rules: config.INGEST_ASSIGNMENT_RULES_FILE ? loadAssignmentRules(config.INGEST_ASSIGNMENT_RULES_FILE) : NO_RULES,
      now,
      logger: log.child({ part: 'control' }),
      metricsRegistry,
      autoRegisterGateways: config.INGEST_AUTO_REGISTER_GATEWAYS,
      livenessEveryMs: config.INGEST_LIVENESS_EVERY_S * 1000,
    });
    cleanups.push(() => control.stop());

    let provisioning: ProvisioningService | null = null;
    if (authSync) {
      provisioning = await startProvisioningService({
        client: controlClient,
        keys,
        credentials,
        authSync,
        registry,
        knownPlaces,
        now,
        logger: log.child({ part: 'provisioning' }),
        metrics: createProvisioningMetrics([metricsRegistry]),
        probe: { url: config.INGEST_MQTT_URL, ...mqttTlsOptions(config) },
        // A session up: a birth seen and no death since (stale = up but silent).
        gatewayConnected: (torg, gateway) => {
          const state = liveness.gatewayLiveness(torg, gateway, now());
          return state === 'online' || state === 'stale';
        },
      });
      const p = provisioning;
      cleanups.push(() => p.stop());
    }

    const places = new RegistryPlaceCache({ registry, now, logger: log });
    await places.refresh();
    places.start(5000);
    cleanups.push(async () => places.stop());

    // Hourly aggregates in RP_AGGREGATES (issue 6), recomputed when late readings arrive.
    const aggregateWriter = new InfluxWriter({
      ...influxWriteOptions(config),
      rp: RP_AGGREGATES,
      maxSockets: 2,
    });
    cleanups.push(() => aggregateWriter.close());
    const lateData = new LateDataTracker();
    const metricsStore = new InfluxMetricsReader({
      url: config.INGEST_INFLUX_URL,
      db: config.INGEST_INFLUX_DB,
      ...(config.INGEST_INFLUX_USERNAME ? { username: config.INGEST_INFLUX_USERNAME } : {}),
      ...(config.INGEST_INFLUX_PASSWORD || config.INGEST_INFLUX_TOKEN ? { password: config.INGEST_INFLUX_PASSWORD ?? config.INGEST_INFLUX_TOKEN } : {}),
    });
    const recomputeDeps = {
      torgs: torgConfig.torg,
      assignments: places.assignmentAt,
      store: metricsStore,
      writer: aggregateWriter,
      log: log.child({ part: 'metrics' }),
    };
    const metricsJob = new MetricsJob({
      deps: recomputeDeps,
      tracker: lateData,
      now,
      metricsRegistry,
    });
    // Monthly indicator values (issue 6), set below when INGEST_INDICATORS_FILE is configured:
    // stored once a month is complete, and recomputed when late data changes one of its days.
    let indicatorJob: IndicatorJob | null = null;
    let metricsTick: Promise<unknown> = Promise.resolve();
    const metricsTimer = setInterval(() => {
      metricsTick = metricsTick
        .then(async () => {
          const outcomes = await metricsJob.tick();
          if (indicatorJob) {
            await indicatorJob.afterMetrics(outcomes);
            await indicatorJob.tick(now());
          }
        })
        .catch((err: unknown) => log.warn({ err }, 'metrics tick failed; its days stay queued'));
    }, METRICS_EVERY_MS);
    metricsTimer.unref();
    cleanups.push(async () => {
      clearInterval(metricsTimer);
      await metricsTick;
    });

    const ingest = await startIngest(config, {
      now,
      logger: log,
      metricsRegistry,
      ...(deps.defaultMetrics !== undefined ? { defaultMetrics: deps.defaultMetrics } : {}),
      ...(check ? { devices: directory, onBirth: provisionalBirths(directory, now) } : {}),
      onAccepted: (torg, gateway, device, timeMs) => {
        control.onReading(torg, gateway, device, timeMs);
        lateData.observe(torg, timeMs, now());
      },
    });
    cleanups.push(() => ingest.stop());

    let live: LiveService | null = null;
    // Issue 6 for the analyst: metrics always; bookings, indicators and recommendations when configured.
    const metricsDeps: MetricsRoutesDeps = { store: metricsStore, torgs: torgConfig.torg, now, recompute: recomputeDeps };
    let bookingsDeps: BookingsRoutesDeps | null = null;
    if (config.INGEST_BOOKINGS_FILE) {
      const b = loadBookingsConfig(config.INGEST_BOOKINGS_FILE);
      bookingsDeps = { config: b.config, baseDir: b.baseDir, torgs: torgConfig.torg, store: metricsStore, assignments: places.assignmentAt, logger: log.child({ part: 'bookings' }) };
    }
    const bookingsQuery = bookingsDeps ? createBookingsQuery(bookingsDeps) : null;
    const indicatorsConfig = config.INGEST_INDICATORS_FILE
      ? {
          file: loadIndicatorFile(config.INGEST_INDICATORS_FILE),
          store: new IndicatorStore({ writer: aggregateWriter, influx: metricsStore, log: log.child({ part: 'indicators' }) }),
          ...(bookingsQuery ? { bookingFacts: bookingFactsFrom(bookingsQuery) } : {}),
        }
      : null;
    if (indicatorsConfig) {
      indicatorJob = new IndicatorJob({
        compute: createIndicatorComputer(metricsDeps, indicatorsConfig),
        store: indicatorsConfig.store,
        hoursStored: async (from, to) => (await metricsStore.readAggHourly(from, to)).length > 0,
        log: log.child({ part: 'indicators' }),
        now,
        metricsRegistry,
      });
    }
    const effectDeps = {
      ...metricsDeps,
      ...(indicatorsConfig ? { indicators: indicatorsConfig } : {}),
      ...(config.INGEST_SKALERING_FILE
        ? { skalering: { rules: loadSkaleringRules(config.INGEST_SKALERING_FILE), ...(bookingsQuery ? { ghostWeeks: ghostWeeksFrom(bookingsQuery) } : {}) } }
        : {}),
    };
    // The monthly report (issue 7) from the same functions as the routes above, so its numbers are theirs.
    const reportDeps = {
      sources: createReportSources({ ...effectDeps, ...(bookingsQuery ? { bookingsQuery } : {}), influx: metricsStore }),
      torgs: torgConfig.torg,
      // The display name ("Asker kommune"); the municipality's rows are found by their scope.
      municipality: torgConfig.municipality,
      minCount: config.INGEST_REPORT_MIN_COUNT,
      now,
      chromiumPath: config.INGEST_CHROMIUM_PATH,
      metricsRegistry,
    };
    if (config.INGEST_REPORT_DIR) {
      const reportStore = indicatorsConfig?.store;
      const reportJob = new ReportJob({
        dir: config.INGEST_REPORT_DIR,
        ready: monthReady({
          ...(reportStore ? { indicatorsStored: async (m: string) => (await reportStore.read(m)).length > 0 } : {}),
          hoursStored: async (from, to) => (await metricsStore.readAggHourly(from, to)).length > 0,
        }),
        render: createReportProducer(reportDeps).files,
        now,
        log: log.child({ part: 'report' }),
        metricsRegistry,
      });
      let reportTick: Promise<unknown> = Promise.resolve();
      const reportTimer = setInterval(() => {
        // ReportJob.tick counts and logs its own failures; the catch keeps the chain alive regardless.
        reportTick = reportTick.then(() => reportJob.tick()).catch((err: unknown) => log.warn({ err }, 'report tick failed; retried at the next tick'));
      }, deps.reportEveryMs ?? REPORT_EVERY_MS);
      reportTimer.unref();
      cleanups.push(async () => {
        clearInterval(reportTimer);
        await reportTick;
      });
    }
    const routes = [
      ...coreRoutes({ tokens, secureCookies: config.INGEST_API_SECURE_COOKIES ?? config.INGEST_MODE === 'production' }),
      ...registryRoutes({ registry, control }),
      ...(authSync ? provisioningRoutes({ keys, credentials, authSync, registry, knownPlaces }) : []),
      ...metricsRoutes(metricsDeps),
      ...(bookingsDeps ? bookingsRoutes(bookingsDeps) : []),
      ...effectRoutes(effectDeps),
      ...reportRoutes(reportDeps),
    ];
    if (config.INGEST_LIVE) {
      const alerts = new AlertService({
        torg: torgConfig.torg,
        config: loadAlertConfig(config.INGEST_ALERTS_FILE),
        clock: now,
        metrics: createAlertMetrics(metricsRegistry),
        logger: log.child({ part: 'alerts' }),
        mqtt: controlClient,
        writer: aggregateWriter,
      });
      cleanups.push(() => alerts.close());
      // Before the first evaluation: alerts firing before a restart continue under their ids, and
      // those whose condition has cleared are resolved and their retained messages removed.
      await alerts.restore();
      const alertsView: AlertsView = {
        activeAlerts: () =>
          alerts.activeAlerts().map((a) => ({ id: a.id, rule: a.rule, torg: a.torg, subject: a.subjectName, severity: a.severity, since: a.since, message: a.message })),
      };

      const liveService = await startLiveService({
        mqttUrl: config.INGEST_MQTT_URL,
        ...(config.INGEST_MQTT_USERNAME ? { mqttUsername: config.INGEST_MQTT_USERNAME } : {}),
        ...(config.INGEST_MQTT_PASSWORD ? { mqttPassword: config.INGEST_MQTT_PASSWORD } : {}),
        clientId: `${config.INGEST_CLIENT_ID}-live`,
        influx: {
          url: config.INGEST_INFLUX_URL,
          db: config.INGEST_INFLUX_DB,
          ...(config.INGEST_INFLUX_RP ? { rp: config.INGEST_INFLUX_RP } : {}),
          ...(config.INGEST_INFLUX_USERNAME ? { username: config.INGEST_INFLUX_USERNAME } : {}),
          // InfluxDB 2.x/3.x v1-compatible API: any user name, the token as password.
          ...(config.INGEST_INFLUX_PASSWORD || config.INGEST_INFLUX_TOKEN ? { password: config.INGEST_INFLUX_PASSWORD ?? config.INGEST_INFLUX_TOKEN } : {}),
        },
        torgs: torgConfig.torg,
        places: places.lookup,
        devicesOf: places.devicesOf,
        liveness: { deviceState: (d, t) => liveness.deviceState(d, t), lastSeen: (d) => liveness.deviceLastSeen(d) ?? null },
        alerts: alertsView,
        logger: log.child({ part: 'live' }),
        now,
        registry: metricsRegistry,
      });
      live = liveService;
      cleanups.push(() => liveService.close());

      // Alerts judge the numbers the staff see: each torg on its own live changes, and all on a timer
      // (conditions with a duration fire by time passing, not by a new reading).
      // Not before the live state is rebuilt from InfluxDB: until then it has no doors or rooms, and a
      // restored alert would be resolved for a condition that may still hold. Only active devices are
      // judged: a pending device has no place yet and raises no offline or battery alert.
      let liveReady = false;
      void liveService.ready.then(() => (liveReady = true));
      const activeClassOf = (d: string) => (places.lookup(d)?.status === 'active' ? places.classOf(d) : undefined);
      const evaluate = (torgId: string) => {
        if (!liveReady) return;
        const t = liveService.torg(torgId);
        if (t) alerts.evaluate(torgId, factsFromLive(t, activeClassOf));
      };
      const off = liveService.onChange((c) => evaluate(c.torg.id));
      const timer = setInterval(() => torgConfig.torg.forEach((t) => evaluate(t.id)), ALERT_EVERY_MS);
      timer.unref();
      cleanups.push(async () => {
        off();
        clearInterval(timer);
      });
      routes.push(...liveRoutes({ live: liveService, alerts: alertsView, registry: metricsRegistry, tokens }));
    }

    const app = createApiApp({
      routes,
      tokens,
      logger: log.child({ part: 'api' }),
      now,
      authFailureLimit: { max: config.INGEST_API_AUTH_FAILURE_MAX, windowMs: config.INGEST_API_AUTH_FAILURE_WINDOW_MS },
      ...(config.INGEST_API_TRUST_PROXY ? { trustProxy: config.INGEST_API_TRUST_PROXY } : {}),
      info: { title: 'Innbyggertorg sensor platform API', version: '1' },
      ...(config.INGEST_LIVE ? { mount: (a) => mountLivePage(a, { logger: log }) } : {}),
    });
    const server = await listen(app, config.INGEST_API_PORT, config.INGEST_API_HOST);
    cleanups.push(() => server.close());
    log.info({ apiPort: server.port, provisioning: provisioning !== null, deviceCheck: config.INGEST_DEVICE_CHECK }, 'service started');
    return { ingest, apiPort: server.port, control, live, routes, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

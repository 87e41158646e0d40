/**
 * The gateway's composition root: reads the config, builds the outbox, the uplink, the sources and
 * the HTTP server, and wires them. Nothing else in gateway/ constructs its own dependencies.
 *
 * Run: `tsx gateway/main.ts <config.json>` or with GATEWAY_CONFIG=<config.json>.
 */
import { LOG_REDACT } from '../devices/contract/log-redaction.ts';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { pino, type Logger } from 'pino';
import type { DeviceSource } from '../devices/contract/device-messages.schema.ts';
import { type Clock, systemClock } from './clock.ts';
import { loadGatewayConfig, type GatewayConfig, type NoderedSourceConfig } from './config.ts';
import { DeviceAnnouncer } from './devices/device-announcer.ts';
import { DeviceCatalog } from './devices/device-catalog.ts';
import { DeviceConfigStore } from './devices/device-configs.ts';
import { deviceSourceOf } from './devices/device-facts.ts';
import { gatedOutbox } from './devices/gated-outbox.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
import { startEmbeddedNodeRed, type EmbeddedNodeRed } from './node-red/embed.ts';
import { embeddedNodeRedSecurity } from './node-red/node-red-settings.ts';
import { resolveCentralAuth, type ResolveAuthDeps } from './provisioning/central-auth.ts';
import type { Outbox } from './outbox/outbox.ts';
import { SqliteOutbox } from './outbox/sqlite-outbox.ts';
import { OutboxSink } from './reading-sink.ts';
import { RejectedStore } from './rejected-store.ts';
import { DtWebhookSource } from './sources/dt-webhook-source.ts';
import { createMqttParser } from './sources/formats.ts';
import { LorawanModelResolver } from './sources/model-resolver.ts';
import { MqttSource } from './sources/mqtt-source.ts';
import type { Source } from './sources/source.ts';
import { DurableCounter } from './uplink/durable-counter.ts';
import { MqttUplink } from './uplink/mqtt-uplink.ts';

/** How long start-up waits for its sources to connect before it goes on without them. */
const SOURCE_START_WAIT_MS = 5_000;

export interface GatewayDeps {
  clock?: Clock;
  logger?: Logger;
  /** Node process metrics in /metrics (off in tests that run several gateways). */
  defaultMetrics?: boolean;
  /** Environment (GATEWAY_PROVISIONING_KEY); defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Replaces the MQTT provisioning bootstrap (tests). */
  bootstrap?: ResolveAuthDeps['bootstrap'];
}

export interface GatewayHandle {
  outbox: Outbox;
  uplink: MqttUplink;
  metrics: GatewayMetrics;
  rejected: RejectedStore;
  devices: DeviceCatalog;
  deviceConfigs: DeviceConfigStore;
  /** Where the uplink's credentials came from. */
  authOrigin: 'config' | 'stored' | 'provisioned' | 'anonymous-dev';
  /** Port the HTTP server listens on (useful with port 0). */
  httpPort: number;
  stop(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, deps: GatewayDeps = {}): Promise<GatewayHandle> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? pino({ level: config.logLevel, redact: LOG_REDACT, base: { service: 'gateway', gateway: config.gateway, torg: config.torg } });
  mkdirSync(dirname(config.outbox.path), { recursive: true });
  const dataDir = config.dataDir ?? dirname(config.outbox.path);
  mkdirSync(dataDir, { recursive: true });
  const tls = config.central.tls;
  const ca = tls?.caFile !== undefined ? readFileSync(tls.caFile) : undefined;
  // Node-RED's credential secret may come from the environment; a bad one fails before anything is opened.
  const noderedSecurity = new Map(config.sources.flatMap((s) => (s.type === 'nodered' && s.enabled ? [[s.name, embeddedNodeRedSecurity(s, deps.env ?? process.env)] as const] : [])));
  // Before anything else is opened: a gateway without credentials outside dev mode must not start.
  const auth = await resolveCentralAuth(config, {
    dataDir,
    env: deps.env ?? process.env,
    logger,
    ...(deps.bootstrap !== undefined ? { bootstrap: deps.bootstrap } : {}),
    ...(ca !== undefined ? { ca } : {}),
  });
  const outbox = new SqliteOutbox({
    path: config.outbox.path,
    bounds: { maxReadings: config.outbox.maxReadings, maxBytes: config.outbox.maxBytes, maxAgeMs: config.outbox.maxAgeMs },
    groupCommitMs: config.outbox.groupCommitMs,
    clock,
    logger,
  });
  let uplink: MqttUplink | null = null;
  const deviceConfigs = new DeviceConfigStore(config.torg, config.gateway, logger);
  const catalog = new DeviceCatalog({
    path: `${config.outbox.path}.devices.db`,
    clock,
    maxDevices: config.announce.maxDevices,
    intervalFallback: (device) => deviceConfigs.get(device)?.expectedIntervalS ?? undefined,
  });
  const metrics = createGatewayMetrics({
    defaultMetrics: deps.defaultMetrics ?? true,
    outbox: () => outbox,
    uplinkState: () => uplink?.state() ?? 'stopped',
    devices: () => ({ known: catalog.size(), untracked: catalog.untracked() }),
  });
  const rejected = new RejectedStore();
  const sourceKinds = new Map<string, DeviceSource>(config.sources.map((s) => [s.name, deviceSourceOf(s)]));
  const announcer = new DeviceAnnouncer({
    torg: config.torg,
    gateway: config.gateway,
    catalog,
    configs: deviceConfigs,
    sourceKinds,
    logger,
    metrics,
    inventoryDebounceMs: config.announce.inventoryDebounceMs,
    rebirthDelayMs: config.announce.rebirthDelayMs,
  });
  uplink = new MqttUplink({
    url: config.central.url,
    clientId: config.central.clientId ?? `gw-${config.torg}-${config.gateway}`,
    ...(auth.username !== undefined ? { username: auth.username } : {}),
    ...(auth.password !== undefined ? { password: auth.password } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(tls?.certFile !== undefined ? { cert: readFileSync(tls.certFile) } : {}),
    ...(tls?.keyFile !== undefined ? { key: readFileSync(tls.keyFile) } : {}),
    torg: config.torg,
    gateway: config.gateway,
    outbox,
    clock,
    logger,
    metrics,
    // 1000 seq values reserved per fsync; bdSeq fsynced on every connect.
    seq: new DurableCounter(`${config.outbox.path}.seq.json`, 1000),
    bdSeq: new DurableCounter(`${config.outbox.path}.bdseq.json`, 1),
    maxReadingsPerEnvelope: config.central.maxReadingsPerEnvelope,
    maxInFlight: config.central.maxInFlight,
    backoff: config.central.reconnect,
    announcements: announcer,
    announcementsPerSecond: config.announce.birthsPerSecond,
    inbound: { filters: announcer.inboundFilters(), onMessage: (topic, payload, retained) => announcer.onMessage(topic, payload, retained) },
    onOnline: () => announcer.onUplinkOnline(),
  });
  announcer.attach(uplink);

  const sink = new OutboxSink({
    outbox,
    rejected,
    metrics,
    logger,
    clock,
    limits: { maxAheadMs: config.clock.maxAheadMs, maxBehindMs: config.clock.maxBehindMs, maxAgeMs: config.outbox.maxAgeMs },
    gate: announcer,
  });
  const models = new LorawanModelResolver(config.devices);
  const sources: Source[] = [];
  const noderedSources: NoderedSourceConfig[] = [];
  for (const s of config.sources) {
    switch (s.type) {
      case 'mqtt':
        sources.push(
          new MqttSource({
            name: s.name,
            url: s.url,
            clientId: s.clientId ?? `${config.gateway}-${s.name}`,
            ...(s.username !== undefined ? { username: s.username } : {}),
            ...(s.password !== undefined ? { password: s.password } : {}),
            topics: s.topics,
            parse: createMqttParser(s.format, { models, ...(s.baseTopic !== undefined ? { zigbeeBaseTopic: s.baseTopic } : {}) }),
            clock,
            logger,
          }),
        );
        break;
      case 'http':
        sources.push(new DtWebhookSource({ name: s.name, port: s.port, path: s.path, secret: s.dtSecret, clock, logger }));
        break;
      case 'nodered':
        // Node-RED embedding (gateway/node-red/embed.ts, owned there): its flows append to this
        // gateway's outbox; started after the uplink like every other source.
        if (s.enabled) noderedSources.push(s);
        break;
    }
  }

  const app = express();
  app.get('/healthz', (_req, res) => {
    const state = uplink?.state() ?? 'stopped';
    res.status(200).json({
      status: 'ok',
      gateway: config.gateway,
      torg: config.torg,
      uplink: state,
      outbox: { depth: outbox.depth(), bytes: outbox.bytes(), oldestAgeMs: outbox.oldestAgeMs(), dropped: outbox.dropped() },
    });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  app.get('/rejected', (_req, res) => {
    res.json(rejected.list());
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.http.port, config.http.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const address = server.address();
  const httpPort = typeof address === 'object' && address !== null ? address.port : config.http.port;

  uplink.start();
  // Sources start side by side, and start-up waits for them only briefly: a local broker that is down
  // at boot must not keep the webhook or Node-RED sources (or the whole gateway) from starting. A
  // source still connecting goes on connecting in the background (MQTT.js reconnects).
  const pending = new Set(sources.map((s) => s.name));
  const started = sources.map((s) =>
    s.start(sink).then(
      () => {
        pending.delete(s.name);
      },
      (err: unknown) => {
        logger.error({ source: s.name, err }, 'source failed to start');
      },
    ),
  );
  let waitTimer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(started), new Promise<void>((resolve) => (waitTimer = setTimeout(resolve, SOURCE_START_WAIT_MS)))]);
  clearTimeout(waitTimer);
  if (pending.size > 0) logger.warn({ sources: [...pending] }, 'sources not connected yet; they keep connecting in the background');
  const nodereds: EmbeddedNodeRed[] = [];
  for (const s of noderedSources) {
    nodereds.push(
      await startEmbeddedNodeRed({
        userDir: s.userDir,
        httpPort: s.httpPort,
        ...noderedSecurity.get(s.name),
        outbox: gatedOutbox(outbox, announcer, s.name, clock),
        uplinkState: () => uplink?.state() ?? 'stopped',
        clock,
        limits: { maxAheadMs: config.clock.maxAheadMs, maxBehindMs: config.clock.maxBehindMs, maxAgeMs: config.outbox.maxAgeMs },
        logger: logger.child({ source: s.name }),
      }),
    );
  }
  logger.info({ depth: outbox.depth(), sources: sources.map((s) => s.name), httpPort }, 'gateway started');

  const up = uplink;
  return {
    outbox,
    uplink: up,
    metrics,
    rejected,
    devices: catalog,
    deviceConfigs,
    authOrigin: auth.origin,
    httpPort,
    async stop() {
      for (const n of nodereds) await n.stop();
      for (const s of sources) await s.stop();
      announcer.stop();
      await up.stop();
      catalog.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const depth = outbox.depth();
      await outbox.close();
      logger.info({ depth }, 'gateway stopped');
    },
  };
}

async function main(): Promise<void> {
  const path = process.argv[2] ?? process.env.GATEWAY_CONFIG;
  if (path === undefined) {
    console.error('usage: tsx gateway/main.ts <config.json>  (or GATEWAY_CONFIG=<config.json>)');
    process.exit(2);
  }
  const config = loadGatewayConfig(path);
  const gw = await startGateway(config);
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    gw.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

/**
 * Exit status of a start-up failure no restart can fix (bad config, refused provisioning key):
 * EX_CONFIG of sysexits(3), so a supervisor can stop restarting (systemd `RestartPreventExitStatus=78`).
 */
export const EXIT_CONFIG = 78;

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit((err as { retriable?: unknown }).retriable === false ? EXIT_CONFIG : 1);
  });
}

/**
 * The writer: MQTT (QoS 1, persistent session) → validation → InfluxDB, with dead letters, metrics
 * and health. Composed by the service (ingest/service.ts, run by ingest/main.ts), or started alone
 * in-process with `startIngest(config)` (tests, benchmark).
 */
import { LOG_REDACT } from '../devices/contract/log-redaction.ts';
import http from 'node:http';
import https from 'node:https';
import mqtt from 'mqtt';
import { pino, type Logger } from 'pino';
import { filters, parseDeviceBirthTopic, topics } from '../devices/contract/mqtt-topics.ts';
import { Batcher } from './batcher.ts';
import { mqttTlsOptions, type IngestConfig } from './config.ts';
import { DeadLetterSink } from './dead-letter.ts';
import { DeferredAck } from './deferred-ack.ts';
import { startIngestHttp } from './http-server.ts';
import { InfluxWriter, type InfluxWriterOptions } from './influx-writer.ts';
import { MessagePipeline } from './message-pipeline.ts';
import { createIngestMetrics, type IngestMetrics } from './metrics.ts';
import type { PointWriter } from './point-writer.ts';
import type { Registry as PromRegistry } from 'prom-client';
import type { DeviceLookup } from './control/device-directory.ts';

export interface IngestDeps {
  now?: () => number;
  logger?: Logger;
  /** Default process metrics are global to the process; off for several in-process instances. */
  defaultMetrics?: boolean;
  writer?: PointWriter;
  /** Register the ingest's metrics here (the service's one /metrics registry); default a new one. */
  metricsRegistry?: PromRegistry;
  /** The registry's device directory (ingest/control); when given, readings are checked against it (issue 4). */
  devices?: DeviceLookup;
  /**
   * When given, the ingest also subscribes to device births (not shared: every instance sees every
   * birth) on its reading connection and calls this synchronously, in arrival order with the readings
   * (DeviceDirectory.provisional). The registry work is the control plane's, on its own connection.
   */
  onBirth?: (torg: string, gateway: string, device: string, payload: Buffer) => void;
  /** Called for every stored reading (the control plane's liveness hook). */
  onAccepted?: (torg: string, gateway: string, device: string, timeMs: number) => void;
}

export interface IngestHandle {
  httpPort: number;
  metrics: IngestMetrics;
  /** Stops reading, writes what was read, acknowledges it and disconnects (session kept). */
  stop(): Promise<void>;
}

function influxPing(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const target = new URL('ping', url.endsWith('/') ? url : url + '/');
    // http.get throws synchronously on an https: URL ("Protocol not supported").
    const transport = target.protocol === 'https:' ? https : http;
    const req = transport.get(target, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) < 500);
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The InfluxDB connection, credentials and retry policy every writer of the ingest shares; callers add rp and sockets. */
export function influxWriteOptions(config: IngestConfig): Omit<InfluxWriterOptions, 'rp' | 'maxSockets'> {
  return {
    url: config.INGEST_INFLUX_URL,
    db: config.INGEST_INFLUX_DB,
    precision: 'ms',
    token: config.INGEST_INFLUX_TOKEN,
    username: config.INGEST_INFLUX_USERNAME,
    password: config.INGEST_INFLUX_PASSWORD,
    timeoutMs: config.INGEST_WRITE_TIMEOUT_MS,
    retryBaseMs: config.INGEST_RETRY_BASE_MS,
    retryMaxMs: config.INGEST_RETRY_MAX_MS,
  };
}

export async function startIngest(config: IngestConfig, deps: IngestDeps = {}): Promise<IngestHandle> {
  const now = deps.now ?? Date.now;
  const log = deps.logger ?? pino({ level: config.INGEST_LOG_LEVEL, redact: LOG_REDACT, base: { service: 'ingest', instance: config.INGEST_CLIENT_ID } });
  let lastWriteOkAt: number | null = null;

  const client = mqtt.connect(config.INGEST_MQTT_URL, {
    manualConnect: true,
    protocolVersion: 5,
    clientId: config.INGEST_CLIENT_ID,
    // Persistent session: the broker queues QoS 1 messages while we are away and resends the
    // unacknowledged ones on reconnect [MQTT-3.1.2-4, MQTT-4.4.0-1].
    clean: false,
    keepalive: config.INGEST_MQTT_KEEPALIVE_S,
    reconnectPeriod: 1000,
    resubscribe: false,
    username: config.INGEST_MQTT_USERNAME,
    password: config.INGEST_MQTT_PASSWORD,
    ...mqttTlsOptions(config),
    properties: { sessionExpiryInterval: config.INGEST_SESSION_EXPIRY_S, receiveMaximum: config.INGEST_RECEIVE_MAXIMUM },
    will: { topic: topics.ingestState(config.INGEST_CLIENT_ID), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
  });

  // eslint-disable-next-line prefer-const -- assigned after the metrics that read it are created
  let ack: DeferredAck;
  const metrics = createIngestMetrics({
    defaultMetrics: deps.defaultMetrics ?? true,
    ...(deps.metricsRegistry !== undefined ? { registry: deps.metricsRegistry } : {}),
    inflight: () => ({ messages: ack.inflightMessages, bytes: ack.inflightBytes }),
  });

  const writer =
    deps.writer ??
    new InfluxWriter({
      ...influxWriteOptions(config),
      rp: config.INGEST_INFLUX_RP || undefined,
      maxSockets: config.INGEST_WRITE_CONCURRENCY + 1,
      onAttempt: (kind) => {
        if (kind !== 'ok') metrics.influxErrors.inc({ kind });
      },
      onRetry: (i) => log.warn({ kind: i.kind, status: i.status, attempt: i.attempt, delayMs: i.delayMs, err: i.message, code: 'E_INFLUX_UNAVAILABLE' }, 'InfluxDB write failed; retrying'),
    });

  const deadLetters = new DeadLetterSink({
    instance: config.INGEST_CLIENT_ID,
    maxChars: config.INGEST_DEADLETTER_MAX_CHARS,
    now,
    publish: (topic, payload) => {
      client.publish(topic, payload, { qos: 1 }, (err) => {
        if (err) log.error({ err, topic }, 'dead-letter publish failed');
      });
    },
  });

  const batcher = new Batcher({
    writer,
    maxLines: config.INGEST_BATCH_LINES,
    maxBytes: config.INGEST_BATCH_BYTES,
    flushMs: config.INGEST_FLUSH_MS,
    concurrency: config.INGEST_WRITE_CONCURRENCY,
    now,
    onWritten: ({ lines, durationMs }) => {
      lastWriteOkAt = now();
      metrics.pointsWritten.inc(lines);
      metrics.batchLines.observe(lines);
      metrics.batchSeconds.observe(durationMs / 1000);
    },
    onRejected: async (rejected) => {
      const lines = rejected.map((r) => {
        metrics.deadLettered.inc({ reason: 'E_INFLUX_REJECTED' });
        log.warn({ code: 'E_INFLUX_REJECTED', reason: r.reason, line: r.line.slice(0, 500) }, 'InfluxDB refused a point');
        const measurement = r.line.slice(0, r.line.search(/[, ]/));
        return deadLetters.record({ reason: 'E_INFLUX_REJECTED', detail: r.reason, topic: `influx:${measurement}`, payload: r.line });
      });
      const outcome = await writer.write(lines);
      for (const r of outcome.rejected) log.error({ reason: r.reason }, 'InfluxDB refused a dead-letter point; it is on the dead-letter topic only');
    },
    onFailed: (err) => log.warn({ err }, 'batch abandoned at shutdown; its messages stay unacknowledged and will be redelivered'),
  });

  const pipeline = new MessagePipeline({
    batcher,
    deadLetters,
    metrics,
    now,
    maxMessageBytes: config.INGEST_MAX_MESSAGE_BYTES,
    maxAgeMs: config.INGEST_MAX_READING_AGE_DAYS * 86_400_000,
    ...(deps.devices !== undefined ? { devices: deps.devices } : {}),
    ...(deps.onAccepted !== undefined ? { onAccepted: deps.onAccepted } : {}),
  });

  ack = new DeferredAck(client, {
    maxInflightBytes: config.INGEST_MAX_INFLIGHT_BYTES,
    maxInflightMessages: config.INGEST_RECEIVE_MAXIMUM,
    onMessage: (m) => {
      const birth = deps.onBirth !== undefined ? parseDeviceBirthTopic(m.topic) : null;
      if (birth === null) return pipeline.handle(m);
      try {
        deps.onBirth!(birth.torg, birth.gateway, birth.device, m.payload);
      } finally {
        m.complete();
      }
    },
    onConnectionLost: () => {
      const dropped = batcher.discardUnstarted();
      if (dropped > 0) log.warn({ lines: dropped }, 'connection lost: unwritten lines discarded; the broker redelivers their messages');
    },
  });

  let onSubscribed: () => void = () => undefined;
  const filter = config.INGEST_SHARE_GROUP ? filters.shared(config.INGEST_SHARE_GROUP, config.INGEST_FILTER) : config.INGEST_FILTER;
  client.on('connect', (connack) => {
    if (stopping) return;
    log.info({ sessionPresent: connack.sessionPresent, filter }, 'MQTT connected');
    client.publish(topics.ingestState(config.INGEST_CLIENT_ID), '{"online":true}', { qos: 1, retain: true });
    // Subscribe on every CONNACK, resumed session or not: the session may hold no subscription
    // (the first SUBSCRIBE lost with its connection) or one for another INGEST_FILTER or
    // INGEST_SHARE_GROUP. An identical subscription is replaced, not duplicated, and the queued
    // messages stay [MQTT-3.8.4-3].
    client.subscribe(filter, { qos: 1 }, (err) => {
      if (err) log.error({ err, code: 'E_MQTT_UNAVAILABLE' }, 'subscribe failed');
      // Also after a failure: start-up must not hang; the next CONNACK subscribes again.
      onSubscribed();
    });
    if (deps.onBirth !== undefined) {
      client.subscribe(filters.allDeviceBirths, { qos: 1 }, (err) => {
        if (err) log.error({ err, code: 'E_MQTT_UNAVAILABLE' }, 'subscribe to device births failed');
      });
    }
  });
  client.on('close', () => log.warn({ code: 'E_MQTT_UNAVAILABLE' }, 'MQTT connection closed; unacknowledged messages will be redelivered'));
  client.on('error', (err) => log.error({ err, code: 'E_MQTT_UNAVAILABLE' }, 'MQTT error'));

  const httpServer = await startIngestHttp({
    port: config.INGEST_HTTP_PORT,
    host: config.INGEST_HTTP_HOST,
    registry: metrics.registry,
    health: async () => {
      const influxReachable = await influxPing(config.INGEST_INFLUX_URL, 2000);
      return {
        healthy: client.connected && influxReachable,
        mqttConnected: client.connected,
        influxReachable,
        inflightMessages: ack.inflightMessages,
        inflightBytes: ack.inflightBytes,
        lastWriteOkAt: lastWriteOkAt === null ? null : new Date(lastWriteOkAt).toISOString(),
      };
    },
  });

  let stopping: Promise<void> | null = null;
  // While the broker is unreachable MQTT.js keeps reconnecting and /healthz reports it.
  // Resolves on the first SUBACK, not the CONNACK: on a new session a message published between the
  // two reaches no subscription and is not queued for us [MQTT-3.3.5-1], so a caller that starts
  // publishing once startIngest resolves must not be able to lose its first messages.
  const subscribed = new Promise<void>((resolve) => (onSubscribed = resolve));
  client.connect();
  await subscribed;
  log.info({ httpPort: httpServer.port }, 'ingest started');

  const stop = () =>
    (stopping ??= (async () => {
      log.info('stopping: no new messages, flushing');
      ack.pause();
      const drained = (async () => {
        await batcher.flush();
        await ack.whenIdle();
      })();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        drained.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), config.INGEST_SHUTDOWN_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      if (timedOut) log.warn('shutdown timeout: unwritten messages stay unacknowledged and will be redelivered');
      await writer.close();
      if (client.connected) await client.publishAsync(topics.ingestState(config.INGEST_CLIENT_ID), '{"online":false}', { qos: 1, retain: true }).catch(() => undefined);
      await Promise.race([client.endAsync(false), new Promise((r) => setTimeout(r, 5000).unref())]);
      if (client.connected) await client.endAsync(true);
      await httpServer.close();
      log.info('stopped');
    })());

  return { httpPort: httpServer.port, metrics, stop };
}

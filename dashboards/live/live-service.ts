/**
 * The live state service (issue 5): keeps a LiveState current from every reading and tells
 * subscribers (the SSE stream) which torg changed.
 *
 * Completeness: the ingest instances split the readings through a shared subscription
 * [MQTT-4.8.2], so none of them sees every reading. This service has its OWN non-shared
 * subscription on all readings topics, and at start (and after every reconnect: a clean session
 * [MQTT-3.1.2-4] loses what was published while it was away) rebuilds today's state from InfluxDB.
 * Live messages that arrive during a rebuild are buffered (bounded, drops counted) and applied after
 * it; a counter reading seen in both is counted once (LiveState de-duplicates by device, line, time —
 * InfluxDB's own point identity, influx-layout.ts).
 *
 * Refused readings are skipped silently here: the ingest dead-letters them with their reason.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { MEASUREMENTS, RP_RAW } from '../../devices/contract/influx-layout.ts';
import { filters, parseReadingsTopic } from '../../devices/contract/mqtt-topics.ts';
import type { Reading } from '../../devices/contract/reading.schema.ts';
import { DEFAULT_MAX_AGE_MS, validateEnvelope } from '../../devices/contract/validate.ts';
import { localDay } from '../../devices/torg/opening-hours.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { ident, influxQuery, type InfluxQuery, type InfluxQueryOptions, type Row } from '../influx-query.ts';
import { LiveState, type AlertsView, type LivenessView, type PlaceLookup } from './live-state.ts';
import type { LiveChange, LiveOverview, TorgLive } from './live.schema.ts';

export interface LiveServiceOptions {
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  /** Default `live-<random>`: a fixed id shared by two processes would make the broker kick one. */
  clientId?: string;
  influx: InfluxQueryOptions & { rp?: string };
  torgs: readonly Torg[];
  places: PlaceLookup;
  liveness?: LivenessView;
  alerts?: AlertsView;
  devicesOf?: (torg: string) => readonly string[];
  logger: Logger;
  now?: () => number;
  /** Changes of one torg within this window go out as one event; default 100 ms. */
  debounceMs?: number;
  /** Closing resets, day change and values turning stale are checked this often; default 10 s. */
  tickMs?: number;
  /** Live readings buffered while a rebuild runs; beyond it they are dropped and counted. Default 200 000. */
  rebuildBufferMax?: number;
  /** Rows per device and measurement read back for presence/door (history for "since"); default 1500. */
  rebuildRowsPerDevice?: number;
  /** Where the service's metrics are registered (the process's /metrics registry). */
  registry?: Registry;
}

export interface LiveServiceStats {
  messages: number;
  invalidMessages: number;
  readings: number;
  bufferedDropped: number;
  rebuilds: number;
  rebuildFailures: number;
  changesEmitted: number;
}

export interface LiveService {
  readonly state: LiveState;
  readonly stats: LiveServiceStats;
  readonly query: InfluxQuery;
  readonly torgs: readonly Torg[];
  readonly logger: Logger;
  now(): number;
  overview(): LiveOverview;
  torg(id: string): TorgLive | undefined;
  /** Subscribes to per-torg changes; returns the unsubscribe function. */
  onChange(listener: (change: LiveChange) => void): () => void;
  /** Resolves when the first rebuild has been applied (or has failed and live data flows). */
  ready: Promise<void>;
  close(): Promise<void>;
}

type Queued = { torg: string; reading: Reading; timeMs: number };

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** InfluxDB rows → readings of the contract's shape (only the fields the live state reads). */
export function rowToReading(kind: Reading['kind'], row: Row): { torg: string; reading: Reading; timeMs: number } | null {
  const torg = row['torg'];
  const device = row['device'];
  const timeMs = row['time'];
  if (typeof torg !== 'string' || typeof device !== 'string' || typeof timeMs !== 'number') return null;
  if (row['pending'] === true) return null;
  const time = new Date(timeMs).toISOString();
  let reading: Reading | null = null;
  switch (kind) {
    case 'counter': {
      const line = row['line'];
      if (typeof line !== 'string') return null;
      reading = defined({ kind, device, time, line, periodIn: num(row['periodIn']), periodOut: num(row['periodOut']), periodSeconds: num(row['periodSeconds']) });
      break;
    }
    case 'presence': {
      const occupied = bool(row['occupied']);
      if (occupied === undefined) return null;
      reading = defined({ kind, device, time, occupied, count: num(row['count']) });
      break;
    }
    case 'door':
      reading = defined({ kind, device, time, open: bool(row['open']), openings: num(row['openings']) });
      break;
    case 'climate':
      reading = defined({ kind, device, time, temperature: num(row['temperature']), humidity: num(row['humidity']), co2: num(row['co2']) });
      break;
    case 'health':
      reading = defined({ kind, device, time, battery: num(row['battery']), rssi: num(row['rssi']), snr: num(row['snr']) });
      break;
  }
  return { torg, reading, timeMs };
}

/**
 * Reads back today's state from InfluxDB: every counter point since Oslo midnight, presence and door
 * history of the last day (for "since"), and the latest climate and health points per device.
 */
export async function readRebuild(query: InfluxQuery, rp: string, now: number, zone: string, rowsPerDevice: number): Promise<Queued[]> {
  const dayStart = localDay(now, zone).startMs;
  const dayAgo = now - 86_400_000;
  const from = (k: Reading['kind']) => `${ident(rp)}.${ident(MEASUREMENTS[k].measurement)}`;
  const plans: { kind: Reading['kind']; q: string }[] = [
    { kind: 'counter', q: `SELECT "periodIn","periodOut","periodSeconds","pending" FROM ${from('counter')} WHERE time >= ${dayStart}ms GROUP BY "torg","device","line"` },
    { kind: 'presence', q: `SELECT "occupied","count","pending" FROM ${from('presence')} WHERE time >= ${dayAgo}ms GROUP BY "torg","device" ORDER BY time DESC LIMIT ${rowsPerDevice}` },
    { kind: 'door', q: `SELECT "open","openings","pending" FROM ${from('door')} WHERE time >= ${dayAgo}ms GROUP BY "torg","device" ORDER BY time DESC LIMIT ${rowsPerDevice}` },
    // A few points per device: climate sensors may send CO2 and temperature in separate uplinks.
    { kind: 'climate', q: `SELECT "temperature","humidity","co2","pending" FROM ${from('climate')} WHERE time >= ${dayAgo}ms GROUP BY "torg","device" ORDER BY time DESC LIMIT 12` },
    { kind: 'health', q: `SELECT "battery","rssi","snr","pending" FROM ${from('health')} WHERE time >= ${dayAgo}ms GROUP BY "torg","device" ORDER BY time DESC LIMIT 12` },
  ];
  const out: Queued[] = [];
  for (const p of plans) {
    for (const row of await query(p.q)) {
      const r = rowToReading(p.kind, row);
      if (r) out.push(r);
    }
  }
  // Time order: "since" of presence and doors is the first reading of the current run.
  return out.sort((a, b) => a.timeMs - b.timeMs);
}

export function startLiveService(opts: LiveServiceOptions): LiveService {
  const log = opts.logger;
  const now = opts.now ?? Date.now;
  const rp = opts.influx.rp ?? RP_RAW;
  const zone = opts.torgs[0]?.timeZone ?? 'Europe/Oslo';
  const query = influxQuery(opts.influx);
  const state = new LiveState({
    torgs: opts.torgs,
    places: opts.places,
    now,
    ...(opts.liveness ? { liveness: opts.liveness } : {}),
    ...(opts.alerts ? { alerts: opts.alerts } : {}),
    ...(opts.devicesOf ? { devicesOf: opts.devicesOf } : {}),
  });
  const stats: LiveServiceStats = { messages: 0, invalidMessages: 0, readings: 0, bufferedDropped: 0, rebuilds: 0, rebuildFailures: 0, changesEmitted: 0 };
  const listeners = new Set<(c: LiveChange) => void>();
  const debounceMs = opts.debounceMs ?? 100;
  const bufferMax = opts.rebuildBufferMax ?? 200_000;
  let closed = false;
  let rebuilding = false;

  if (opts.registry) {
    const registers = [opts.registry];
    // Read from the counters above at scrape time, so the hot path only increments plain fields.
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counter('live_messages_total', 'MQTT readings messages received by the live service', () => stats.messages);
    counter('live_invalid_messages_total', 'Messages the live service skipped as invalid (the ingest dead-letters them)', () => stats.invalidMessages);
    counter('live_readings_applied_total', 'Readings applied to the live state', () => state.stats.applied);
    counter('live_readings_ignored_total', 'Readings of unknown, decommissioned or foreign devices', () => state.stats.ignored);
    counter('live_counter_duplicates_total', 'Counter readings seen twice (rebuild and live) and counted once', () => state.stats.duplicates);
    counter('live_rebuild_buffer_dropped_total', 'Live readings dropped because the rebuild buffer was full', () => stats.bufferedDropped);
    counter('live_rebuild_failures_total', 'Rebuilds from InfluxDB that failed', () => stats.rebuildFailures);
    counter('live_changes_emitted_total', 'Per-torg change events sent to subscribers', () => stats.changesEmitted);
    new Gauge({
      name: 'live_rebuild_in_progress',
      help: '1 while the live state is being rebuilt from InfluxDB',
      registers,
      collect() {
        this.set(rebuilding ? 1 : 0);
      },
    });
  }

  // Debounced per-torg change events; an identical state is not sent again.
  const pending = new Set<string>();
  const lastSent = new Map<string, string>();
  let flushTimer: NodeJS.Timeout | null = null;
  const flush = () => {
    flushTimer = null;
    const at = now();
    for (const id of pending) {
      const torg = state.torg(id, at);
      if (!torg) continue;
      const json = JSON.stringify(torg);
      if (lastSent.get(id) === json) continue;
      lastSent.set(id, json);
      stats.changesEmitted++;
      for (const l of listeners) {
        try {
          l({ at, torg });
        } catch (err) {
          log.error({ err }, 'live change listener failed');
        }
      }
    }
    pending.clear();
  };
  const changed = (ids: Iterable<string>) => {
    for (const id of ids) pending.add(id);
    if (pending.size > 0 && flushTimer === null && !closed) flushTimer = setTimeout(flush, debounceMs);
  };

  // Rebuild and buffering (`rebuilding` is declared above, read by the metrics).
  let buffer: Queued[] = [];
  const applyAll = (items: readonly Queued[]) => {
    const touched = new Set<string>();
    for (const q of items) {
      const t = state.apply(q.torg, q.reading, q.timeMs);
      if (t !== null) touched.add(t);
    }
    changed(touched);
  };
  const rebuild = async (): Promise<void> => {
    rebuilding = true;
    try {
      const items = await readRebuild(query, rp, now(), zone, opts.rebuildRowsPerDevice ?? 1500);
      applyAll(items);
      stats.rebuilds++;
      log.info({ readings: items.length }, 'live state rebuilt from InfluxDB');
    } catch (err) {
      // Live data still flows; the state is then only as complete as what arrives from now on.
      stats.rebuildFailures++;
      log.error({ err }, 'live state rebuild from InfluxDB failed');
    } finally {
      rebuilding = false;
      const queued = buffer;
      buffer = [];
      applyAll(queued);
    }
  };

  const client: MqttClient = mqtt.connect(opts.mqttUrl, {
    protocolVersion: 5,
    clean: true,
    clientId: opts.clientId ?? `live-${Math.random().toString(36).slice(2, 10)}`,
    reconnectPeriod: 2_000,
    ...(opts.mqttUsername !== undefined ? { username: opts.mqttUsername } : {}),
    ...(opts.mqttPassword !== undefined ? { password: opts.mqttPassword } : {}),
  });

  let first = true;
  let rebuildChain: Promise<void> = Promise.resolve();
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => {
    resolveReady = r;
  });
  client.on('connect', () => {
    // Subscribe first so nothing published during the rebuild is missed; it is buffered instead.
    rebuilding = true;
    client.subscribe(filters.allReadings, { qos: 1 }, (err) => {
      if (err) {
        log.error({ err }, 'live: subscribe failed');
        rebuilding = false;
        return;
      }
      const wasFirst = first;
      first = false;
      // One rebuild at a time: a reconnect during a rebuild queues another one after it.
      rebuildChain = rebuildChain.then(rebuild).then(() => {
        if (wasFirst) resolveReady();
      });
    });
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'live: MQTT error'));
  client.on('message', (topic, payload) => {
    stats.messages++;
    const where = parseReadingsTopic(topic);
    if (!where) return;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      stats.invalidMessages++;
      return;
    }
    const result = validateEnvelope(json, { now: now(), maxAgeMs: DEFAULT_MAX_AGE_MS }, where);
    if (!result.ok) {
      stats.invalidMessages++;
      return;
    }
    const items = result.readings.map((reading, i) => ({ torg: where.torg, reading, timeMs: result.timesMs[i]! }));
    stats.readings += items.length;
    if (rebuilding) {
      const room = Math.max(0, bufferMax - buffer.length);
      if (items.length > room) stats.bufferedDropped += items.length - room;
      buffer.push(...items.slice(0, room));
      return;
    }
    applyAll(items);
  });

  const ticker = setInterval(() => {
    state.tick(now());
    // Every torg is checked: values turn stale with time alone; unchanged states are not re-sent.
    changed(state.torgIds());
  }, opts.tickMs ?? 10_000);

  return {
    state,
    stats,
    query,
    torgs: opts.torgs,
    logger: log,
    now,
    overview: () => {
      state.tick(now());
      return state.overview(now());
    },
    torg: (id) => {
      state.tick(now());
      return state.torg(id, now());
    },
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    ready,
    close: async () => {
      closed = true;
      clearInterval(ticker);
      if (flushTimer) clearTimeout(flushTimer);
      listeners.clear();
      // Nothing of ours is in flight (the service only subscribes): no need to wait for acks.
      await client.endAsync(true);
    },
  };
}

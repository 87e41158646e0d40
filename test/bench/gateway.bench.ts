/**
 * Gateway benchmark (issue 3): the outbox's durable append rate, and the drain of a backlog through
 * the central broker, the ingest and InfluxDB. Method: test/bench/gateway/README.md.
 *
 *   npm run bench:gateway
 *   BENCH_GATEWAY_READINGS=8000000 npm run bench:gateway     # the 24-hour, seven-torg target
 *
 * stdout: one JSON line per measurement {"measure","readings","seconds","readingsPerSec","lost"}.
 * Progress and child logs go to stderr and to the run's temp dir. Speed is reported, never asserted.
 */
import { WRITER_ONLY_ENV } from '../integration/ingest-helpers.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { z } from 'zod';
import { RP_RAW } from '../../devices/contract/influx-layout.ts';
import { READING_KINDS, type Reading } from '../../devices/contract/reading.schema.ts';
import { loadTorgConfig } from '../../devices/torg/torg-config.schema.ts';
import { systemClock } from '../../gateway/clock.ts';
import { GATEWAY_DEFAULTS, type GatewayConfigInput } from '../../gateway/config.ts';
import { SqliteOutbox } from '../../gateway/outbox/sqlite-outbox.ts';
import { freePort, startStack, type Stack } from '../support/services.ts';
import { BENCH_TORG, buildProbe } from './bench-workload.ts';
import { BenchChild, killChildrenOnExit, tailOf } from './child-processes.ts';
import { backlogBatches, COUNTED_FIELD, KIND_SLOTS, kindCount, splitEvenly } from './gateway/backlog-workload.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DAY_MS = 86_400_000;

const envSchema = z.object({
  /** Backlog drained end to end, over all seven torg. */
  BENCH_GATEWAY_READINGS: z.coerce.number().int().min(1_000).default(1_000_000),
  /** Readings appended in the outbox-rate measurements. */
  BENCH_GATEWAY_APPEND_READINGS: z.coerce.number().int().min(1_000).default(200_000),
  /** The drain ends when the stored count has not grown for this long. */
  BENCH_GATEWAY_STALL_S: z.coerce.number().min(5).default(60),
  /** …or at this age, whatever happens (then `lost` counts what was not stored by then). */
  BENCH_GATEWAY_TIMEOUT_S: z.coerce.number().min(30).default(1_800),
  BENCH_GATEWAY_KEEP_LOGS: z.enum(['0', '1']).default('0'),
});

interface Measurement {
  measure: string;
  readings: number;
  seconds: number;
  readingsPerSec: number;
  lost: number;
}

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function log(msg: string): void {
  process.stderr.write(`[bench:gateway ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function emit(measure: string, readings: number, seconds: number, lost: number): void {
  const m: Measurement = { measure, readings, seconds: Math.round(seconds * 1000) / 1000, readingsPerSec: Math.round(readings / seconds), lost };
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

/** The outbox as the gateway builds it (gateway/main.ts): production bounds, group commit, synchronous=FULL. */
function productionOutbox(file: string, maxReadings: number = GATEWAY_DEFAULTS.outboxMaxReadings, synchronous: 'FULL' | 'NORMAL' = 'FULL'): SqliteOutbox {
  return new SqliteOutbox({
    synchronous,
    path: file,
    bounds: { maxReadings, maxBytes: GATEWAY_DEFAULTS.outboxMaxBytes, maxAgeMs: GATEWAY_DEFAULTS.outboxMaxAgeMs },
    groupCommitMs: GATEWAY_DEFAULTS.groupCommitMs,
    clock: systemClock,
    logger: silent,
  });
}

/**
 * (a) Durable append rate. Each append is awaited until its commit (and fsync) is done, as the
 * gateway's sources await it before acknowledging upstream. Three shapes of arrival:
 * - one reading at a time, each awaited: the worst case, one commit per reading;
 * - 100 sources each appending one reading at the same moment: group commit (from the gateway
 *   author's sqlite-outbox.bench.ts);
 * - batches of 500 (an LNS or Node-RED flow handing over a burst), each awaited.
 */
async function measureAppend(workDir: string, total: number): Promise<void> {
  const readings: Reading[] = [];
  for (const batch of backlogBatches({ torgIndex: 0, readings: total, startMs: Date.now() - DAY_MS, endMs: Date.now() - 60_000 }, 10_000)) {
    readings.push(...batch);
  }
  const concurrent100 = async (o: SqliteOutbox, n: number) => {
    for (let i = 0; i < n; i += 100) await Promise.all(readings.slice(i, i + 100).map((r) => o.append([r])));
  };
  const shapes: { measure: string; n: number; synchronous?: 'NORMAL'; run: (o: SqliteOutbox, n: number) => Promise<void> }[] = [
    {
      measure: 'outbox-append-sequential-1',
      n: Math.min(2_000, total),
      run: async (o, n) => {
        for (let i = 0; i < n; i++) await o.append([readings[i]!]);
      },
    },
    {
      measure: 'outbox-append-concurrent-100x1',
      n: Math.floor(total / 2 / 100) * 100,
      run: concurrent100,
    },
    {
      // Not the production setting: what synchronous=FULL costs (sqlite-outbox.ts, durability policy).
      measure: 'outbox-append-concurrent-100x1-sync-normal',
      n: Math.floor(total / 2 / 100) * 100,
      synchronous: 'NORMAL',
      run: concurrent100,
    },
    {
      measure: 'outbox-append-batch-500',
      n: Math.floor(total / 500) * 500,
      run: async (o, n) => {
        for (let i = 0; i < n; i += 500) await o.append(readings.slice(i, i + 500));
      },
    },
  ];
  for (const shape of shapes) {
    const file = path.join(workDir, `${shape.measure}.db`);
    const o = productionOutbox(file, GATEWAY_DEFAULTS.outboxMaxReadings, shape.synchronous ?? 'FULL');
    const t0 = performance.now();
    await shape.run(o, shape.n);
    const seconds = (performance.now() - t0) / 1000;
    await o.close();
    // Counted on a fresh handle, from the file: what survived is what a restarted gateway would find.
    const reopened = productionOutbox(file);
    const stored = reopened.depth();
    await reopened.close();
    emit(shape.measure, shape.n, seconds, shape.n - stored);
  }
}

/** Points stored per kind, counted over the field every workload reading of that kind carries. */
async function storedPerKind(stack: Stack): Promise<Record<string, number>> {
  // Readiness probes go to torg BENCH_TORG; the workload never does.
  const q = READING_KINDS.map((k) => `SELECT count("${COUNTED_FIELD[k]}") FROM "${RP_RAW}"."${k}" WHERE "torg" != '${BENCH_TORG}'`).join('; ');
  const body = await stack.influx.query<{ results: { series?: { values?: unknown[][] }[] }[] }>(q);
  const out: Record<string, number> = {};
  READING_KINDS.forEach((k, i) => {
    const v = body.results[i]?.series?.[0]?.values?.[0]?.[1];
    out[k] = typeof v === 'number' ? v : 0;
  });
  return out;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

const healthSchema = z.object({ outbox: z.object({ depth: z.number().int().min(0) }) });

/** Readings still in the gateways' outboxes, from their /healthz; a gateway not answering yet counts as not empty. */
async function outboxDepth(ports: readonly number[]): Promise<number> {
  const depths = await Promise.all(
    ports.map(async (port) => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) });
        return healthSchema.parse(await res.json()).outbox.depth;
      } catch {
        return Number.POSITIVE_INFINITY;
      }
    }),
  );
  return depths.reduce((a, b) => a + b, 0);
}

/** Publishes readiness probes until the ingest has stored one: it is subscribed and writing. */
async function waitIngestReady(stack: Stack, ingest: BenchChild): Promise<void> {
  const client = await mqtt.connectAsync(stack.mqtt.url, { clientId: 'bench-gateway-probe', clean: true, reconnectPeriod: 0 });
  try {
    const deadline = Date.now() + 90_000;
    for (let seq = 0; Date.now() < deadline; seq++) {
      if (!ingest.running) throw new Error(`ingest exited during start-up:\n${tailOf(ingest.opts.logFile)}`);
      const p = buildProbe(seq, Date.now());
      await client.publishAsync(p.topic, p.payload, { qos: 1 });
      await sleep(500);
      const rows = await stack.influx.select(`SELECT count("battery") FROM "${RP_RAW}"."health" WHERE "torg" = '${BENCH_TORG}'`);
      if (typeof rows[0]?.['count'] === 'number' && rows[0]['count'] > 0) return;
    }
    throw new Error(`ingest stored no probe within 90 s:\n${tailOf(ingest.opts.logFile)}`);
  } finally {
    await client.endAsync();
  }
}

/**
 * (b) Drain: one gateway per torg (as deployed), each with its share of the backlog in its outbox,
 * started as `node dist/gateway/main.js <config>` after the central side is up again.
 */
async function measureDrain(stack: Stack, workDir: string, env: z.infer<typeof envSchema>): Promise<void> {
  const torgIds = loadTorgConfig(path.join(REPO, 'config/torg.asker.sample.json')).torg.map((t) => t.id);
  const shares = splitEvenly(env.BENCH_GATEWAY_READINGS, torgIds.length);
  const expectedPerKind: Record<string, number> = Object.fromEntries(READING_KINDS.map((k) => [k, 0]));
  for (const n of shares) for (const slot of KIND_SLOTS) expectedPerKind[slot.kind]! += kindCount(slot, n);
  const expected = sum(expectedPerKind);

  const now = Date.now();
  const configs: string[] = [];
  const httpPorts: number[] = [];
  const tFill = performance.now();
  for (const [i, torg] of torgIds.entries()) {
    const outboxPath = path.join(workDir, `outbox-${torg}.db`);
    // Setup, not measured: big transactions straight through the outbox's own append.
    const o = productionOutbox(outboxPath, Math.max(GATEWAY_DEFAULTS.outboxMaxReadings, shares[i]!));
    for (const batch of backlogBatches({ torgIndex: i, readings: shares[i]!, startMs: now - DAY_MS, endMs: now - 60_000 }, 20_000)) await o.append(batch);
    await o.close();
    const config: GatewayConfigInput = {
      gateway: `gw-${torg}`,
      torg,
      central: { url: stack.mqtt.url, clientId: `gw-${torg}` },
      outbox: { path: outboxPath, maxReadings: Math.max(GATEWAY_DEFAULTS.outboxMaxReadings, shares[i]!) },
      http: { host: '127.0.0.1', port: httpPorts[httpPorts.push(await freePort()) - 1]! },
      sources: [],
      logLevel: 'warn',
    };
    const file = path.join(workDir, `gateway-${torg}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    configs.push(file);
  }
  log(`filled ${torgIds.length} outboxes with ${expected} readings in ${((performance.now() - tFill) / 1000).toFixed(1)} s (not measured)`);

  const ingest = new BenchChild({
    name: 'ingest',
    args: [path.join(REPO, 'dist/ingest/main.js')],
    cwd: REPO,
    logFile: path.join(workDir, 'ingest.log'),
    env: {
      INGEST_MQTT_URL: stack.mqtt.url,
      ...WRITER_ONLY_ENV,
      INGEST_INFLUX_URL: stack.influx.url,
      INGEST_INFLUX_DB: stack.influx.db,
      INGEST_INFLUX_RP: RP_RAW,
      INGEST_CLIENT_ID: 'bench-gateway-ingest',
      INGEST_HTTP_PORT: '0',
      INGEST_HTTP_HOST: '127.0.0.1',
      INGEST_LOG_LEVEL: 'warn',
    },
  });
  ingest.startRssSampling();
  await waitIngestReady(stack, ingest);
  log('ingest ready; starting the gateways');

  const t0 = performance.now();
  const gateways = configs.map(
    (file, i) =>
      new BenchChild({
        name: `gateway-${torgIds[i]}`,
        args: [path.join(REPO, 'dist/gateway/main.js'), file],
        cwd: REPO,
        logFile: path.join(workDir, `gateway-${torgIds[i]}.log`),
      }),
  );
  let stored = 0;
  let tDone = t0;
  let lastGrowth = t0;
  let perKind: Record<string, number> = {};
  let firstPointS: number | null = null;
  let brokerDoneS: number | null = null;
  let lastLog = t0;
  while (stored < expected) {
    await sleep(250);
    const dead = gateways.find((g) => !g.running) ?? (ingest.running ? undefined : ingest);
    if (dead !== undefined) throw new Error(`${dead.opts.name} exited during the drain:\n${tailOf(dead.opts.logFile)}`);
    if (brokerDoneS === null && (await outboxDepth(httpPorts)) === 0) brokerDoneS = (performance.now() - t0) / 1000;
    perKind = await storedPerKind(stack);
    const n = sum(perKind);
    const t = performance.now();
    if (n > stored) lastGrowth = t;
    if (n > 0 && firstPointS === null) firstPointS = (t - t0) / 1000;
    stored = n;
    tDone = t;
    if (t - lastGrowth > env.BENCH_GATEWAY_STALL_S * 1000 || t - t0 > env.BENCH_GATEWAY_TIMEOUT_S * 1000) {
      log(`drain stopped before completion: ${stored} of ${expected} stored`);
      break;
    }
    if (t - lastLog > 5_000) {
      lastLog = t;
      log(`stored ${stored} / ${expected}`);
    }
  }
  const seconds = (tDone - t0) / 1000;
  // Every outbox empty = every reading PUBACKed by the central broker (mqtt-uplink.ts deletes on PUBACK).
  if (brokerDoneS !== null) emit('drain-gateways-to-broker', expected, brokerDoneS, 0);
  for (const k of READING_KINDS) if (perKind[k] !== expectedPerKind[k]) log(`${k}: stored ${perKind[k]} of ${expectedPerKind[k]}`);
  log(`first points stored ${firstPointS?.toFixed(2) ?? '-'} s after the gateways were spawned (process start and connect)`);
  log(`ingest peak RSS ${ingest.peakRssMb()} MB`);
  await Promise.all(gateways.map((g) => g.stop()));
  await ingest.stop();
  let left = 0;
  for (const file of configs) {
    const torg = path.basename(file, '.json').slice('gateway-'.length);
    const o = productionOutbox(path.join(workDir, `outbox-${torg}.db`));
    left += o.depth();
    await o.close();
  }
  log(`readings left in the outboxes after the drain: ${left}`);
  emit('drain-end-to-end', expected, seconds, expected - stored);
}

async function main(): Promise<void> {
  const env = envSchema.parse(process.env);
  killChildrenOnExit();
  const workDir = mkdtempSync(path.join(tmpdir(), 'bench-gateway-'));
  log(`work dir ${workDir}`);
  let ok = false;
  try {
    await measureAppend(workDir, env.BENCH_GATEWAY_APPEND_READINGS);
    const stack = await startStack();
    try {
      await measureDrain(stack, workDir, env);
    } finally {
      await stack.dispose();
    }
    ok = true;
  } finally {
    if (ok && env.BENCH_GATEWAY_KEEP_LOGS === '0') rmSync(workDir, { recursive: true, force: true });
    else log(`logs kept in ${workDir}`);
  }
}

await main();

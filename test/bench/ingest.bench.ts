/**
 * Ingest benchmark: our ingest (ingest/main.ts) against Node-RED with node-red-contrib-influxdb, on
 * the same Mosquitto, the same InfluxDB and the same workloads. Method and how to read the output:
 * test/bench/README.md.
 *
 *   npm run bench:ingest [-- --quick] [--systems ours,node-red-naive,node-red-batched]
 *                        [--cases live,drain] [--per-message 1,50]
 *
 * stdout: one JSON line per system × case × readings-per-message, then ratio lines. Everything
 * else (progress, child logs) goes to stderr and to the run's temp dir.
 */
import { WRITER_ONLY_ENV } from '../integration/ingest-helpers.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { z } from 'zod';
import { RP_RAW } from '../../devices/contract/influx-layout.ts';
import { freePort, startStack, type Stack } from '../support/services.ts';
import { buildProbe } from './bench-workload.ts';
import { BenchChild, killChildrenOnExit, tailOf } from './child-processes.ts';
import { InfluxCounts } from './influx-counts.ts';
import { LatencyTracker } from './latency-tracker.ts';
import { writeNodeRedUserDir, type NodeRedVariant } from './node-red-flows.ts';
import { publisherMessageSchema, type PublisherConfig } from './publisher-protocol.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SYSTEMS = ['ours', 'node-red-naive', 'node-red-batched'] as const;
const CASES = ['live', 'drain'] as const;
type System = (typeof SYSTEMS)[number];
type Case = (typeof CASES)[number];

const BUCKET_MS = 10;
const LIVE_POLL_MS = 50;
const DRAIN_POLL_MS = 100;

const csv = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .pipe(z.array(z.enum(values)).min(1));

const envSchema = z.object({
  /** Readings per run, for both message sizes (overrides the two below). */
  BENCH_READINGS: z.coerce.number().int().min(1).optional(),
  // Sized so the full run (12 runs, Node-RED's slowest at ~1-3 k readings/s on 2 cores) stays
  // near 10 minutes; raise them on a bigger machine.
  BENCH_READINGS_1: z.coerce.number().int().min(1).default(300_000),
  BENCH_READINGS_50: z.coerce.number().int().min(1).default(1_000_000),
  /** Live publisher rate in readings/s; 0 = as fast as the broker acknowledges (saturation). */
  BENCH_LIVE_RATE: z.coerce.number().min(0).default(0),
  /** PUBLISHes awaiting PUBACK at most, in the publisher. */
  BENCH_PUBLISH_INFLIGHT: z.coerce.number().int().min(1).max(65_535).default(200),
  /** A run ends when the stored count has not grown for this long after publishing ended. */
  BENCH_STALL_S: z.coerce.number().min(1).default(20),
  /** A run ends at this age whatever happens (then `lost` counts what was not stored by then). */
  BENCH_RUN_TIMEOUT_S: z.coerce.number().min(10).default(120),
});

interface RunResult {
  system: System;
  case: Case;
  perMessage: number;
  published: number;
  stored: number;
  lost: number;
  readingsPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  peakRssMb: number;
  /** Only present when the run did not end with every reading stored. */
  note?: string;
}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ctx {
  stack: Stack;
  workDir: string;
  stallMs: number;
  runTimeoutMs: number;
  liveRate: number;
  publishInflight: number;
}

/** How to start one system as a child process, for one run. */
interface ConsumerSpec {
  clientId: string;
  start(): Promise<BenchChild>;
}

const nodeRedMain = createRequire(import.meta.url).resolve('node-red/red.js');

function consumerSpec(ctx: Ctx, system: System, runId: string, db: string): ConsumerSpec {
  const clientId = `bench-${runId}`;
  const logFile = path.join(ctx.workDir, `${runId}.log`);
  if (system === 'ours') {
    return {
      clientId,
      start: async () =>
        new BenchChild({
          name: 'ingest',
          // The production build (npm run build → dist/), run by plain node as in production;
          // `tsx` would add its own transform overhead to every function (keepNames).
          // Production V8 flags (ingest/node-flags), overridable for tuning runs.
          args: [...(process.env.BENCH_INGEST_NODE_ARGS ?? readFileSync(path.join(REPO, 'ingest/node-flags'), 'utf8')).split(/\s+/).filter(Boolean), path.join(REPO, 'dist/ingest/main.js')],
          cwd: REPO,
          logFile,
          env: {
            INGEST_MQTT_URL: ctx.stack.mqtt.url,
            ...WRITER_ONLY_ENV,
            INGEST_INFLUX_URL: ctx.stack.influx.url,
            INGEST_INFLUX_DB: db,
            INGEST_INFLUX_RP: RP_RAW,
            INGEST_CLIENT_ID: clientId,
            INGEST_HTTP_PORT: '0',
            INGEST_HTTP_HOST: '127.0.0.1',
            INGEST_LOG_LEVEL: 'warn',
            // Tuning runs: INGEST_* variables in the bench's environment override the defaults.
            ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('INGEST_') && k !== 'INGEST_LOG_LEVEL')),
          },
        }),
    };
  }
  const variant: NodeRedVariant = system === 'node-red-naive' ? 'naive' : 'batched';
  const userDir = path.join(ctx.workDir, `node-red-${runId}`);
  let args: string[] | null = null;
  return {
    clientId,
    start: async () => {
      args ??= writeNodeRedUserDir(userDir, await freePort(), {
        variant,
        mqttPort: ctx.stack.mqtt.port,
        influxPort: ctx.stack.influx.port,
        db,
        rp: RP_RAW,
        clientId,
      });
      return new BenchChild({ name: system, args: [nodeRedMain, ...args], cwd: userDir, logFile });
    },
  };
}

/** Publishes single-reading probes until one is countable: the consumer is subscribed and writing. */
async function waitReady(ctx: Ctx, counts: InfluxCounts, child: BenchChild, runId: string): Promise<void> {
  const client = await mqtt.connectAsync(ctx.stack.mqtt.url, { clientId: `bench-probe-${runId}`, clean: true, reconnectPeriod: 0 });
  try {
    const before = await counts.probes();
    const deadline = Date.now() + 90_000;
    let seq = 0;
    while (Date.now() < deadline) {
      if (!child.running) throw new Error(`${child.opts.name} exited during start-up:\n${tailOf(child.opts.logFile)}`);
      const p = buildProbe(seq++, Date.now());
      await client.publishAsync(p.topic, p.payload, { qos: 1 });
      const until = Date.now() + 1000;
      while (Date.now() < until) {
        if ((await counts.probes()) > before) return;
        await sleep(50);
      }
    }
    throw new Error(`${child.opts.name} did not store a probe within 90 s:\n${tailOf(child.opts.logFile)}`);
  } finally {
    await client.endAsync();
  }
}

/** Removes the consumer's persistent session, so later runs' messages are not queued for it. */
async function discardSession(ctx: Ctx, clientId: string): Promise<void> {
  // Clean Start with Session Expiry 0 discards the old session and keeps none [MQTT-3.1.2-4, 3.1.2.11.2].
  const c = await mqtt.connectAsync(ctx.stack.mqtt.url, {
    clientId,
    clean: true,
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 0 },
  });
  await c.endAsync();
}

interface PublisherRun {
  child: BenchChild;
  done: Promise<{ published: number; firstPublishMs: number; lastAckMs: number }>;
}

function startPublisher(ctx: Ctx, runId: string, cfg: PublisherConfig, onBuckets?: (counts: [number, number][], finalBefore: number) => void): PublisherRun {
  let resolveDone!: (v: { published: number; firstPublishMs: number; lastAckMs: number }) => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<{ published: number; firstPublishMs: number; lastAckMs: number }>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  let result: { published: number; firstPublishMs: number; lastAckMs: number } | null = null;
  const child = new BenchChild({
    name: 'publisher',
    args: ['--import', 'tsx', path.join(REPO, 'test/bench/publisher.ts')],
    cwd: REPO,
    logFile: path.join(ctx.workDir, `${runId}-publisher.log`),
    env: { BENCH_PUBLISHER_CONFIG: JSON.stringify(cfg) },
    onStdoutLine: (line) => {
      const m = publisherMessageSchema.parse(JSON.parse(line));
      if (m.type === 'buckets') onBuckets?.(m.counts, m.finalBefore);
      else {
        result = { published: m.published, firstPublishMs: m.firstPublishMs, lastAckMs: m.lastAckMs };
        const s = (m.lastAckMs - m.firstPublishMs) / 1000;
        log(`${runId}: publisher acked ${m.published} readings in ${m.messages} messages in ${s.toFixed(2)} s (${Math.round(m.published / s)} readings/s)`);
      }
    },
  });
  void child.exited.then(({ code, signal }) => {
    if (code === 0 && result !== null) resolveDone(result);
    else rejectDone(new Error(`publisher failed (code ${code}, signal ${signal}):\n${tailOf(child.opts.logFile)}`));
  });
  return { child, done };
}

async function runOne(ctx: Ctx, system: System, benchCase: Case, perMessage: number, readings: number): Promise<RunResult> {
  const runId = `${system}-${benchCase}-${perMessage}`;
  const db = `bench_${runId.replace(/-/g, '_')}`;
  const counts = new InfluxCounts(ctx.stack.influx.url, db, RP_RAW);
  await counts.recreate();
  const spec = consumerSpec(ctx, system, runId, db);
  const pubCfg: PublisherConfig = {
    url: ctx.stack.mqtt.url,
    clientId: `bench-publisher-${runId}`,
    readings,
    perMessage,
    maxInflight: ctx.publishInflight,
    rate: benchCase === 'live' ? ctx.liveRate : 0,
    bucketMs: BUCKET_MS,
  };
  let consumer = await spec.start();
  let publisher: PublisherRun | null = null;
  try {
    await waitReady(ctx, counts, consumer, runId);
    let t0: number;
    let published: number;
    let stored: number;
    let tEnd: number;
    let note: string | undefined;
    let tracker: LatencyTracker | null = null;

    if (benchCase === 'drain') {
      // The consumer's persistent session now exists (it subscribed and stored a probe); stop it
      // gracefully, fill its queue on the broker, then start it again as after an outage.
      await consumer.stop();
      log(`${runId}: publishing backlog of ${readings} readings`);
      publisher = startPublisher(ctx, runId, pubCfg);
      published = (await publisher.done).published;
      log(`${runId}: backlog published; starting consumer`);
      consumer = await spec.start();
      consumer.startRssSampling();
      t0 = consumer.spawnedAtMs;
      let last = -1;
      let lastGrowth = Date.now();
      for (;;) {
        stored = await counts.total();
        tEnd = Date.now();
        if (stored >= published) break;
        if (stored !== last) {
          last = stored;
          lastGrowth = tEnd;
        }
        if (!consumer.running) {
          note = `consumer exited: ${tailOf(consumer.opts.logFile, 5)}`;
          break;
        }
        if (tEnd - lastGrowth > ctx.stallMs) {
          note = `stopped growing for ${ctx.stallMs / 1000} s`;
          break;
        }
        if (tEnd - t0 > ctx.runTimeoutMs) {
          note = `run timeout ${ctx.runTimeoutMs / 1000} s (still growing)`;
          break;
        }
        await sleep(DRAIN_POLL_MS);
      }
    } else {
      consumer.startRssSampling();
      const lt = new LatencyTracker(BUCKET_MS);
      tracker = lt;
      publisher = startPublisher(ctx, runId, pubCfg, (c, finalBefore) => lt.addExpected(c, finalBefore));
      let pubResult: { published: number; firstPublishMs: number } | null = null;
      let pubError: unknown = null;
      publisher.done.then(
        (r) => (pubResult = r),
        (e: unknown) => (pubError = e),
      );
      const started = Date.now();
      let lastStored = -1;
      let lastGrowth = Date.now();
      for (;;) {
        const low = lt.lowWatermark();
        const high = lt.highWatermark();
        if (low !== null && high !== null) lt.observe(Date.now(), await counts.perBucket(low, high, BUCKET_MS));
        // Observed after the response arrived: latencies are upper bounds (latency-tracker.ts).
        tEnd = Date.now();
        if (pubError !== null) throw pubError;
        const pr = pubResult as { published: number; firstPublishMs: number } | null;
        if (pr !== null && lt.stored >= pr.published) break;
        if (lt.stored !== lastStored) {
          lastStored = lt.stored;
          lastGrowth = tEnd;
        }
        if (!consumer.running) {
          note = `consumer exited: ${tailOf(consumer.opts.logFile, 5)}`;
          break;
        }
        if (pr !== null && tEnd - lastGrowth > ctx.stallMs) {
          note = `stopped growing for ${ctx.stallMs / 1000} s`;
          break;
        }
        if (tEnd - started > ctx.runTimeoutMs) {
          note = `run timeout ${ctx.runTimeoutMs / 1000} s`;
          break;
        }
        await sleep(LIVE_POLL_MS);
      }
      if (pubResult === null) {
        await publisher.child.stop(5000);
        throw new Error(`${runId}: publisher did not finish (${note ?? 'unknown'})`);
      }
      const pr = pubResult as { published: number; firstPublishMs: number };
      published = pr.published;
      t0 = pr.firstPublishMs;
      // The tracker's total is cross-checked against a plain count of the database.
      stored = await counts.total();
      if (stored !== lt.stored) log(`${runId}: tracker saw ${lt.stored}, database holds ${stored}`);
    }
    const peakRssMb = consumer.peakRssMb();
    const result: RunResult = {
      system,
      case: benchCase,
      perMessage,
      published,
      stored,
      lost: published - stored,
      readingsPerSec: Math.round(stored / ((tEnd - t0) / 1000)),
      p50Ms: tracker ? tracker.percentile(0.5) : null,
      p99Ms: tracker ? tracker.percentile(0.99) : null,
      peakRssMb,
    };
    if (note !== undefined) result.note = note;
    return result;
  } finally {
    if (publisher?.child.running) await publisher.child.stop(5000);
    await consumer.stop();
    await discardSession(ctx, spec.clientId).catch((e: unknown) => log(`discarding session ${spec.clientId}: ${String(e)}`));
    await counts.drop().catch((e: unknown) => log(`dropping ${db}: ${String(e)}`));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      systems: { type: 'string', default: SYSTEMS.join(',') },
      cases: { type: 'string', default: CASES.join(',') },
      'per-message': { type: 'string', default: '1,50' },
      'keep-logs': { type: 'boolean', default: false },
    },
  });
  const env = envSchema.parse(process.env);
  const systems = csv(SYSTEMS).parse(values.systems);
  const cases = csv(CASES).parse(values.cases);
  const perMessages = z
    .string()
    .transform((s) => s.split(',').map(Number))
    .pipe(z.array(z.number().int().min(1).max(5000)).min(1))
    .parse(values['per-message']);
  const readingsFor = (pm: number): number => {
    if (env.BENCH_READINGS !== undefined) return env.BENCH_READINGS;
    if (values.quick) return pm === 1 ? 2_000 : 20_000;
    return pm === 1 ? env.BENCH_READINGS_1 : env.BENCH_READINGS_50;
  };

  killChildrenOnExit();
  const workDir = mkdtempSync(path.join(tmpdir(), 'itorg-bench-'));
  log(`work dir ${workDir}`);
  const stack = await startStack();
  const ctx: Ctx = {
    stack,
    workDir,
    stallMs: env.BENCH_STALL_S * 1000,
    runTimeoutMs: env.BENCH_RUN_TIMEOUT_S * 1000,
    liveRate: env.BENCH_LIVE_RATE,
    publishInflight: env.BENCH_PUBLISH_INFLIGHT,
  };
  const results: RunResult[] = [];
  let failed = false;
  try {
    for (const pm of perMessages) {
      for (const c of cases) {
        for (const s of systems) {
          log(`run ${s} ${c} ${pm}/msg, ${readingsFor(pm)} readings`);
          try {
            const r = await runOne(ctx, s, c, pm, readingsFor(pm));
            results.push(r);
            process.stdout.write(`${JSON.stringify(r)}\n`);
          } catch (err) {
            failed = true;
            log(`run ${s} ${c} ${pm}/msg failed: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }
    }
    for (const pm of perMessages) {
      for (const c of cases) {
        const ours = results.find((r) => r.system === 'ours' && r.case === c && r.perMessage === pm);
        if (!ours) continue;
        for (const peer of ['node-red-naive', 'node-red-batched'] as const) {
          const other = results.find((r) => r.system === peer && r.case === c && r.perMessage === pm);
          if (!other) continue;
          const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100);
          process.stdout.write(
            `${JSON.stringify({
              ratio: `ours/${peer}`,
              case: c,
              perMessage: pm,
              readingsPerSec: ratio(ours.readingsPerSec, other.readingsPerSec),
              p99Ms: ratio(ours.p99Ms, other.p99Ms),
              peakRssMb: ratio(ours.peakRssMb, other.peakRssMb),
            })}\n`,
          );
        }
      }
    }
  } finally {
    await stack.dispose();
    if (!values['keep-logs'] && !failed) rmSync(workDir, { recursive: true, force: true });
    else log(`logs kept in ${workDir}`);
  }
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});

/**
 * Shared pieces of the ingest integration tests (ingest-outage, ingest-shared, ingest-lifecycle): the
 * ingest as a child process exactly as it is deployed (`node --import tsx ingest/main.ts` with
 * INGEST_* variables), a paced publisher of numbered readings, and readers of /healthz, /metrics and
 * /proc that observe the child from outside.
 *
 * Readings are numbered: reading n of a stream has device `p{n % 10}` and time `base + n` ms, so each
 * n is one distinct point, and the stored set can be compared with the published one exactly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { freePort, type InfluxHandle } from '../support/services.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `done` holds or the time is up; returns the last value (the caller asserts on it). */
export async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > until) return v;
    await sleep(everyMs);
  }
}

export interface IngestChild {
  child: ChildProcess;
  pid: number;
  httpPort: number;
  clientId: string;
  /** Everything the child wrote to stderr so far (pino at level warn writes to stdout; config errors to stderr). */
  stderr: () => string;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  exited: Promise<number | string>;
}

/** Starts the ingest as a child process; the HTTP port is chosen here so the test can reach it. */
export async function spawnIngest(env: Record<string, string>, opts: { httpPort?: number } = {}): Promise<IngestChild> {
  const httpPort = opts.httpPort ?? (await freePort());
  const clientId = env['INGEST_CLIENT_ID'] ?? 'itorg-ingest-1';
  const child = spawn(process.execPath, ['--import', 'tsx', 'ingest/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, INGEST_LOG_LEVEL: 'warn', INGEST_HTTP_HOST: '127.0.0.1', INGEST_HTTP_PORT: String(httpPort), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  if (child.pid === undefined) throw new Error('ingest child did not start');
  return { child, pid: child.pid, httpPort, clientId, stderr: () => stderr, exited };
}

/** SIGKILLs a child if it is still running; for afterAll/finally blocks. */
export async function killQuietly(c: IngestChild | undefined): Promise<void> {
  if (c === undefined || c.child.exitCode !== null || c.child.signalCode !== null) return;
  c.child.kill('SIGKILL');
  await c.exited;
}

export const healthSchema = z.object({
  mqttConnected: z.boolean(),
  influxReachable: z.boolean(),
  inflightMessages: z.number().int().nonnegative(),
  inflightBytes: z.number().int().nonnegative(),
  lastWriteOkAt: z.string().nullable(),
  healthy: z.boolean(),
});
export type Health = z.infer<typeof healthSchema>;

export async function health(c: IngestChild): Promise<{ status: number; body: Health } | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${c.httpPort}/healthz`);
    return { status: res.status, body: healthSchema.parse(await res.json()) };
  } catch {
    // Not listening yet (starting) or any more (stopped).
    return null;
  }
}

export async function metricsText(c: IngestChild): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${c.httpPort}/metrics`);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** Value of one unlabelled sample (`name value`) in Prometheus text format; NaN when absent. */
export function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

export async function pointsWritten(c: IngestChild): Promise<number> {
  return sample(await metricsText(c), 'ingest_points_written_total');
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (proc(5), VmRSS is in kB). */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

export function envelope(torg: string, gateway: string, seq: number, readings: unknown[]): string {
  return JSON.stringify({ v: 1, torg, gateway, sentAt: new Date().toISOString(), seq, readings });
}

/** One presence reading whose values are derived from n, so any stored point can be checked. */
export function numberedReading(base: number, n: number) {
  return { kind: 'presence', device: `p${n % 10}`, time: new Date(base + n).toISOString(), occupied: n % 2 === 0, count: n % 7 };
}

export interface StreamPlan {
  torg: string;
  gateway: string;
  /** Time of reading 0 (ms); must be within the ingest's max reading age. */
  base: number;
  /** Readings [from, to) are published. */
  from: number;
  to: number;
  perMessage: number;
  /** Pause between messages (ms); 0 = as fast as PUBACKs come back. */
  intervalMs: number;
  /** Called after each message with the index of the next unpublished reading. */
  onProgress?: (next: number) => Promise<void> | void;
}

/**
 * Publishes readings [from, to) at QoS 1, awaiting each PUBACK, so when it resolves the broker has
 * every message (Mosquitto acknowledges a QoS 1 PUBLISH after queueing it for the subscribers).
 */
export async function publishStream(pub: MqttClient, plan: StreamPlan): Promise<number> {
  let messages = 0;
  const started = Date.now();
  for (let first = plan.from; first < plan.to; first += plan.perMessage) {
    const readings = [];
    for (let n = first; n < Math.min(first + plan.perMessage, plan.to); n++) readings.push(numberedReading(plan.base, n));
    await pub.publishAsync(topics.readings(plan.torg, plan.gateway), envelope(plan.torg, plan.gateway, first / plan.perMessage, readings), { qos: 1 });
    messages++;
    await plan.onProgress?.(Math.min(first + plan.perMessage, plan.to));
    if (plan.intervalMs > 0) {
      // Pace against the start time, not per message, so slow PUBACKs do not stretch the stream.
      const due = started + messages * plan.intervalMs;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
    }
  }
  return messages;
}

/** Stored points of a torg's presence stream (every numbered reading has `occupied`). */
export async function storedCount(influx: InfluxHandle, torg: string): Promise<number> {
  const rows = await influx.select(`SELECT COUNT("occupied") FROM raw.presence WHERE torg='${torg}'`);
  const v = rows[0]?.['count'];
  return typeof v === 'number' ? v : 0;
}

/**
 * The reading numbers stored for a torg, read back from InfluxDB, with each point's values checked
 * against what reading n carried. Throws on a point nobody published or with wrong values.
 */
export async function storedNumbers(influx: InfluxHandle, torg: string, base: number): Promise<Set<number>> {
  const rows = await influx.select(`SELECT "count", occupied, device FROM raw.presence WHERE torg='${torg}'`);
  const seen = new Set<number>();
  for (const r of rows) {
    const n = (r['time'] as number) - base;
    if (r['device'] !== `p${n % 10}` || r['count'] !== n % 7 || r['occupied'] !== (n % 2 === 0)) {
      throw new Error(`stored point does not match reading ${n}: ${JSON.stringify(r)}`);
    }
    seen.add(n);
  }
  return seen;
}

/**
 * Makes sure the ingest's subscription exists before a counted stream starts (a QoS 1 message
 * published before any matching subscription exists reaches no session: the broker routes a PUBLISH
 * to the subscriptions that exist when it arrives, MQTT 5.0 §3.3.4 "PUBLISH Actions"). Publishes one sentinel reading to a separate torg every 300 ms until `ready`
 * says the ingest took one; sentinels never count towards a test's stream.
 */
export async function awaitSubscribed(pub: MqttClient, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let n = 0;
  const base = Date.now() - 60_000;
  while (Date.now() < until) {
    await pub.publishAsync(topics.readings('sentinel', 'gw-s'), envelope('sentinel', 'gw-s', n, [numberedReading(base, n)]), { qos: 1 });
    n++;
    if (await ready()) return;
    await sleep(300);
  }
  throw new Error('ingest did not take a sentinel message: subscription not established');
}

/**
 * Environment for an ingest child process that runs only the writer, as before issue 4: the process
 * entry (ingest/main.ts) now starts the whole service, which in production mode refuses to run
 * without broker auth and the registry. Tests of the writer's delivery guarantees do not need those.
 */
export const WRITER_ONLY_ENV = { INGEST_MODE: 'development', INGEST_ROLE: 'writer', INGEST_DEVICE_CHECK: 'off' } as const;

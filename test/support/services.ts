/**
 * Real Mosquitto and InfluxDB for integration tests and benchmarks, started through the same shell
 * scripts as the dev stack (scripts/mosquitto.sh, scripts/influxdb.sh), so a test exercises the
 * configuration that runs in development: the no-loss broker settings, the retention policies of
 * devices/contract/influx-layout.ts.
 *
 * Every instance listens on 127.0.0.1 on free ports with a temp data dir. `stop()` / `kill9()` keep the
 * data dir so `start()` brings the same instance back (same port, same data); `dispose()` is the final
 * stop and removes a temp data dir. Processes never outlive the test process: an 'exit' hook (and
 * SIGINT/SIGTERM/SIGHUP) SIGKILLs whatever is still running and removes the temp dirs.
 *
 * Vitest pattern:
 *
 *   let stack: Stack;
 *   beforeAll(async () => { stack = await startStack(); });
 *   afterAll(async () => { await stack?.dispose(); });
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { INFLUX_DB_DEFAULT } from '../../devices/contract/influx-layout.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT_TIMEOUT_MS = 90_000;

// ---------------------------------------------------------------------------------------------------
// Process bookkeeping: everything started here dies with this process.

const livePids = new Set<number>();
const tempDirs = new Set<string>();

function cleanupSync(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  livePids.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      cleanupSync();
      // Only when nobody else handles the signal: re-create the default "terminate" behaviour that
      // adding a listener removed (Node docs, "Signal events").
      if (process.listenerCount(signal) === 1) process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** A daemon started by the scripts is detached (setsid) and reparented; a zombie of it counts as dead. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 after the parenthesised command name (proc(5)).
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitDead(pid: number): Promise<void> {
  while (pidAlive(pid)) await new Promise((r) => setTimeout(r, 20));
}

function readPid(file: string): number {
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no valid PID in ${file}`);
  return pid;
}

function runScript(script: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(REPO_ROOT, 'scripts', script), ...args], { timeout: SCRIPT_TIMEOUT_MS, cwd: REPO_ROOT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/${script} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it from the ephemeral range). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: no TCP address'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/**
 * Start/stop/kill9/dispose of one daemon driven by a script. Shared by both services.
 */
class ScriptedDaemon {
  private pid: number | null = null;
  private disposed = false;
  constructor(
    private readonly script: string,
    private readonly args: () => readonly string[],
    private readonly pidFile: string,
    private readonly dataDir: string,
    private readonly ownsDataDir: boolean,
  ) {}

  async start(): Promise<void> {
    if (this.disposed) throw new Error(`${this.script}: instance was disposed`);
    installExitHooks();
    await runScript(this.script, ['start', ...this.args()]);
    this.pid = readPid(this.pidFile);
    livePids.add(this.pid);
  }

  async stop(): Promise<void> {
    await runScript(this.script, ['stop', ...this.args()]);
    this.forget();
  }

  async kill9(): Promise<void> {
    const pid = this.pid;
    if (pid === null) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await waitDead(pid);
    this.forget();
    rmSync(this.pidFile, { force: true });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    if (this.pid !== null && pidAlive(this.pid)) await this.stop();
    this.disposed = true;
    if (this.ownsDataDir) {
      rmSync(this.dataDir, { recursive: true, force: true });
      tempDirs.delete(this.dataDir);
    }
  }

  private forget(): void {
    if (this.pid !== null) livePids.delete(this.pid);
    this.pid = null;
  }
}

/** Starts a daemon on a free port, retrying with another port when one was taken in the meantime. */
async function startOnFreePorts<T extends { start(): Promise<void> }>(explicitPort: boolean, make: () => Promise<T>): Promise<T> {
  const attempts = explicitPort ? 1 : 3;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const handle = await make();
    try {
      await handle.start();
      return handle;
    } catch (error) {
      lastError = error;
      if (!(error instanceof Error && /already in use|did not become ready|did not answer/.test(error.message))) throw error;
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------------------------------------------
// Mosquitto

export interface MosquittoHandle {
  port: number;
  url: string;
  dataDir: string;
  /** Starts (or restarts after stop/kill9) the broker on the same port and data dir. */
  start(): Promise<void>;
  /** SIGTERM: the broker saves its persistence file (mosquitto.conf(5), "persistence"). */
  stop(): Promise<void>;
  /** SIGKILL: a crash; whatever was not yet autosaved is lost. */
  kill9(): Promise<void>;
  /** Final stop; removes a temp data dir. */
  dispose(): Promise<void>;
}

export async function startMosquitto(opts: { port?: number; dataDir?: string; extraConfig?: string } = {}): Promise<MosquittoHandle> {
  return startOnFreePorts(opts.port !== undefined, async () => {
    const port = opts.port ?? (await freePort());
    const dataDir = opts.dataDir ?? makeTempDir('itorg-mosquitto-');
    const args = ['--data-dir', dataDir, '--port', String(port)];
    if (opts.extraConfig !== undefined) {
      const extraFile = join(dataDir, 'extra.conf');
      writeFileSync(extraFile, `${opts.extraConfig}\n`);
      args.push('--extra-config', extraFile);
    }
    const daemon = new ScriptedDaemon('mosquitto.sh', () => args, join(dataDir, 'mosquitto.pid'), dataDir, opts.dataDir === undefined);
    return {
      port,
      url: `mqtt://127.0.0.1:${port}`,
      dataDir,
      start: () => daemon.start(),
      stop: () => daemon.stop(),
      kill9: () => daemon.kill9(),
      dispose: () => daemon.dispose(),
    };
  });
}

// ---------------------------------------------------------------------------------------------------
// InfluxDB

export interface InfluxHandle {
  port: number;
  url: string;
  db: string;
  dataDir: string;
  /** Starts (or restarts after stop/kill9) influxd on the same ports and data dir. */
  start(): Promise<void>;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  /** Final stop; removes a temp data dir. */
  dispose(): Promise<void>;
  /** Raw /query response (epoch=ms) for one or more statements; throws on any statement error. */
  query<T = unknown>(influxql: string): Promise<T>;
  /** rows of a SELECT as objects (`time` in ms; tags of GROUP BY series merged into each row) */
  select(influxql: string): Promise<Record<string, unknown>[]>;
  /**
   * Points in a measurement (of the default RP unless given as `"rp"."m"`). With `field`: points that
   * have that field (COUNT). Without: every point, counted exactly by reading them (a point may lack any
   * given field), which costs a full read; benchmarks should pass a field every point carries.
   */
  count(measurement: string, field?: string): Promise<number>;
}

/** InfluxDB's v1 `/query` response (InfluxQL), shared by the tests and the benchmarks. */
export const seriesSchema = z.object({
  name: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  columns: z.array(z.string()),
  values: z.array(z.array(z.unknown())).optional(),
});
export const queryResponseSchema = z.object({
  results: z.array(
    z.object({
      statement_id: z.number().optional(),
      series: z.array(seriesSchema).optional(),
      error: z.string().optional(),
    }),
  ),
  error: z.string().optional(),
});
export type Series = z.infer<typeof seriesSchema>;

function quoteMeasurement(measurement: string): string {
  return measurement.includes('"') ? measurement : `"${measurement.replace(/\\/g, '\\\\')}"`;
}

function rowsOf(series: readonly Series[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const s of series) {
    for (const values of s.values ?? []) {
      const row: Record<string, unknown> = { ...s.tags };
      s.columns.forEach((column, i) => {
        row[column] = values[i];
      });
      rows.push(row);
    }
  }
  return rows;
}

export async function startInfluxDB(opts: { port?: number; dataDir?: string; db?: string } = {}): Promise<InfluxHandle> {
  const db = opts.db ?? INFLUX_DB_DEFAULT;
  return startOnFreePorts(opts.port !== undefined, async () => {
    const port = opts.port ?? (await freePort());
    const rpcPort = await freePort();
    const dataDir = opts.dataDir ?? makeTempDir('itorg-influxdb-');
    const args = ['--data-dir', dataDir, '--port', String(port), '--rpc-port', String(rpcPort), '--db', db];
    const daemon = new ScriptedDaemon('influxdb.sh', () => args, join(dataDir, 'influxdb.pid'), dataDir, opts.dataDir === undefined);
    const url = `http://127.0.0.1:${port}`;

    async function rawQuery(influxql: string): Promise<z.infer<typeof queryResponseSchema>> {
      const body = new URLSearchParams({ q: influxql, db, epoch: 'ms' });
      const response = await fetch(`${url}/query`, { method: 'POST', body });
      const text = await response.text();
      if (!response.ok) throw new Error(`InfluxDB ${response.status} for ${influxql}: ${text}`);
      const parsed = queryResponseSchema.parse(JSON.parse(text));
      const failed = parsed.error ?? parsed.results.find((r) => r.error !== undefined)?.error;
      if (failed !== undefined) throw new Error(`InfluxDB error for ${influxql}: ${failed}`);
      return parsed;
    }

    async function select(influxql: string): Promise<Record<string, unknown>[]> {
      const parsed = await rawQuery(influxql);
      return rowsOf(parsed.results.flatMap((r) => r.series ?? []));
    }

    async function count(measurement: string, field?: string): Promise<number> {
      const from = quoteMeasurement(measurement);
      if (field === undefined) return (await select(`SELECT * FROM ${from}`)).length;
      // COUNT without GROUP BY is over all series; one row, or no series for an empty measurement.
      const rows = await select(`SELECT COUNT("${field}") FROM ${from}`);
      const value = rows[0]?.['count'];
      return typeof value === 'number' ? value : 0;
    }

    return {
      port,
      url,
      db,
      dataDir,
      start: () => daemon.start(),
      stop: () => daemon.stop(),
      kill9: () => daemon.kill9(),
      dispose: () => daemon.dispose(),
      query: async <T = unknown>(influxql: string) => (await rawQuery(influxql)) as T,
      select,
      count,
    };
  });
}

// ---------------------------------------------------------------------------------------------------

export interface Stack {
  mqtt: MosquittoHandle;
  influx: InfluxHandle;
  dispose(): Promise<void>;
}

/** Both services, started in parallel. */
export async function startStack(opts: { mosquitto?: Parameters<typeof startMosquitto>[0]; influx?: Parameters<typeof startInfluxDB>[0] } = {}): Promise<Stack> {
  const [mqtt, influx] = await Promise.allSettled([startMosquitto(opts.mosquitto), startInfluxDB(opts.influx)]);
  if (mqtt.status === 'rejected' || influx.status === 'rejected') {
    if (mqtt.status === 'fulfilled') await mqtt.value.dispose();
    if (influx.status === 'fulfilled') await influx.value.dispose();
    throw mqtt.status === 'rejected' ? mqtt.reason : (influx as PromiseRejectedResult).reason;
  }
  return {
    mqtt: mqtt.value,
    influx: influx.value,
    dispose: async () => {
      await Promise.all([mqtt.value.dispose(), influx.value.dispose()]);
    },
  };
}

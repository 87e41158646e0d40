/**
 * The stack's whole source path, every part real: the LoRaWAN simulator publishes ChirpStack v4
 * uplink events with Milesight payload bytes on a site Mosquitto; two gateway processes (as
 * scripts/stack.sh runs them, configs from scripts/gateway-configs.ts) decode them into their
 * outboxes and relay to a central Mosquitto; the ingest process writes InfluxDB.
 *
 * heggedal's gateway has the simulator inventory in its config `devices`; royken's has none and
 * must take model and reporting interval from the LNS tags. Expected points are derived from the
 * simulator's readings for the same range (re-simulated here with the same seed), by the rules of
 * the vendor formats, not from anything the pipeline reports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingInput } from '../../devices/contract/reading.schema.ts';
import { loadTorgConfig } from '../../devices/torg/torg-config.schema.ts';
import { buildGatewayConfigs, writeGatewayConfigs, type GeneratedGatewayConfig } from '../../scripts/gateway-configs.ts';
import { runLnsSimulator } from '../../simulator/lorawan/main.ts';
import type { LnsPublishStats } from '../../simulator/lorawan/lns-publisher.ts';
import { TorgSimulator } from '../../simulator/model.ts';
import { freePort, startInfluxDB, startMosquitto, type InfluxHandle, type MosquittoHandle } from '../support/services.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TORG_CONFIG = join(REPO_ROOT, 'config/torg.asker.sample.json');
const TORG = ['heggedal', 'royken'] as const;
const SEED = 7;
const STEP_S = 60;
const STEPS = 90;
const FAULT_RATE = 0.3;
/** Models whose payload has a battery channel (WS301, AM319: Milesight READMEs, 0x01 0x75). */
const BATTERY_MODELS = new Set(['milesight-ws301', 'milesight-am319']);
/** VS121 people_count_all is one byte (VS_Series/VS121/README.md). */
const VS121_MAX_COUNT = 255;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if ((v !== undefined && done(v)) || Date.now() > until) {
      if (v === undefined) throw new Error('probe kept failing');
      return v;
    }
    await sleep(250);
  }
}

interface Child {
  name: string;
  child: ChildProcess;
  exited: Promise<number | string>;
  output: () => string;
}
function spawnTs(name: string, entry: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  // Kept for failure messages; bounded so a chatty child cannot grow the test's memory.
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { name, child, exited, output: () => out };
}
async function stopChild(c: Child | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string | undefined> {
  if (c === undefined) return undefined;
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill(signal);
  return c.exited;
}

/** The most recent weekday 12:00 UTC at least 2 h ago: inside opening hours, so there is traffic to count. */
function middayOfRecentWeekday(nowMs: number): number {
  const d = new Date(nowMs - 2 * 3_600_000);
  const t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 12);
  let candidate = t <= d.getTime() ? t : t - 86_400_000;
  while ([0, 6].includes(new Date(candidate).getUTCDay())) candidate -= 86_400_000;
  return candidate;
}

type Row = Record<string, unknown>;
interface Expected {
  /** measurement → identity (device|line|time ms) → the simulator reading(s) behind that point */
  points: Map<string, Map<string, ReadingInput[]>>;
  devices: Set<string>;
}

/** What InfluxDB must hold for one torg: the simulator's readings, as the vendor formats carry them. */
function expectedFor(torgId: string, startMs: number): Expected {
  const torg = loadTorgConfig(TORG_CONFIG).torg.find((t) => t.id === torgId)!;
  const sim = new TorgSimulator(torg, { seed: SEED, startMs, stepSeconds: STEP_S, faultRate: FAULT_RATE });
  const model = new Map(sim.devices.map((d) => [d.id, d.model]));
  const produced: ReadingInput[] = [];
  for (let i = 0; i < STEPS; i++) produced.push(...sim.step().readings);

  const points = new Map<string, Map<string, ReadingInput[]>>(['counter', 'presence', 'door', 'climate', 'health'].map((m) => [m, new Map()]));
  const add = (m: string, id: string, r: ReadingInput) => {
    const at = points.get(m)!;
    at.set(id, [...(at.get(id) ?? []), r]);
  };
  /** device|time of every uplink: one per device per instant that has anything the payload can carry. */
  const uplinks = new Set<string>();
  for (const r of produced) {
    const t = Date.parse(r.time);
    const id = `${r.device}||${t}`;
    let carried = false;
    if (r.kind === 'counter') {
      add('counter', `${r.device}|${r.line ?? 'main'}|${t}`, r);
      carried = true;
    } else if (r.kind === 'presence' && r.count !== undefined && r.count <= VS121_MAX_COUNT) {
      add('presence', id, r);
      carried = true;
    } else if (r.kind === 'door' && r.open !== undefined) {
      add('door', id, r);
      carried = true;
    } else if (r.kind === 'climate' && [r.temperature, r.humidity, r.co2, r.pressure].some((v) => v !== undefined)) {
      add('climate', id, r);
      carried = true;
    } else if (r.kind === 'health' && r.battery !== undefined && BATTERY_MODELS.has(model.get(r.device) ?? '')) {
      carried = true;
    }
    if (carried) uplinks.add(`${r.device}|${t}`);
  }
  // Every uplink carries radio metadata (rssi always), which the gateway stores as a health point
  // at the uplink's time; a battery value in the same uplink lands on the same point.
  for (const u of uplinks) {
    const [device, t] = u.split('|') as [string, string];
    const sims = produced.filter((r) => r.kind === 'health' && r.device === device && Date.parse(r.time) === Number(t));
    points.get('health')!.set(`${device}||${t}`, sims);
  }
  return { points, devices: new Set(sim.devices.map((d) => d.id)) };
}

function identity(measurement: string, row: Row): string {
  return `${String(row['device'])}|${measurement === 'counter' ? String(row['line']) : ''}|${String(row['time'])}`;
}

describe('stack: LoRaWAN simulator → site broker → gateways → central broker → ingest → InfluxDB', () => {
  let central: MosquittoHandle;
  let site: MosquittoHandle;
  let influx: InfluxHandle;
  let ingest: Child | undefined;
  const gateways: Child[] = [];
  let generated: GeneratedGatewayConfig[] = [];
  let dir: string;
  let stats: LnsPublishStats;
  let startMs: number;

  beforeAll(async () => {
    [central, site, influx] = await Promise.all([startMosquitto(), startMosquitto(), startInfluxDB()]);
    dir = mkdtempSync(join(tmpdir(), 'itorg-stack-'));
    const ingestPort = await freePort();
    ingest = spawnTs('ingest', 'ingest/main.ts', {
      INGEST_MQTT_URL: central.url,
      INGEST_INFLUX_URL: influx.url,
      INGEST_CLIENT_ID: 'stack-test-ingest',
      INGEST_HTTP_HOST: '127.0.0.1',
      INGEST_HTTP_PORT: String(ingestPort),
      INGEST_LOG_LEVEL: 'warn',
    });
    await waitFor(() => fetch(`http://127.0.0.1:${ingestPort}/healthz`).then((r) => r.status), (s) => s === 200, 30_000);

    const torgConfig = loadTorgConfig(TORG_CONFIG);
    const common = { outDir: dir, centralUrl: central.url, siteUrl: site.url, httpPortBase: 1, httpHost: '127.0.0.1', reportIntervalSeconds: STEP_S };
    const built = [
      ...buildGatewayConfigs(torgConfig, { ...common, devices: true, torg: ['heggedal'] }),
      ...buildGatewayConfigs(torgConfig, { ...common, devices: false, torg: ['royken'] }),
    ];
    generated = [];
    for (const g of built) {
      const port = await freePort();
      generated.push({ ...g, httpPort: port, config: { ...g.config, http: { ...g.config.http, port }, logLevel: 'warn' } });
    }
    writeGatewayConfigs(generated);
    for (const g of generated) gateways.push(spawnTs(`gateway-${g.torg}`, 'gateway/main.ts', { GATEWAY_CONFIG: g.file }));
    for (const g of generated) {
      await waitFor(
        () => fetch(`http://127.0.0.1:${g.httpPort}/healthz`).then((r) => r.json() as Promise<{ uplink: string }>),
        (h) => h.uplink === 'online',
        30_000,
      );
    }

    const now = middayOfRecentWeekday(Date.now());
    startMs = Math.floor(now / (STEP_S * 1000)) * STEP_S * 1000 - STEPS * STEP_S * 1000;
    stats = await runLnsSimulator(
      {
        mqttUrl: site.url,
        torgConfig: TORG_CONFIG,
        seed: SEED,
        realtime: false,
        speed: 1,
        catchUpHours: 24,
        backfillDays: (STEPS * STEP_S) / 86_400,
        step: STEP_S,
        maxInFlight: 32,
        torg: [...TORG],
        faultRate: FAULT_RATE,
        printDeviceModels: false,
      },
      { clock: () => now, sleep, logger: pino({ level: 'silent' }), stop: { stopped: false } },
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => stopChild(g, 'SIGKILL')));
    await stopChild(ingest, 'SIGKILL');
    await Promise.all([central?.dispose(), site?.dispose(), influx?.dispose()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the simulator published every step as uplinks, nothing unencodable', () => {
    expect(stats.failedUplinks).toBe(0);
    expect(stats.unencodable).toEqual({});
    expect(stats.uplinks).toBeGreaterThan(0);
  });

  for (const torg of TORG) {
    it(`${torg}: InfluxDB holds exactly the simulator's points, with its values`, async () => {
      const expected = expectedFor(torg, startMs);
      const total = [...expected.points.values()].reduce((n, m) => n + m.size, 0);
      const countAll = async () => {
        let n = 0;
        for (const m of expected.points.keys()) n += (await influx.select(`SELECT * FROM "${m}" WHERE torg = '${torg}'`)).length;
        return n;
      };
      const stored = await waitFor(countAll, (n) => n >= total, 60_000);
      expect(stored).toBe(total);
      // Sanity of the range: opening hours at midday, so people were counted.
      const counters = [...expected.points.get('counter')!.values()].flat();
      expect(counters.reduce((n, r) => n + (r.kind === 'counter' ? (r.periodIn ?? 0) : 0), 0)).toBeGreaterThan(0);

      for (const [measurement, want] of expected.points) {
        const rows = await influx.select(`SELECT * FROM "${measurement}" WHERE torg = '${torg}'`);
        const got = new Map(rows.map((r) => [identity(measurement, r), r]));
        expect([...got.keys()].sort(), measurement).toEqual([...want.keys()].sort());
        for (const [id, readings] of want) {
          const row = got.get(id)!;
          expect(expected.devices.has(String(row['device'])), `${id} is a ${torg} device`).toBe(true);
          for (const r of readings) {
            if (r.kind === 'counter') {
              // Integers in the VS133 format: exact. periodSeconds is the simulator's step (60 s),
              // which reaches the decoder only through the gateway config or the LNS tag.
              expect(row, id).toMatchObject({ periodIn: r.periodIn, periodOut: r.periodOut, totalIn: r.totalIn, totalOut: r.totalOut, periodSeconds: STEP_S });
            } else if (r.kind === 'presence') {
              expect(row, id).toMatchObject({ occupied: r.occupied, count: r.count });
            } else if (r.kind === 'door') {
              expect(row['open'], id).toBe(r.open);
            } else if (r.kind === 'climate') {
              // AM319 resolutions: 0.1 °C, 0.5 %RH, 1 ppm, 0.1 hPa; a value is within half of it.
              expect(Math.abs(Number(row['temperature']) - r.temperature!), id).toBeLessThanOrEqual(0.05 + 1e-9);
              expect(Math.abs(Number(row['humidity']) - r.humidity!), id).toBeLessThanOrEqual(0.25 + 1e-9);
              expect(row['co2'], id).toBe(r.co2);
              expect(Math.abs(Number(row['pressure']) - r.pressure!), id).toBeLessThanOrEqual(0.05 + 1e-9);
            } else if (r.kind === 'health') {
              // The simulator's radio figures travel as the uplink's metadata; proto3 JSON omits an SNR of 0.
              expect(row['rssi'], id).toBe(r.rssi);
              expect(row['snr'], id).toBe(r.snr === 0 ? null : r.snr);
              // Battery: uint8 % in the WS301/AM319 payload, so within half a percent.
              if (r.battery !== undefined) expect(Math.abs(Number(row['battery']) - r.battery), id).toBeLessThanOrEqual(0.5 + 1e-9);
            }
          }
          if (measurement === 'health') expect(typeof row['rssi'], id).toBe('number');
        }
      }
    }, 90_000);
  }

  it('the gateways rejected nothing, emptied their outboxes and stop cleanly on SIGTERM', async () => {
    for (const g of generated) {
      const base = `http://127.0.0.1:${g.httpPort}`;
      expect(((await (await fetch(`${base}/rejected`)).json()) as { total: number }).total, g.torg).toBe(0);
      const h = await waitFor(() => fetch(`${base}/healthz`).then((r) => r.json() as Promise<{ outbox: { depth: number } }>), (x) => x.outbox.depth === 0, 30_000);
      expect(h.outbox.depth, g.torg).toBe(0);
    }
    const codes = await Promise.all(gateways.map((g) => stopChild(g)));
    expect(codes, gateways.map((g) => g.output()).join('\n')).toEqual(gateways.map(() => 0));
  });
});

/**
 * The local stack as `bash scripts/stack.sh up` runs it, secure by default, on free ports with a temp
 * data dir: central Mosquitto with login and the ACL generated from the registry, InfluxDB, the
 * service in production mode, seven gateways that provision themselves with their torg's key, the
 * API and live page. The LoRaWAN simulator runs here (STACK_SIMULATOR=external), over a fixed range, and
 * publishes ChirpStack v4 uplink events with Milesight payload bytes on the stack's site broker; its
 * installer tags let config/assignment-rules.stack.json place every device.
 *
 * Expected points are derived from the simulator's readings for the same range (re-simulated here
 * with the same seed), by the rules of the vendor formats, not from anything the pipeline reports;
 * expected places from the torg model and the simulator's inventory.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingInput } from '../../devices/contract/reading.schema.ts';
import { loadTorgConfig } from '../../devices/torg/torg-config.schema.ts';
import { runLnsSimulator } from '../../simulator/lorawan/main.ts';
import type { LnsPublishStats } from '../../simulator/lorawan/lns-publisher.ts';
import { TorgSimulator, buildInventory } from '../../simulator/model.ts';
import { freePort, queryResponseSchema } from '../support/services.ts';

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

const DB = 'innbyggertorg';

interface Ports {
  mqtt: number;
  site: number;
  influx: number;
  influxRpc: number;
  ingestHttp: number;
  api: number;
  /** The i-th gateway (torg config order) serves HTTP on gatewayBase + i. */
  gatewayBase: number;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Free ports for every listener; the gateways need `gateways` consecutive ones. */
async function allocatePorts(gateways: number): Promise<Ports> {
  const taken = new Set<number>();
  const one = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  const ports = { mqtt: await one(), site: await one(), influx: await one(), influxRpc: await one(), ingestHttp: await one(), api: await one() };
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    const range = Array.from({ length: gateways }, (_, i) => base + i);
    if (range.some((p) => taken.has(p) || p > 65_535)) continue;
    if ((await Promise.all(range.map(portFree))).every(Boolean)) return { ...ports, gatewayBase: base };
  }
  throw new Error(`no ${gateways} consecutive free ports`);
}

function stackEnv(dir: string, p: Ports): Record<string, string> {
  return {
    STACK_DATA_DIR: dir,
    STACK_MQTT_PORT: String(p.mqtt),
    STACK_SITE_MQTT_PORT: String(p.site),
    STACK_INFLUX_PORT: String(p.influx),
    STACK_INFLUX_RPC_PORT: String(p.influxRpc),
    STACK_INGEST_HTTP_PORT: String(p.ingestHttp),
    STACK_API_PORT: String(p.api),
    STACK_GATEWAY_HTTP_BASE: String(p.gatewayBase),
    STACK_DB: DB,
    STACK_SIMULATOR: 'external',
    SIM_TORG_CONFIG: TORG_CONFIG,
    SIM_STEP: String(STEP_S),
  };
}

/** Runs scripts/stack.sh; resolves with its exit code and combined output. */
function runStack(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // STACK_SECURITY is left unset: the default must be the secure stack.
    const { STACK_SECURITY: _ignored, ...base } = process.env;
    execFile('bash', [join(REPO_ROOT, 'scripts/stack.sh'), ...args], { cwd: REPO_ROOT, env: { ...base, ...env }, timeout: 200_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

function readSecrets(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(dir, 'secrets.env'), 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Rows of a SELECT (epoch ms), tags of GROUP BY series merged in. */
async function influxSelect(url: string, db: string, q: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/query?db=${db}&epoch=ms&q=${encodeURIComponent(q)}`);
  const body = queryResponseSchema.parse(await res.json());
  const rows: Record<string, unknown>[] = [];
  for (const r of body.results) {
    if (r.error) throw new Error(r.error);
    for (const s of r.series ?? []) for (const v of s.values ?? []) rows.push({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) });
  }
  return rows;
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

describe('stack (secure default): scripts/stack.sh up → LoRaWAN simulator → gateways that provision themselves → central broker (login + ACL) → service → InfluxDB', () => {
  let dir: string;
  let ports: Ports;
  let token: string;
  let stats: LnsPublishStats;
  let startMs: number;
  let upOutput = '';
  const torgConfig = loadTorgConfig(TORG_CONFIG);
  const allTorg = torgConfig.torg.map((t) => t.id);
  const stack = (...args: string[]) => runStack(args, stackEnv(dir, ports));
  const api = async (path: string, auth = true): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`http://127.0.0.1:${ports.api}${path}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const select = (q: string) => influxSelect(`http://127.0.0.1:${ports.influx}`, DB, q);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'itorg-stack-'));
    ports = await allocatePorts(allTorg.length);
    // The simulator runs here (a fixed backfill range, so the expected points can be re-simulated);
    // everything else is the stack as `bash scripts/stack.sh up` starts it.
    const up = await stack('up', '--detach', '--no-install');
    upOutput = up.output;
    expect(up.code, up.output).toBe(0);
    token = readSecrets(dir)['STACK_API_TOKEN'] ?? '';
    for (let i = 0; i < allTorg.length; i++) {
      await waitFor(
        () => fetch(`http://127.0.0.1:${ports.gatewayBase + i}/healthz`).then((r) => r.json() as Promise<{ uplink: string }>),
        (h) => h.uplink === 'online',
        60_000,
      );
    }

    const now = middayOfRecentWeekday(Date.now());
    startMs = Math.floor(now / (STEP_S * 1000)) * STEP_S * 1000 - STEPS * STEP_S * 1000;
    stats = await runLnsSimulator(
      {
        mqttUrl: `mqtt://127.0.0.1:${ports.site}`,
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
  }, 240_000);

  afterAll(async () => {
    if (dir === undefined) return;
    const down = await stack('down');
    if (down.code !== 0) process.stderr.write(down.output);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('the central broker refuses an anonymous client; the secrets file is private and its token is printed for sign-in', async () => {
    // MQTT 3.1.1 §3.2.2.3: return code 5, "Connection Refused, not authorized".
    const err = await mqtt
      .connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { reconnectPeriod: 0, connectTimeout: 5_000, clientId: 'anonymous-probe' })
      .then(async (c) => {
        await c.endAsync();
        return null;
      })
      .catch((e: unknown) => e as { code?: unknown });
    expect(err).not.toBeNull();
    expect(err?.code).toBe(5);
    expect(statSync(join(dir, 'secrets.env')).mode & 0o777).toBe(0o600);
    expect(token).toMatch(/^itorg_/);
    expect(upOutput).toContain(token);
    expect(upOutput).toContain(`http://127.0.0.1:${ports.api}/`);
    // The other secrets are not printed.
    for (const [k, v] of Object.entries(readSecrets(dir))) if (k !== 'STACK_API_TOKEN') expect(upOutput, k).not.toContain(v);
  });

  it('every gateway provisioned itself: credentials in its data dir, none in its config, registered in the registry', async () => {
    for (const t of allTorg) {
      const config = JSON.parse(readFileSync(join(dir, 'gateways', `${t}.json`), 'utf8')) as { central: Record<string, unknown>; devMode?: boolean };
      expect(config.central['username'], t).toBeUndefined();
      expect(config.devMode ?? false, t).toBe(false);
      const file = join(dir, 'gateways', t, 'credentials.json');
      expect(existsSync(file), file).toBe(true);
      // The broker user the platform issues: gw-<torg>-<gateway>, the stack's gateway being gw-<torg>.
      expect((JSON.parse(readFileSync(file, 'utf8')) as { username: string }).username).toBe(`gw-${t}-gw-${t}`);
    }
    const r = await api('/api/v1/gateways');
    expect(r.status).toBe(200);
    const gws = (r.body as { gateways: { torg: string; id: string; status: string }[] }).gateways;
    expect(gws.map((g) => `${g.torg}/${g.id}/${g.status}`).sort()).toEqual(allTorg.map((t) => `${t}/gw-${t}/active`).sort());
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
        for (const m of expected.points.keys()) n += (await select(`SELECT * FROM "${m}" WHERE torg = '${torg}'`)).length;
        return n;
      };
      const stored = await waitFor(countAll, (n) => n >= total, 60_000);
      expect(stored).toBe(total);
      // Sanity of the range: opening hours at midday, so people were counted.
      const counters = [...expected.points.get('counter')!.values()].flat();
      expect(counters.reduce((n, r) => n + (r.kind === 'counter' ? (r.periodIn ?? 0) : 0), 0)).toBeGreaterThan(0);

      for (const [measurement, want] of expected.points) {
        const rows = await select(`SELECT * FROM "${measurement}" WHERE torg = '${torg}'`);
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


  it('the simulated devices became active by the assignment rules, each where the simulator installed it', async () => {
    const active = await api('/api/v1/devices?status=active');
    expect(active.status).toBe(200);
    const devices = (active.body as { devices: { id: string; torg: string; assignment: { place: unknown } | null }[] }).devices;
    expect(devices.length).toBeGreaterThan(0);
    const byId = new Map(devices.map((d) => [d.id, d]));
    for (const torgId of TORG) {
      const torg = torgConfig.torg.find((t) => t.id === torgId)!;
      const expected = expectedFor(torgId, startMs);
      const reported = new Set([...expected.points.values()].flatMap((m) => [...m.values()].flat().map((r) => r.device)));
      expect(reported.size, torgId).toBeGreaterThan(0);
      for (const d of buildInventory(torg).filter((x) => reported.has(x.id))) {
        // Where the torg model puts it: a zone sensor in its zone; a counter or door contact at its
        // entrance, on the entrance's first counting line.
        const place = d.zone !== undefined ? { type: 'zone', zone: d.zone } : { type: 'entrance', entrance: d.entrance, line: torg.entrances.find((e) => e.id === d.entrance)!.lines[0] };
        expect(byId.get(d.id)?.assignment?.place, `${torgId} ${d.role} ${d.id}`).toEqual(place);
      }
    }
    const pending = await api('/api/v1/devices?status=pending');
    expect((pending.body as { devices: unknown[] }).devices).toEqual([]);
  });

  it('the live API answers with the admin token, and refuses without one', async () => {
    const live = await api('/api/v1/live');
    expect(live.status).toBe(200);
    expect((live.body as { torg: { id: string }[] }).torg.map((t) => t.id).sort()).toEqual([...allTorg].sort());
    expect((await api('/api/v1/live', false)).status).toBe(401);
  });

  it('the gateways rejected nothing and emptied their outboxes; `stack.sh down` stops everything', async () => {
    for (let i = 0; i < allTorg.length; i++) {
      const base = `http://127.0.0.1:${ports.gatewayBase + i}`;
      expect(((await (await fetch(`${base}/rejected`)).json()) as { total: number }).total, allTorg[i]).toBe(0);
      const h = await waitFor(() => fetch(`${base}/healthz`).then((r) => r.json() as Promise<{ outbox: { depth: number } }>), (x) => x.outbox.depth === 0, 30_000);
      expect(h.outbox.depth, allTorg[i]).toBe(0);
    }
    const down = await stack('down');
    expect(down.code, down.output).toBe(0);
    const status = await stack('status');
    expect(status.code).not.toBe(0);
    // Every component reported stopped: no line says up or running.
    expect(status.output.split('\n').filter((l) => / up \(|: running/.test(l))).toEqual([]);
  }, 120_000);
});

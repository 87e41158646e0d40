/**
 * kill -9 mid-drain: a gateway with a backlog of 100 000 readings is killed while draining and
 * restarted; every reading reaches InfluxDB once in effect (real Mosquitto, real ingest, real
 * InfluxDB). Readings re-sent after the kill land on the same points (idempotent layout), so the
 * number of distinct points must be exactly 100 000.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import type { Reading } from '../../devices/contract/reading.schema.ts';
import { systemClock } from '../../gateway/clock.ts';
import type { GatewayConfigInput } from '../../gateway/config.ts';
import { SqliteOutbox } from '../../gateway/outbox/sqlite-outbox.ts';
import type { IngestHandle } from '../../ingest/main.ts';
import { freePort, startStack, type Stack } from '../support/services.ts';
import { silent, startTestIngest, waitForValue } from './gateway-helpers.ts';

const N = 100_000;
const DEVICES = 100;
const bounds = { maxReadings: 1_000_000, maxBytes: 1_000_000_000, maxAgeMs: 30 * 86_400_000 };

async function healthDepth(port: number): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  const body = (await res.json()) as { outbox: { depth: number } };
  return body.outbox.depth;
}

describe('gateway kill -9 during a 100 000-reading drain', () => {
  let stack: Stack;
  let ingest: IngestHandle;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    stack = await startStack();
    ingest = await startTestIngest(stack, 'ingest-kill9-test');
    dir = mkdtempSync(join(tmpdir(), 'gw-kill9-'));
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await ingest?.stop();
    await stack?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every reading exactly once in effect after kill -9 and restart', async () => {
    const outboxPath = join(dir, 'outbox.db');
    // Backlog: device d (0..99) has readings k = 0..999, one per second, ending an hour ago.
    const t0 = Date.now() - 3_600_000 - 1000 * 1000;
    const backlog = new SqliteOutbox({ path: outboxPath, bounds, clock: systemClock, logger: silent });
    for (let start = 0; start < N; start += 10_000) {
      const batch: Reading[] = [];
      for (let i = start; i < start + 10_000; i++) {
        const device = `a8404100000000${String(i % DEVICES).padStart(2, '0')}`;
        batch.push({ kind: 'climate', device, time: new Date(t0 + Math.floor(i / DEVICES) * 1000).toISOString(), temperature: (i % 500) / 10 });
      }
      await backlog.append(batch);
    }
    expect(backlog.depth()).toBe(N);
    await backlog.close();

    const httpPort = await freePort();
    const config: GatewayConfigInput = {
      gateway: 'gw-kill9',
      torg: 'asker-sentrum',
      devMode: true,
      central: { url: stack.mqtt.url },
      outbox: { path: outboxPath },
      http: { host: '127.0.0.1', port: httpPort },
      logLevel: 'warn',
    };
    const configPath = join(dir, 'gateway.json');
    writeFileSync(configPath, JSON.stringify(config));
    const spawnGateway = (): ChildProcess => {
      const c = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts', configPath], { cwd: process.cwd(), stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(c);
      return c;
    };

    // Birth and death messages of the gateway, in arrival order.
    const states: { online: boolean; bdSeq: number; startedAt?: string }[] = [];
    const watcher = await mqtt.connectAsync(stack.mqtt.url, { clientId: 'kill9-state-watcher' });
    watcher.on('message', (_t, payload) => states.push(JSON.parse(payload.toString('utf8')) as (typeof states)[number]));
    await watcher.subscribeAsync(topics.gatewayState('asker-sentrum', 'gw-kill9'), { qos: 1 });

    const first = spawnGateway();
    // Kill once the drain is well under way but far from done.
    await waitForValue('drain under way', async () => {
      const d = await healthDepth(httpPort);
      return d !== undefined && d < N - 20_000 ? d : undefined;
    }, 60_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    const afterKill = new SqliteOutbox({ path: outboxPath, bounds, clock: systemClock, logger: silent });
    const left = afterKill.depth();
    await afterKill.close();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(N);

    const second = spawnGateway();
    await waitForValue('outbox drained', async () => ((await healthDepth(httpPort)) === 0 ? true : undefined), 120_000);
    const count = await waitForValue(
      'all points in InfluxDB',
      async () => {
        const c = await stack.influx.count('"raw"."climate"', 'temperature');
        return c >= N ? c : undefined;
      },
      120_000,
    );
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
    await waitForValue('death after SIGTERM', async () => (states.length >= 4 ? true : undefined), 10_000);
    await watcher.endAsync();
    // Session 0: birth, then the will the broker published for the killed connection (same bdSeq).
    // Session 1 (restart): birth with the next bdSeq, then an explicit death on SIGTERM.
    expect(states.map((m) => [m.online, m.bdSeq])).toEqual([
      [true, 0],
      [false, 0],
      [true, 1],
      [false, 1],
    ]);
    expect(typeof states[0]!.startedAt).toBe('string');
    expect(count).toBe(N);
    // Spot checks against values computed from the generator above: reading i = 12 345 is device 45,
    // k = 123, temperature (12345 % 500) / 10 = 34.5; reading i = 99 999 is device 99, k = 999, 49.9.
    const rows = await stack.influx.select(
      `SELECT temperature FROM "raw"."climate" WHERE device = 'a840410000000045' AND time = ${(t0 + 123_000) * 1_000_000}`,
    );
    expect(rows.map((r) => r.temperature)).toEqual([34.5]);
    const last = await stack.influx.select(
      `SELECT temperature FROM "raw"."climate" WHERE device = 'a840410000000099' AND time = ${(t0 + 999_000) * 1_000_000}`,
    );
    expect(last.map((r) => r.temperature)).toEqual([49.9]);
  });
});

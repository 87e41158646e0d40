/**
 * Drain rate of the uplink: a backlog of 100 000 readings in the outbox, published to a real
 * Mosquitto (PUBACK = delivered), while 1 000 new readings/s keep being appended.
 * Run: `npx tsx test/gateway/uplink/drain.bench.ts`. Prints readings/s; asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Reading } from '../../../devices/contract/reading.schema.ts';
import { systemClock } from '../../../gateway/clock.ts';
import { createGatewayMetrics } from '../../../gateway/metrics.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { DurableCounter } from '../../../gateway/uplink/durable-counter.ts';
import { MqttUplink } from '../../../gateway/uplink/mqtt-uplink.ts';
import { startMosquitto } from '../../support/services.ts';
import { climate } from '../outbox/outbox.contract.ts';

const logger = pino({ level: 'silent' });
const broker = await startMosquitto();
const dir = mkdtempSync(join(tmpdir(), 'drain-bench-'));
const outbox = new SqliteOutbox({
  path: join(dir, 'o.db'),
  bounds: { maxReadings: 10_000_000, maxBytes: 10_000_000_000, maxAgeMs: 30 * 86_400_000 },
  clock: systemClock,
  logger,
});
for (let i = 0; i < 100_000; i += 10_000) await outbox.append(Array.from({ length: 10_000 }, (_, k) => climate(i + k, `dev-${(i + k) % 100}`)));

for (const [perEnvelope, window] of [
  [500, 8],
  [100, 8],
  [500, 1],
] as const) {
  if (outbox.depth() === 0) {
    for (let i = 0; i < 100_000; i += 10_000) await outbox.append(Array.from({ length: 10_000 }, (_, k) => climate(i + k, `dev-${(i + k) % 100}`)));
  }
  const metrics = createGatewayMetrics({ defaultMetrics: false, outbox: () => outbox, uplinkState: () => 'online' });
  const uplink = new MqttUplink({
    url: broker.url,
    clientId: 'drain-bench',
    torg: 'asker-sentrum',
    gateway: 'gw-bench',
    outbox,
    clock: systemClock,
    logger,
    metrics,
    seq: new DurableCounter(join(dir, 'seq.json'), 1000),
    bdSeq: new DurableCounter(join(dir, 'bd.json'), 1),
    maxReadingsPerEnvelope: perEnvelope,
    maxInFlight: window,
  });
  let live = 0;
  const t0 = performance.now();
  // New readings keep arriving during the drain: 10 every 10 ms.
  const feeder = setInterval(() => {
    const batch: Reading[] = Array.from({ length: 10 }, () => climate(200_000 + live++, 'dev-live'));
    outbox.append(batch).catch((err: unknown) => console.error(err));
  }, 10);
  uplink.start();
  while (outbox.depth() > 0 || live < 100) await new Promise((r) => setTimeout(r, 20));
  const ms = performance.now() - t0;
  clearInterval(feeder);
  while (outbox.depth() > 0) await new Promise((r) => setTimeout(r, 20));
  await uplink.stop();
  const acked = (await metrics.readingsAcked.get()).values[0]?.value ?? 0;
  console.log(`${perEnvelope}/envelope, window ${window}: ${acked} readings (incl. ${live} live) in ${ms.toFixed(0)} ms = ${((acked / ms) * 1000).toFixed(0)} readings/s`);
}
await outbox.close();
await broker.dispose();
rmSync(dir, { recursive: true, force: true });

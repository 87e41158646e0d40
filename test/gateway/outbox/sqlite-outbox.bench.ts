/**
 * Cost of the durability policy: synchronous=FULL vs NORMAL in WAL mode, with and without group
 * commit. Run: `npx tsx test/gateway/outbox/sqlite-outbox.bench.ts`. Prints readings/s per case.
 * Benchmarks, not tests: speed is measured here, never asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../../gateway/clock.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { climate } from './outbox.contract.ts';

const bounds = { maxReadings: 10_000_000, maxBytes: 10_000_000_000, maxAgeMs: 86_400_000 };

async function run(sync: 'FULL' | 'NORMAL', mode: 'sequential' | 'concurrent', n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-bench-'));
  const o = new SqliteOutbox({ path: join(dir, 'o.db'), bounds, clock: systemClock, logger: pino({ level: 'silent' }), synchronous: sync });
  const t0 = performance.now();
  if (mode === 'sequential') {
    // One reading per append, each awaited: one commit (one fsync under FULL) per reading.
    for (let i = 0; i < n; i++) await o.append([climate(i)]);
  } else {
    // 100 sources appending one reading each at the same moment, repeated: group commit.
    for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, (_, k) => o.append([climate(i + k)])));
  }
  const ms = performance.now() - t0;
  await o.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`${sync.padEnd(6)} ${mode.padEnd(10)} ${n} readings: ${ms.toFixed(0)} ms, ${((n / ms) * 1000).toFixed(0)} readings/s, ${((ms / n) * 1000).toFixed(0)} µs/append`);
}

for (const sync of ['FULL', 'NORMAL'] as const) {
  await run(sync, 'sequential', 2_000);
  await run(sync, 'concurrent', 50_000);
}

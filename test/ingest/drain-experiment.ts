/**
 * Local experiment (not a test): publishes readings while the ingest is away, then times how long it
 * takes to drain them into InfluxDB. `npx tsx test/ingest/drain-experiment.ts [readings] [perMessage]`.
 * The proper benchmark is test/bench/ingest.bench.ts (another engineer's); this one is for profiling.
 */
import { WRITER_ONLY_ENV } from '../integration/ingest-helpers.ts';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { defaultIngestConfig } from '../../ingest/config.ts';
import { startIngest } from '../../ingest/main.ts';
import { startStack } from '../support/services.ts';

const total = Number(process.argv[2] ?? 200_000);
const perMessage = Number(process.argv[3] ?? 50);
const stack = await startStack();
const config = defaultIngestConfig({
  INGEST_MQTT_URL: stack.mqtt.url,
  ...WRITER_ONLY_ENV,
  INGEST_INFLUX_URL: stack.influx.url,
  INGEST_HTTP_PORT: 0,
  INGEST_CLIENT_ID: 'drain-exp',
  INGEST_RECEIVE_MAXIMUM: Number(process.env.RM ?? 2000),
  INGEST_FLUSH_MS: Number(process.env.FLUSH ?? 200),
});
const logger = pino({ level: 'warn' });
try {
  // First run creates the persistent session and subscription.
  await (await startIngest(config, { logger, defaultMetrics: false })).stop();
  const pub = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5 });
  const base = Date.now() - 3_600_000;
  const t0 = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let m = 0; m < total / perMessage; m++) {
    const readings = [];
    for (let i = 0; i < perMessage; i++) {
      const n = m * perMessage + i;
      readings.push({ kind: 'climate', device: `dev-${n % 500}`, time: new Date(base + Math.floor(n / 500)).toISOString(), temperature: 20 + (n % 100) / 10 });
    }
    const body = JSON.stringify({ v: 1, torg: 'heggedal', gateway: 'gw-1', sentAt: new Date().toISOString(), seq: m, readings });
    sends.push(pub.publishAsync(topics.readings('heggedal', 'gw-1'), body, { qos: 1 }));
    if (sends.length >= 500) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
  await pub.endAsync();
  console.log(`published ${total} readings in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const inspector = process.env.PROFILE ? new (await import('node:inspector/promises')).Session() : null;
  if (inspector) {
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.start');
  }
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  const handle = await startIngest(config, { logger, defaultMetrics: false });
  let peakRss = 0;
  for (;;) {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const written = (await handle.metrics.pointsWritten.get()).values[0]?.value ?? 0;
    if (written >= total) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const s = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (inspector) {
    const { profile } = await inspector.post('Profiler.stop');
    (await import('node:fs')).writeFileSync(process.env.PROFILE!, JSON.stringify(profile));
  }
  console.log(`ingest CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, sys ${(cpu.system / 1e6).toFixed(2)}) over ${s.toFixed(2)} s wall`);
  const bl = (await handle.metrics.batchLines.get()).values;
  const sum = bl.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  const cnt = bl.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  const bs = (await handle.metrics.batchSeconds.get()).values;
  const bsum = bs.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  console.log(`batches ${cnt}, mean ${Math.round(sum / Math.max(cnt, 1))} lines, mean write ${((1000 * bsum) / Math.max(cnt, 1)).toFixed(1)} ms`);
  console.log(`drained ${total} readings (${perMessage}/msg) in ${s.toFixed(2)} s = ${Math.round(total / s)} readings/s, peak RSS ${Math.round(peakRss / 1e6)} MB (incl. publisher)`);
  await handle.stop();
  console.log('stored', await stack.influx.count('climate', 'temperature'));
} finally {
  await stack.dispose();
}

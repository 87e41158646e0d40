/**
 * Benchmark publisher, run as its own process (`tsx test/bench/publisher.ts`) so that its CPU is not
 * charged to the consumer being measured. Config comes as JSON in BENCH_PUBLISHER_CONFIG.
 *
 * Publishes envelopes at QoS 1, pipelined: up to `maxInflight` PUBLISHes without PUBACK at a time
 * (bounded memory, and the broker has persisted every acknowledged message [MQTT-4.3.2]). A reading
 * counts as published only once its PUBACK arrived.
 *
 * stdout carries one JSON object per line for the bench (publisher-protocol.ts):
 *   {"type":"buckets",...}  readings published per time bucket, for latency accounting
 *   {"type":"done",...}     totals, after the last PUBACK
 */
import mqtt from 'mqtt';
import { buildEnvelope, PointClock } from './bench-workload.ts';
import { publisherConfigSchema, type PublisherMessage } from './publisher-protocol.ts';

function emit(m: PublisherMessage): void {
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

async function main(): Promise<void> {
  const raw = process.env.BENCH_PUBLISHER_CONFIG;
  if (raw === undefined) throw new Error('BENCH_PUBLISHER_CONFIG is not set');
  const cfg = publisherConfigSchema.parse(JSON.parse(raw));

  const client = await mqtt.connectAsync(cfg.url, {
    clientId: cfg.clientId,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });

  const clock = new PointClock();
  const pendingBuckets = new Map<number, number>();
  let inflight = 0;
  let published = 0;
  let messages = 0;
  let failed: Error | null = null;
  let wake: (() => void) | null = null;
  let firstPublishMs: number | null = null;
  let lastPublishMs = 0;
  let lastReport = 0;

  const flushBuckets = (finalBefore: number): void => {
    const counts = [...pendingBuckets.entries()].filter(([b]) => b < finalBefore);
    for (const [b] of counts) pendingBuckets.delete(b);
    emit({ type: 'buckets', finalBefore, counts });
  };

  const start = Date.now();
  let envSeq = 0;
  for (let first = 0; first < cfg.readings && failed === null; first += cfg.perMessage) {
    const n = Math.min(cfg.perMessage, cfg.readings - first);
    if (cfg.rate > 0) {
      // Open-loop pacing: reading k is due at start + k/rate, independent of how the consumer keeps up.
      const due = start + (first / cfg.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    while (inflight >= cfg.maxInflight && failed === null) {
      await new Promise<void>((r) => (wake = r));
    }
    const now = Date.now();
    const env = buildEnvelope(envSeq++, first, n, now, clock);
    firstPublishMs ??= now;
    lastPublishMs = now;
    for (const t of env.timesMs) {
      const b = t - (t % cfg.bucketMs);
      pendingBuckets.set(b, (pendingBuckets.get(b) ?? 0) + 1);
    }
    inflight++;
    client.publish(env.topic, env.payload, { qos: 1 }, (err) => {
      inflight--;
      if (err) failed ??= err;
      else {
        published += n;
        messages++;
      }
      const w = wake;
      wake = null;
      w?.();
    });
    if (now - lastReport >= cfg.reportEveryMs) {
      lastReport = now;
      // Times are non-decreasing, so every bucket before the current one is complete.
      const last = env.timesMs[env.timesMs.length - 1]!;
      flushBuckets(last - (last % cfg.bucketMs));
    }
  }
  while (inflight > 0) await new Promise<void>((r) => (wake = r));
  flushBuckets(Number.MAX_SAFE_INTEGER);
  const lastAckMs = Date.now();
  await client.endAsync();
  if (failed !== null) throw failed;
  emit({ type: 'done', published, messages, firstPublishMs: firstPublishMs ?? start, lastPublishMs, lastAckMs });
}

main().catch((err: unknown) => {
  process.stderr.write(`publisher: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

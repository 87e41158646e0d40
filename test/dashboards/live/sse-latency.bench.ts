/**
 * Benchmark (issue 5: "a change reaches the stream within 500 ms of its reading arriving"): real
 * Mosquitto + InfluxDB, the live service with its default 100 ms debounce, the API over HTTP, and an
 * SSE client. Publishes presence readings one at a time, alternating occupied/free, and measures from
 * just before the PUBLISH to the SSE `change` that carries the new state.
 *
 *   npx tsx test/dashboards/live/sse-latency.bench.ts [rounds=50]
 */
import mqtt from 'mqtt';
import pino from 'pino';
import { topics } from '../../../devices/contract/mqtt-topics.ts';
import { SCHEMA_VERSION } from '../../../devices/contract/reading.schema.ts';
import { liveRoutes, startLiveService } from '../../../dashboards/live/index.ts';
import { liveChangeSchema } from '../../../dashboards/live/live.schema.ts';
import { startStack } from '../../support/services.ts';
import { startTestApi } from '../../ingest/api/api-server.ts';
import { testDevices, testTorg } from './live-fixture.ts';

const rounds = Number(process.argv[2] ?? 50);
const stack = await startStack();
const live = startLiveService({
  mqttUrl: stack.mqtt.url,
  influx: { url: stack.influx.url, db: stack.influx.db },
  torgs: [testTorg({ alwaysOpen: true })],
  places: (d) => testDevices[d],
  logger: pino({ level: 'silent' }),
});
await live.ready;
const api = await startTestApi({ extraRoutes: () => liveRoutes({ live }) });
const res = await fetch(`${api.url}/api/v1/live/stream`, { headers: { authorization: `Bearer ${api.tokens.viewer}` } });
const reader = res.body!.getReader();
const decoder = new TextDecoder();
let buf = '';
async function nextChange(): Promise<unknown> {
  for (;;) {
    const end = buf.indexOf('\n\n');
    if (end >= 0) {
      const frame = buf.slice(0, end);
      buf = buf.slice(end + 2);
      if (frame.startsWith('event: change')) return JSON.parse(frame.split('\n').find((l) => l.startsWith('data: '))!.slice(6));
      continue;
    }
    const { value, done } = await reader.read();
    if (done) throw new Error('stream ended');
    buf += decoder.decode(value, { stream: true });
  }
}
const client = await mqtt.connectAsync(stack.mqtt.url, { protocolVersion: 5 });
const latencies: number[] = [];
for (let i = 0; i < rounds; i++) {
  const occupied = i % 2 === 0;
  const envelope = { v: SCHEMA_VERSION, gateway: 'gw-1', torg: 'testtorg', sentAt: new Date().toISOString(), seq: i, readings: [{ kind: 'presence', device: 'p1', time: new Date().toISOString(), occupied }] };
  const t0 = performance.now();
  await client.publishAsync(topics.readings('testtorg', 'gw-1'), JSON.stringify(envelope), { qos: 1 });
  for (;;) {
    const c = liveChangeSchema.parse(await nextChange());
    if (c.torg.zones.find((z) => z.id === 'mote-1')?.occupied === occupied) break;
  }
  latencies.push(performance.now() - t0);
}
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
console.log(`publish → SSE change, ${rounds} rounds: p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`);
await reader.cancel();
await client.endAsync();
await api.close();
await live.close();
await stack.dispose();

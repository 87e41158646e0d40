/**
 * Prometheus metrics of the ingest. One registry per instance (tests run several in one process).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface IngestMetrics {
  registry: Registry;
  messagesIn: Counter;
  readingsIn: Counter;
  pointsWritten: Counter;
  deadLettered: Counter<'reason'>;
  batchSeconds: Histogram;
  batchLines: Histogram;
  inflightMessages: Gauge;
  inflightBytes: Gauge;
  influxErrors: Counter<'kind'>;
}

export function createIngestMetrics(opts: { defaultMetrics: boolean; inflight: () => { messages: number; bytes: number }; registry?: Registry }): IngestMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    messagesIn: new Counter({ name: 'ingest_messages_total', help: 'MQTT messages received', registers }),
    readingsIn: new Counter({ name: 'ingest_readings_total', help: 'Readings received in valid envelopes (valid or not)', registers }),
    pointsWritten: new Counter({ name: 'ingest_points_written_total', help: 'Lines accepted by InfluxDB (readings and dead letters)', registers }),
    deadLettered: new Counter({ name: 'ingest_dead_lettered_total', help: 'Messages or readings dead-lettered, by reason code', labelNames: ['reason'], registers }),
    batchSeconds: new Histogram({
      name: 'ingest_batch_write_seconds',
      help: 'Time to write one batch to InfluxDB, retries included',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    batchLines: new Histogram({ name: 'ingest_batch_lines', help: 'Lines per write batch', buckets: [1, 10, 100, 1000, 2500, 5000, 10000, 25000], registers }),
    inflightMessages: new Gauge({
      name: 'ingest_inflight_messages',
      help: 'Messages received but not yet acknowledged',
      registers,
      collect() {
        this.set(opts.inflight().messages);
      },
    }),
    inflightBytes: new Gauge({
      name: 'ingest_inflight_bytes',
      help: 'Payload bytes of messages received but not yet acknowledged',
      registers,
      collect() {
        this.set(opts.inflight().bytes);
      },
    }),
    influxErrors: new Counter({ name: 'ingest_influx_errors_total', help: 'Failed InfluxDB write attempts, by kind', labelNames: ['kind'], registers }),
  };
}

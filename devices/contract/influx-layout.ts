/**
 * The InfluxDB layout, defined once for the writer (ingest) and every reader (live state,
 * indicators, Grafana dashboards, reports).
 *
 * One measurement per reading kind. Tags are the identity of a series and never change for a
 * given reading: `torg`, `device`, and for counters `line`. The gateway that relayed a reading is
 * NOT a tag: the same reading relayed twice (a replay, a moved gateway) must land on the same point.
 *
 * Idempotency (issue 2): a point is identified by measurement + tag set + timestamp. All three are
 * pure functions of the reading (kind → measurement; torg, device, line → tags; time in ms →
 * timestamp), so a redelivered message rewrites the same points with the same field values: InfluxDB
 * replaces the field values of an existing point instead of adding a new one. Nothing downstream
 * counts a point twice.
 *
 * Field types are fixed: InfluxDB 1.x refuses a field whose type differs from the type already in the
 * shard ("field type conflict"), so counts are always integers and physical values always floats,
 * whatever the JSON looked like.
 */
import type { ReadingKind } from './reading.schema.ts';

export const INFLUX_DB_DEFAULT = 'innbyggertorg';
/** Raw readings; default retention 90 days (configurable; issue 6). */
export const RP_RAW = 'raw';
export const RP_RAW_DEFAULT_DURATION = '90d';
/** Hourly aggregates computed by the platform, kept indefinitely (issue 6). */
export const RP_AGGREGATES = 'forever';
/** Timestamps are written and queried in milliseconds, the contract's precision. */
export const WRITE_PRECISION = 'ms' as const;

export type FieldType = 'float' | 'integer' | 'boolean';

export interface MeasurementLayout {
  measurement: string;
  tags: readonly string[];
  fields: Readonly<Record<string, FieldType>>;
}

export const MEASUREMENTS = {
  counter: {
    measurement: 'counter',
    tags: ['torg', 'device', 'line'],
    fields: { periodIn: 'integer', periodOut: 'integer', periodSeconds: 'integer', totalIn: 'integer', totalOut: 'integer' },
  },
  presence: {
    measurement: 'presence',
    tags: ['torg', 'device'],
    fields: { occupied: 'boolean', count: 'integer' },
  },
  door: {
    measurement: 'door',
    tags: ['torg', 'device'],
    fields: { open: 'boolean', openings: 'integer' },
  },
  climate: {
    measurement: 'climate',
    tags: ['torg', 'device'],
    fields: { temperature: 'float', humidity: 'float', co2: 'float', tvoc: 'float', pressure: 'float', illuminance: 'float' },
  },
  health: {
    measurement: 'health',
    tags: ['torg', 'device'],
    fields: { battery: 'float', rssi: 'float', snr: 'float' },
  },
} as const satisfies Record<ReadingKind, MeasurementLayout>;

/** Fields every point also carries, for data-quality analysis (not part of the identity). */
export const QUALITY_FIELDS = {
  /** ms between observation and gateway receipt, when the gateway stamped it. */
  rxLagMs: 'integer',
  clockSuspect: 'boolean',
} as const satisfies Record<string, FieldType>;

/**
 * Messages and readings the ingest refused (issue 2), kept for inspection even when nobody listens
 * on the dead-letter topic. Tags: reason code, torg/gateway from the topic ("unknown" when the topic
 * did not name them), and the ingest instance (dead-letter timestamps are unique per instance only).
 * String fields are cut to INGEST_DEADLETTER_MAX_CHARS. Written to the same RP as raw readings.
 */
export const DEADLETTER_MEASUREMENT = {
  measurement: 'deadletter',
  tags: ['reason', 'torg', 'gateway', 'instance'],
  fields: { detail: 'string', payload: 'string', encoding: 'string', topic: 'string', seq: 'integer', index: 'integer' },
} as const;

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
  /**
   * True on readings of a device that was pending in the registry when they arrived (issue 4): stored,
   * but left out of indicators until the device is assigned; absent otherwise. A field, not a tag:
   * tags are the point's identity, so a redelivery after assignment lands on the same point instead
   * of a second series (InfluxDB 1.x merges the field sets of a point written twice, so its `pending`
   * stays true).
   */
  pending: 'boolean',
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

/**
 * Alert lifecycle history (issue 5, dashboards/alerts): one point per firing or resolved event, at the
 * event's instant. The subject (zone or device id) is a tag because two alerts of one rule in one torg
 * can change state in the same evaluation, and without it their points would share measurement + tags
 * + timestamp and overwrite each other. Every tag value is a slug, a device id or a fixed enum, so the
 * series count stays bounded by rules × subjects × 2. Written to RP_AGGREGATES: the history is small
 * and years of it are wanted for reports.
 */
export const ALERT_MEASUREMENT = {
  measurement: 'alert',
  tags: ['torg', 'rule', 'subject', 'state'],
  fields: {
    id: 'string',
    severity: 'string',
    /** When the condition began, ms since epoch. */
    sinceMs: 'integer',
    value: 'float',
    threshold: 'float',
    messageNb: 'string',
    messageEn: 'string',
  },
} as const;

/**
 * Hourly usage metrics (issue 6, dashboards/metrics), computed by the platform from raw readings and
 * written to RP_AGGREGATES (kept indefinitely, while raw readings expire with RP_RAW). One point per
 * scope × hour × split at the hour's start, for the splits with time in the hour; the `all` point
 * (open time) of a wholly closed hour is empty and is not written when the hour's `closed` point is
 * (dashboards/metrics/agg-hourly.ts hourBucketsToLines; the reader restores it). The fields are the mergeable sums days, weeks and months
 * are rolled up from (dashboards/metrics/accumulator.ts), plus the hour's own derived values for
 * Grafana. A field is absent where the value is undefined (InfluxDB has no null). The municipality
 * row has no `torg` tag (InfluxDB 1.x drops empty tag values). Recomputing rewrites the same points
 * (same tags and time), so it is idempotent; because InfluxDB merges the field sets of a rewritten
 * point, a field that became undefined would linger, so the recompute deletes the day's points of this
 * measurement before writing them again (InfluxQL DELETE takes a time range, not an RP).
 */
export const AGG_HOURLY_MEASUREMENT = {
  measurement: 'agg_hourly',
  tags: ['scope', 'scopeId', 'torg', 'split'],
  fields: {
    spanMs: 'float',
    reportedMs: 'float',
    occMs: 'float',
    peak: 'float',
    /** Module points only: most rooms occupied at one moment of the hour; absent on points written before it was added. */
    peakRoomsInUse: 'integer',
    usedMs: 'float',
    utilNum: 'float',
    utilDen: 'float',
    targetKnownMs: 'float',
    under60Ms: 'float',
    from60to100Ms: 'float',
    over100Ms: 'float',
    co2OkMs: 'float',
    co2KnownMs: 'float',
    tempOkMs: 'float',
    tempKnownMs: 'float',
    humOkMs: 'float',
    humKnownMs: 'float',
    visits: 'integer',
    driftBelowZero: 'integer',
    driftClosingReset: 'integer',
    /** Dwell runs (minutes) that started in the hour, comma-separated, so day/month medians stay exact. */
    dwellRuns: 'string',
    avgOccupancy: 'float',
    utilisation: 'float',
    completeness: 'float',
  },
} as const;

/**
 * Monthly effektmål indicator values (issue 6, dashboards/indicators), one point per indicator ×
 * scope (torg id or municipality name) at the start of the Oslo month, in RP_AGGREGATES. The status
 * and the definition version are fields, not tags: a recompute under a new status or version must
 * replace the point, not add a second series. InfluxDB merges the field sets of a rewritten point, so
 * a field that became null would linger: the store (dashboards/indicators/indicator-store.ts) deletes
 * the month before rewriting it, and `valueKnown` (always written) tells a reader whether `value` holds.
 */
export const INDICATOR_MEASUREMENT = {
  measurement: 'indicator',
  tags: ['indicator', 'scopeId'],
  fields: {
    definitionVersion: 'string',
    effectGoal: 'integer',
    valueKnown: 'boolean',
    value: 'float',
    previousMonthValue: 'float',
    trendVsPreviousMonth: 'float',
    trendVsBaseline: 'float',
    expected: 'float',
    status: 'string',
    completeness: 'float',
    lowCompleteness: 'boolean',
    missing: 'string',
  },
} as const;

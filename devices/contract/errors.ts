/**
 * Stable error codes. Each says whether a retry can help: a retriable error is a property of the
 * moment (InfluxDB down, broker unreachable), a permanent one a property of the data or config.
 * The catalogue is documented in README "Error codes"; a test checks every code is documented.
 */
export const ERROR_CODES = {
  E_PAYLOAD_TOO_LARGE: { retriable: false, message: 'message exceeds the ingest size limit' },
  E_PAYLOAD_NOT_JSON: { retriable: false, message: 'message is not valid UTF-8 JSON' },
  E_SCHEMA_VERSION: { retriable: false, message: 'envelope schema version is not supported' },
  E_ENVELOPE_INVALID: { retriable: false, message: 'envelope header violates the contract' },
  E_TOPIC_MISMATCH: { retriable: false, message: 'torg/gateway in the envelope differ from the topic' },
  E_READING_INVALID: { retriable: false, message: 'reading violates the contract' },
  E_READING_OUT_OF_RANGE: { retriable: false, message: 'reading value outside its physical limits' },
  E_READING_TIME_FUTURE: { retriable: false, message: 'reading time is more than 5 minutes in the future' },
  E_READING_TIME_TOO_OLD: { retriable: false, message: 'reading time is older than the accepted age' },
  E_INFLUX_REJECTED: { retriable: false, message: 'InfluxDB refused the point permanently' },
  E_DEVICE_UNKNOWN: { retriable: false, message: 'no gateway has announced this device (no birth); readings of unknown devices are not stored' },
  E_DEVICE_DECOMMISSIONED: { retriable: false, message: 'the device is decommissioned; its readings are not stored' },
  E_DEVICE_SPOOFED: { retriable: false, message: 'the device belongs to another torg than the gateway that relayed it' },
  E_INGEST_INTERNAL: { retriable: false, message: 'the ingest failed on this message (a bug); the whole message is kept as a dead letter' },
  E_INFLUX_UNAVAILABLE: { retriable: true, message: 'InfluxDB is unreachable or failing; the write is retried' },
  E_CONFIG_INVALID: { retriable: false, message: 'configuration is invalid' },
  E_MQTT_UNAVAILABLE: { retriable: true, message: 'MQTT broker is unreachable' },
  E_BOOKING_FEED_UNAVAILABLE: { retriable: true, message: 'a booking feed (ICS URL or file) could not be read (timeout, HTTP error, too large)' },
  E_BOOKING_FEED_INVALID: { retriable: false, message: 'a booking feed is not a usable ICS calendar' },
  E_REPORT_BROWSER_MISSING: { retriable: false, message: 'Chromium, which prints the monthly report to PDF, is not installed at the configured path (INGEST_CHROMIUM_PATH)' },
  E_REPORT_RENDER_FAILED: { retriable: true, message: 'Chromium failed or timed out printing the monthly report to PDF' },
} as const satisfies Record<string, { retriable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Reason codes a message or reading can be dead-lettered with. */
export const DEAD_LETTER_REASONS = [
  'E_PAYLOAD_TOO_LARGE',
  'E_PAYLOAD_NOT_JSON',
  'E_SCHEMA_VERSION',
  'E_ENVELOPE_INVALID',
  'E_TOPIC_MISMATCH',
  'E_READING_INVALID',
  'E_READING_OUT_OF_RANGE',
  'E_READING_TIME_FUTURE',
  'E_READING_TIME_TOO_OLD',
  'E_INFLUX_REJECTED',
  'E_DEVICE_UNKNOWN',
  'E_DEVICE_DECOMMISSIONED',
  'E_DEVICE_SPOOFED',
  'E_INGEST_INTERNAL',
] as const satisfies readonly ErrorCode[];
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export class PlatformError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${code}: ${ERROR_CODES[code].message}: ${detail}` : `${code}: ${ERROR_CODES[code].message}`, options);
    this.name = 'PlatformError';
    this.code = code;
    this.retriable = ERROR_CODES[code].retriable;
  }
}

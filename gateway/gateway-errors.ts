/**
 * Error codes that arise inside the gateway (outbox, uplink). Kept beside the gateway rather than
 * in devices/contract/errors.ts because no other service ever sees them; same shape as that
 * catalogue: a stable code, a message a person can act on, and whether a retry can help.
 */
export const GATEWAY_ERROR_CODES = {
  E_OUTBOX_FULL: {
    retriable: true,
    message: 'the outbox is at its size limit (uplink down for long?); the source should hold the data and retry',
  },
  E_OUTBOX_CLOSED: { retriable: false, message: 'the outbox is closed (gateway shutting down)' },
  E_OUTBOX_ENTRY_TOO_LARGE: { retriable: false, message: 'one append is larger than the whole outbox (its reading or byte limit)' },
  E_SOURCE_PARSER_FAILED: {
    retriable: false,
    message: 'the decoder threw on this message (a decoder bug); the message is kept at /rejected and not retried',
  },
} as const satisfies Record<string, { retriable: boolean; message: string }>;

export type GatewayErrorCode = keyof typeof GATEWAY_ERROR_CODES;

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly retriable: boolean;
  constructor(code: GatewayErrorCode, detail?: string) {
    const base = `${code}: ${GATEWAY_ERROR_CODES[code].message}`;
    super(detail ? `${base}: ${detail}` : base);
    this.name = 'GatewayError';
    this.code = code;
    this.retriable = GATEWAY_ERROR_CODES[code].retriable;
  }
}

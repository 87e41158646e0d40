/**
 * Why a source message (an LNS envelope, a zigbee2mqtt message, a DT webhook) yielded no readings.
 *
 * Kept apart from the ingest's catalogue (devices/contract/errors.ts): these arise on the gateway
 * before a reading exists, and the gateway counts them per code. None is retriable: parsing the same
 * message again gives the same answer, except a signature that expired in transit, which only the
 * sender can fix by sending a fresh token (DT retries undelivered events itself).
 */
export const SOURCE_ERROR_CODES = {
  E_SOURCE_NOT_JSON: { retriable: false, message: 'message is not valid UTF-8 JSON' },
  E_SOURCE_BAD_ENVELOPE: { retriable: false, message: 'message does not have the shape the source documents' },
  E_SOURCE_TOPIC_MISMATCH: { retriable: false, message: 'device in the topic differs from the device in the body' },
  E_SOURCE_NO_PAYLOAD: { retriable: false, message: 'uplink carries no application payload (fPort 0 or absent: MAC commands only)' },
  E_SOURCE_BAD_TIME: { retriable: false, message: 'timestamp is not a valid RFC 3339 instant' },
  E_SOURCE_TIME_IMPLAUSIBLE: { retriable: false, message: 'timestamp is before any plausible measurement (e.g. 1970: an unset clock)' },
  E_SOURCE_BAD_VALUE: { retriable: false, message: 'a field has a value of the wrong type or outside its documented set' },
  E_SOURCE_UNKNOWN_DEVICE: { retriable: false, message: 'the device is not known to this source (not in the bridge device list)' },
  E_SOURCE_UNSUPPORTED_EVENT: { retriable: false, message: 'event type is not one this platform maps to readings' },
  E_SIGNATURE_MISSING: { retriable: false, message: 'signature header is missing' },
  E_SIGNATURE_INVALID: { retriable: false, message: 'signature does not verify with the shared secret (wrong secret or forged token)' },
  E_SIGNATURE_EXPIRED: { retriable: false, message: 'signature token has expired' },
  E_SIGNATURE_BODY_MISMATCH: { retriable: false, message: 'request body does not match the checksum in the signed token (body altered)' },
} as const satisfies Record<string, { retriable: boolean; message: string }>;

export type SourceErrorCode = keyof typeof SOURCE_ERROR_CODES;

export interface SourceFailure {
  ok: false;
  code: SourceErrorCode;
  retriable: boolean;
  detail: string;
}

export type SourceResult<T> = ({ ok: true } & T) | SourceFailure;

export function fail(code: SourceErrorCode, detail: string): SourceFailure {
  return { ok: false, code, retriable: SOURCE_ERROR_CODES[code].retriable, detail };
}

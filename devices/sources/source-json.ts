/** Bytes or text off the wire → a JSON value, failing with E_SOURCE_NOT_JSON instead of throwing. */
import { fail, type SourceResult } from './source-errors.ts';

export function decodeJson(raw: Uint8Array | string): SourceResult<{ json: unknown }> {
  try {
    // fatal: a message with invalid UTF-8 is refused rather than decoded with U+FFFD in its strings.
    const text = typeof raw === 'string' ? raw : new TextDecoder('utf-8', { fatal: true }).decode(raw);
    return { ok: true, json: JSON.parse(text) as unknown };
  } catch (err) {
    return fail('E_SOURCE_NOT_JSON', err instanceof Error ? err.message : String(err));
  }
}

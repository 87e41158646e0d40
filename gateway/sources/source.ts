/**
 * The source seam: anything that produces readings on the gateway (a local LNS broker, a webhook,
 * Node-RED) is a Source. A source hands decoded readings to a ReadingSink and acknowledges its own
 * input (PUBACK, HTTP 2xx) only after the sink's accept() resolved, i.e. after the readings are
 * durable in the outbox. If accept() rejects with a retriable error (outbox full), the source keeps
 * the input un-acknowledged (MQTT) or answers 503 (webhook) so the sender keeps it.
 */
import type { DeviceFacts } from '../devices/device-facts.ts';

export interface AcceptOutcome {
  /** Readings now durable in the outbox. */
  accepted: number;
  /** Readings refused by validation (counted and kept at /rejected). */
  rejected: number;
}

export interface ReadingSink {
  /** Normalises and validates `raws`, appends the valid ones; resolves once they are durable. */
  accept(source: string, raws: readonly unknown[], receivedAtMs: number, devices?: readonly DeviceFacts[]): Promise<AcceptOutcome>;
  /** A source message that yielded no readings at all (bad envelope, unknown device, decode error). */
  messageFailed(source: string, code: string, detail: string, input: unknown): void;
}

/** A parsed source message: readings to accept, or the reason there are none. */
export type ParseOutcome = { ok: true; readings: unknown[]; devices?: DeviceFacts[] } | { ok: false; code: string; detail: string };

/** Turns one MQTT message of a local broker into readings (per format; see gateway/sources/formats.ts). */
export type MqttParseFn = (topic: string, payload: Buffer, receivedAtMs: number) => ParseOutcome;

export interface Source {
  readonly name: string;
  start(sink: ReadingSink): Promise<void>;
  stop(): Promise<void>;
}

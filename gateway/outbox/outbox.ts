/**
 * The gateway's store-and-forward seam: readings are durable here between decode and uplink.
 *
 * Semantics every implementation honours (checked by test/gateway/outbox/outbox.contract.ts):
 * - append() resolves only once the readings would survive kill -9 and power loss; a source acks
 *   its input only after that. It is all-or-nothing per call.
 * - Entries leave in append order. claim() hands out the next entries after everything already
 *   claimed; claimed entries stay stored until ack(). release() forgets the claims (after a lost
 *   connection) so the next claim starts again at the oldest un-acked entry: one ordered stream,
 *   re-sent in order before anything newer.
 * - Bounded by count, bytes and age. Over count/bytes, append() REFUSES with the retriable
 *   E_OUTBOX_FULL instead of dropping the oldest: the oldest readings are the only record of a past
 *   hour, while a full outbox's sources can still hold new data (an LNS broker keeps un-acked QoS 1
 *   messages for a persistent session [MQTT-4.4.0-1]; Disruptive Technologies retries a webhook
 *   answered with 503). Entries older than the age limit are deleted (the ingest would refuse them
 *   anyway). Both are counted by reason.
 */
import type { Reading } from '../../devices/contract/reading.schema.ts';

export interface OutboxEntry {
  /** Strictly increasing in append order; opaque otherwise. */
  id: number;
  readonly reading: Reading;
  /**
   * The reading as the contract JSON that was appended. The uplink splices these into an envelope
   * as they are: parsing a stored reading only to serialise it again cost more than the rest of the
   * drain path.
   */
  readonly json: string;
  /** When append() accepted it (gateway clock, ms). */
  enqueuedAtMs: number;
}

export const DROP_REASONS = ['expired', 'refused_full'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface OutboxBounds {
  /** Most readings held. */
  maxReadings: number;
  /** Most bytes of serialized readings held. */
  maxBytes: number;
  /** Readings enqueued longer ago than this are deleted and counted as `expired`. */
  maxAgeMs: number;
}

export interface Outbox {
  /**
   * Resolves when durable; rejects with GatewayError E_OUTBOX_FULL (retriable) when over bounds, or
   * E_OUTBOX_ENTRY_TOO_LARGE (not retriable) when the call alone exceeds a bound.
   */
  append(readings: readonly Reading[]): Promise<void>;
  /** Up to `max` entries after the last claimed one, oldest first; [] when none. */
  claim(max: number): Promise<OutboxEntry[]>;
  /** Drops all claims: the next claim() starts at the oldest un-acked entry. */
  release(): void;
  /** Deletes the entries (delivered). Unknown ids are ignored (already acked or expired). */
  ack(ids: readonly number[]): Promise<void>;
  /** Readings stored (claimed or not). */
  depth(): number;
  /** Bytes stored. */
  bytes(): number;
  /** Age of the oldest stored reading (ms, by the outbox's clock), null when empty. */
  oldestAgeMs(): number | null;
  /** Readings lost or refused since this outbox was opened, by reason. */
  dropped(): Readonly<Record<DropReason, number>>;
  /** Calls `listener` after every durable append; returns an unsubscribe function. */
  onAppend(listener: () => void): () => void;
  close(): Promise<void>;
}

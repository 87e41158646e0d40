/**
 * One MQTT message → validated readings → line protocol in the batcher, refusals → dead letters.
 * Pure logic: the batcher, dead-letter sink, metrics and clock are passed in.
 */
import { isUtf8 } from 'node:buffer';
import type { DeadLetterReason } from '../devices/contract/errors.ts';
import { parseReadingsTopic } from '../devices/contract/mqtt-topics.ts';
import { validateEnvelope, type EnvelopeMeta, type RejectedReading } from '../devices/contract/validate.ts';
import type { Batcher } from './batcher.ts';
import { Completion } from './batcher.ts';
import type { DeviceLookup } from './control/device-directory.ts';
import type { DeadLetter, DeadLetterSink } from './dead-letter.ts';
import type { InboundMessage } from './deferred-ack.ts';
import { readingToLine } from './line-protocol.ts';
import type { IngestMetrics } from './metrics.ts';

export interface MessagePipelineOptions {
  batcher: Batcher;
  deadLetters: DeadLetterSink;
  metrics: Pick<IngestMetrics, 'messagesIn' | 'readingsIn' | 'deadLettered'>;
  now: () => number;
  maxMessageBytes: number;
  maxAgeMs: number;
  /**
   * The registry's view (issue 4). When given, each reading is checked against it: unknown and
   * decommissioned devices and devices of another torg are dead-lettered, pending devices are stored
   * with `pending=true`. Without it every valid reading is stored (development, benchmarks).
   */
  devices?: DeviceLookup;
  /** Called for every reading put into the batcher (liveness); must be cheap and must not throw. */
  onAccepted?: (torg: string, gateway: string, device: string, timeMs: number) => void;
}

/** Index in the envelope of the i-th accepted reading; `rejected` is in envelope order. Only on the (rare) refusal path. */
function envelopeIndex(i: number, rejected: readonly RejectedReading[]): number {
  let idx = i;
  for (const r of rejected) if (r.index <= idx) idx++;
  return idx;
}

/**
 * A refused reading as JSON, or the whole original message when the reading cannot be serialised:
 * V8's JSON.stringify recurses and throws RangeError on a value nested deeper than its stack, which
 * JSON.parse (iterative) accepts. Thrown here, it would escape MQTT.js's packet loop, and the broker
 * would redeliver the same message to every restart.
 */
function readingPayload(reading: unknown, message: Buffer): string | Buffer {
  try {
    return JSON.stringify(reading) ?? 'undefined';
  } catch {
    return message;
  }
}

export class MessagePipeline {
  constructor(private readonly opts: MessagePipelineOptions) {}

  handle(msg: InboundMessage): void {
    const { batcher, metrics } = this.opts;
    metrics.messagesIn.inc();
    const owner = new Completion(msg.complete);
    try {
      this.process(msg, owner, batcher);
    } catch (err) {
      // A bug must not cost data: without this the message would be acknowledged with only the
      // readings added before the throw. The whole original message is kept as a dead letter instead
      // (readings already added are written too; a reading is idempotent).
      const where = parseReadingsTopic(msg.topic);
      this.refuse(msg, where, owner, 'E_INGEST_INTERNAL', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    } finally {
      owner.release();
    }
  }

  // Written without per-message closures: at 100 000 messages/s every allocation shows up in GC.
  private process(msg: InboundMessage, owner: Completion, batcher: Batcher): void {
    const where = parseReadingsTopic(msg.topic);
    if (msg.payload.length > this.opts.maxMessageBytes) {
      // The dead letter carries the first maxMessageBytes only: republishing an oversized message
      // would hit the same limit downstream.
      this.refuse(msg, where, owner, 'E_PAYLOAD_TOO_LARGE', `${msg.payload.length} bytes > limit ${this.opts.maxMessageBytes} (payload truncated)`, msg.payload.subarray(0, this.opts.maxMessageBytes));
      return;
    }
    if (where === null) {
      this.refuse(msg, where, owner, 'E_TOPIC_MISMATCH', `topic ${msg.topic} is not itorg/v1/{torg}/{gateway}/readings`);
      return;
    }
    if (!isUtf8(msg.payload)) {
      this.refuse(msg, where, owner, 'E_PAYLOAD_NOT_JSON', 'payload is not valid UTF-8');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(msg.payload.toString('utf8'));
    } catch (e) {
      this.refuse(msg, where, owner, 'E_PAYLOAD_NOT_JSON', (e as Error).message);
      return;
    }
    const result = validateEnvelope(json, { now: this.opts.now(), maxAgeMs: this.opts.maxAgeMs }, where);
    if (!result.ok) {
      this.refuse(msg, where, owner, result.reason, result.detail);
      return;
    }
    const { meta, readings, timesMs, rejected } = result;
    this.opts.metrics.readingsIn.inc(readings.length + rejected.length);
    const { devices, onAccepted } = this.opts;
    if (devices === undefined) {
      for (let i = 0; i < readings.length; i++) {
        batcher.add(readingToLine(meta.torg, readings[i]!, timesMs[i]!), owner);
        onAccepted?.(meta.torg, meta.gateway, readings[i]!.device, timesMs[i]!);
      }
    } else {
      for (let i = 0; i < readings.length; i++) {
        const reading = readings[i]!;
        const entry = devices.lookup(reading.device);
        if (entry === undefined) {
          this.refuseReading(msg, meta, owner, reading, envelopeIndex(i, rejected), 'E_DEVICE_UNKNOWN', `device ${reading.device} has no birth in the registry`);
        } else if (entry.s === 'decommissioned') {
          this.refuseReading(msg, meta, owner, reading, envelopeIndex(i, rejected), 'E_DEVICE_DECOMMISSIONED', `device ${reading.device} is decommissioned`);
        } else if (entry.t !== meta.torg) {
          this.refuseReading(msg, meta, owner, reading, envelopeIndex(i, rejected), 'E_DEVICE_SPOOFED', `device ${reading.device} belongs to torg ${entry.t}, relayed by ${meta.torg}/${meta.gateway}`);
        } else {
          batcher.add(readingToLine(meta.torg, reading, timesMs[i]!, entry.s === 'pending'), owner);
          onAccepted?.(meta.torg, meta.gateway, reading.device, timesMs[i]!);
        }
      }
    }
    for (const r of rejected) this.refuseReading(msg, meta, owner, r.reading, r.index, r.reason, r.detail);
  }

  /** One reading of an envelope as a dead letter; `index` is its place in the envelope. */
  private refuseReading(
    msg: InboundMessage,
    meta: EnvelopeMeta,
    owner: Completion,
    reading: unknown,
    index: number,
    reason: DeadLetterReason,
    detail: string,
  ): void {
    this.deadLetter(owner, {
      topic: msg.topic,
      torg: meta.torg,
      gateway: meta.gateway,
      reason,
      detail,
      payload: readingPayload(reading, msg.payload),
      envelope: { seq: meta.seq, sentAt: meta.sentAt, index },
    });
  }

  private refuse(
    msg: InboundMessage,
    where: { torg: string; gateway: string } | null,
    owner: Completion,
    reason: DeadLetterReason,
    detail: string,
    payload: Buffer | string = msg.payload,
  ): void {
    this.deadLetter(owner, { topic: msg.topic, torg: where?.torg, gateway: where?.gateway, reason, detail, payload });
  }

  private deadLetter(owner: Completion, dl: DeadLetter): void {
    this.opts.metrics.deadLettered.inc({ reason: dl.reason });
    this.opts.batcher.add(this.opts.deadLetters.record(dl), owner);
  }
}

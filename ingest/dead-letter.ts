/**
 * Dead letters: messages or readings the ingest refuses, kept twice so nobody has to be listening
 * when they happen:
 *  - published to `itorg/v1/_sys/deadletter/{reason}` (QoS 1) with the original payload, for
 *    operators and alerting;
 *  - written to InfluxDB measurement `deadletter` (devices/contract/influx-layout.ts), with detail and
 *    payload cut to a bound, for later inspection.
 * The InfluxDB copy is what lets the source message be acknowledged (it rides in the same batches as
 * readings). The MQTT copy is not awaited: its PUBACK comes through the same client's work loop,
 * which the in-flight byte budget may be holding, and waiting for it could deadlock. MQTT.js keeps
 * the unacknowledged publish in its outgoing store and resends it on reconnect.
 */
import { isUtf8 } from 'node:buffer';
import { topics } from '../devices/contract/mqtt-topics.ts';
import { DEADLETTER_MEASUREMENT } from '../devices/contract/influx-layout.ts';
import type { DeadLetterReason } from '../devices/contract/errors.ts';
import { escapeTag } from './line-protocol.ts';

export interface DeadLetter {
  reason: DeadLetterReason;
  detail: string;
  /** MQTT topic the message arrived on. */
  topic: string;
  torg?: string;
  gateway?: string;
  /** The refused bytes (whole message) or value (one reading, one line). */
  payload: Buffer | string;
  /** Set when one reading of a valid envelope was refused. */
  envelope?: { seq: number; sentAt: string; index: number };
}

/** What goes on the dead-letter topic (JSON). */
export interface DeadLetterMessage {
  reason: DeadLetterReason;
  detail: string;
  topic: string;
  torg: string | null;
  gateway: string | null;
  receivedAt: string;
  instance: string;
  payloadEncoding: 'utf8' | 'base64';
  payload: string;
  envelope?: { seq: number; sentAt: string; index: number };
}

export interface DeadLetterSinkOptions {
  /** Ingest instance id; a tag, so two instances never overwrite each other's dead letters. */
  instance: string;
  maxChars: number;
  now: () => number;
  /** Fire-and-forget QoS 1 publish. */
  publish: (topic: string, payload: string) => void;
}



/**
 * String field value: quotes and backslashes escaped (line protocol reference, "Special
 * characters"); CR/LF written as `\n` text because a raw newline ends the line in 1.x parsers.
 */
export function stringField(s: string, maxChars: number): string {
  const cut = s.length > maxChars ? s.slice(0, maxChars) + '…' : s;
  return '"' + cut.replace(/(["\\])/g, '\\$1').replace(/\r?\n|\r/g, '\\n') + '"';
}

export function encodePayload(payload: Buffer | string): { encoding: 'utf8' | 'base64'; text: string } {
  if (typeof payload === 'string') return { encoding: 'utf8', text: payload };
  return isUtf8(payload) ? { encoding: 'utf8', text: payload.toString('utf8') } : { encoding: 'base64', text: payload.toString('base64') };
}

export class DeadLetterSink {
  private lastTs = 0;
  constructor(private readonly opts: DeadLetterSinkOptions) {}

  /**
   * Timestamps are unique per instance (the next free ms): two dead letters with the same tags in
   * the same ms would otherwise be one point. Dead letters are therefore not idempotent: a
   * redelivered bad message is recorded again, which is what an operator wants to see.
   */
  private nextTimestamp(): number {
    const now = this.opts.now();
    this.lastTs = now > this.lastTs ? now : this.lastTs + 1;
    return this.lastTs;
  }

  /** Publishes the MQTT copy and returns the line protocol for the InfluxDB copy. */
  record(dl: DeadLetter): string {
    const ts = this.nextTimestamp();
    const { encoding, text } = encodePayload(dl.payload);
    const message: DeadLetterMessage = {
      reason: dl.reason,
      detail: dl.detail,
      topic: dl.topic,
      torg: dl.torg ?? null,
      gateway: dl.gateway ?? null,
      receivedAt: new Date(ts).toISOString(),
      instance: this.opts.instance,
      payloadEncoding: encoding,
      payload: text,
      ...(dl.envelope ? { envelope: dl.envelope } : {}),
    };
    this.opts.publish(topics.deadLetter(dl.reason), JSON.stringify(message));
    const max = this.opts.maxChars;
    let line = `${DEADLETTER_MEASUREMENT.measurement},gateway=${escapeTag(dl.gateway ?? 'unknown')},instance=${escapeTag(this.opts.instance)}`;
    line += `,reason=${dl.reason},torg=${escapeTag(dl.torg ?? 'unknown')} `;
    line += `detail=${stringField(dl.detail, max)},payload=${stringField(text, max)},encoding="${encoding}",topic=${stringField(dl.topic, 1024)}`;
    if (dl.envelope) line += `,seq=${dl.envelope.seq}i,index=${dl.envelope.index}i`;
    return `${line} ${ts}`;
  }
}

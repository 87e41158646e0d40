/**
 * `innbyggertorg publish`: readings as JSON lines → envelopes on MQTT. Every line is checked
 * against the contract locally first, with the same limits the ingest applies, so a bad line is
 * reported here with its line number instead of being dead-lettered on the other side.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { DeadLetterReason } from '../devices/contract/errors.ts';
import { validateReading } from '../devices/contract/validate.ts';
import type { EnvelopePublisher } from '../simulator/envelope-publisher.ts';

export interface PublishOptions {
  torg: string;
  gateway: string;
  clock: () => number;
  maxAgeMs: number;
  onBadLine: (line: number, reason: DeadLetterReason, detail: string) => void;
}

export interface PublishSummary {
  lines: number;
  valid: number;
  bad: number;
  badByReason: Partial<Record<DeadLetterReason, number>>;
}

export async function publishJsonLines(input: Readable, publisher: EnvelopePublisher, opts: PublishOptions): Promise<PublishSummary> {
  const summary: PublishSummary = { lines: 0, valid: 0, bad: 0, badByReason: {} };
  const bad = (line: number, reason: DeadLetterReason, detail: string) => {
    summary.bad++;
    summary.badByReason[reason] = (summary.badByReason[reason] ?? 0) + 1;
    opts.onBadLine(line, reason, detail);
  };
  let lineNo = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (text.trim() === '') continue;
    summary.lines++;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      bad(lineNo, 'E_PAYLOAD_NOT_JSON', (err as Error).message);
      continue;
    }
    const r = validateReading(json, { now: opts.clock(), maxAgeMs: opts.maxAgeMs });
    if (!r.ok) {
      bad(lineNo, r.reason, r.detail);
      continue;
    }
    summary.valid++;
    await publisher.add(opts.torg, opts.gateway, r.reading);
  }
  await publisher.drain();
  return summary;
}

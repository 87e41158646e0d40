/**
 * The outbox as seen by a writer that appends directly (the embedded Node-RED flows,
 * gateway/node-red/embed.ts) rather than through the OutboxSink: its readings pass the same gate
 * (per-device config, device births) before they are appended.
 */
import type { Reading } from '../../devices/contract/reading.schema.ts';
import type { Clock } from '../clock.ts';
import type { Outbox } from '../outbox/outbox.ts';
import type { ReadingGate } from '../reading-sink.ts';

export function gatedOutbox(outbox: Outbox, gate: ReadingGate, source: string, clock: Clock): Outbox {
  return {
    async append(readings: readonly Reading[]): Promise<void> {
      const kept = gate.admit(source, readings, undefined, clock.now());
      if (kept.length > 0) await outbox.append(kept);
    },
    claim: (max) => outbox.claim(max),
    release: () => outbox.release(),
    ack: (ids) => outbox.ack(ids),
    depth: () => outbox.depth(),
    bytes: () => outbox.bytes(),
    oldestAgeMs: () => outbox.oldestAgeMs(),
    dropped: () => outbox.dropped(),
    onAppend: (listener) => outbox.onAppend(listener),
    close: () => outbox.close(),
  };
}

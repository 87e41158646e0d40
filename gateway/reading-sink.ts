/**
 * The sink every source writes to: normalise → validate → outbox, counting and keeping rejects.
 */
import type { Logger } from 'pino';
import type { Reading } from '../devices/contract/reading.schema.ts';
import type { Clock } from './clock.ts';
import type { DeviceFacts } from './devices/device-facts.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { ClockPlausibility } from './normalize.ts';
import { normalizeReading } from './normalize.ts';
import type { Outbox } from './outbox/outbox.ts';
import type { RejectedStore } from './rejected-store.ts';
import type { AcceptOutcome, ReadingSink } from './sources/source.ts';

/**
 * Decides which valid readings go on (per-device config) and records their devices (births), before
 * the append: gateway/devices/device-announcer.ts. Synchronous, so that a device's birth is marked
 * due before its reading can be claimed from the outbox.
 */
export interface ReadingGate {
  admit(source: string, readings: readonly Reading[], devices: readonly DeviceFacts[] | undefined, atMs: number): Reading[];
}

export class OutboxSink implements ReadingSink {
  constructor(
    private readonly deps: {
      outbox: Outbox;
      rejected: RejectedStore;
      metrics: Pick<GatewayMetrics, 'readingsIn' | 'rejected' | 'decodeFailures'>;
      logger: Logger;
      limits: ClockPlausibility;
      clock: Clock;
      gate?: ReadingGate;
    },
  ) {}

  async accept(source: string, raws: readonly unknown[], receivedAtMs: number, devices?: readonly DeviceFacts[]): Promise<AcceptOutcome> {
    let good: Reading[] = [];
    let rejected = 0;
    for (const raw of raws) {
      const r = normalizeReading(raw, receivedAtMs, this.deps.limits);
      if (r.ok) {
        good.push(r.reading);
        continue;
      }
      rejected++;
      this.deps.metrics.rejected.inc({ reason: r.reason });
      this.deps.rejected.add({ at: new Date(receivedAtMs).toISOString(), source, reason: r.reason, detail: r.detail, input: raw });
      this.deps.logger.warn({ source, reason: r.reason, detail: r.detail }, 'reading rejected');
    }
    if (good.length > 0 && this.deps.gate !== undefined) good = this.deps.gate.admit(source, good, devices, receivedAtMs);
    if (good.length > 0) {
      await this.deps.outbox.append(good);
      this.deps.metrics.readingsIn.inc({ source }, good.length);
    }
    return { accepted: good.length, rejected };
  }

  messageFailed(source: string, code: string, detail: string, input: unknown): void {
    this.deps.metrics.decodeFailures.inc({ source, reason: code });
    this.deps.rejected.add({ at: new Date(this.deps.clock.now()).toISOString(), source, reason: code, detail, input });
    this.deps.logger.warn({ source, reason: code, detail }, 'source message yielded no readings');
  }
}

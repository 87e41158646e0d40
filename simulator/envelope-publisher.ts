/**
 * Publishes readings the way a gateway does: in envelopes (devices/contract/reading.schema.ts) on
 * `itorg/v1/{torg}/{gateway}/readings`, QoS 1, counting an envelope as delivered only on its PUBACK
 * [MQTT-4.3.2]. Used by the simulator runner and `innbyggertorg publish`.
 *
 * Bounded: at most `batchSize` readings are buffered per gateway, and at most `maxInFlight`
 * envelopes await their PUBACK; `add` waits when either is full, so a fast producer (a backfill)
 * goes at the speed the broker acknowledges and memory stays flat.
 */
import type { MqttClient } from 'mqtt';
import { PlatformError } from '../devices/contract/errors.ts';
import { topics } from '../devices/contract/mqtt-topics.ts';
import { MAX_READINGS_PER_ENVELOPE, SCHEMA_VERSION, type ReadingInput } from '../devices/contract/reading.schema.ts';

export interface EnvelopePublisherOptions {
  client: Pick<MqttClient, 'publishAsync'>;
  /** Readings per envelope (1..MAX_READINGS_PER_ENVELOPE). */
  batchSize: number;
  /** Envelopes awaiting PUBACK at once. */
  maxInFlight: number;
  /** Wall clock for `sentAt`, ms. */
  clock: () => number;
  /**
   * First sequence number per gateway. Each run of a publisher is a new outbox; starting from the
   * clock keeps `seq` increasing across restarts without persisting it.
   */
  seqStart: number;
}

export interface PublishStats {
  envelopes: number;
  readings: number;
  failedEnvelopes: number;
  failedReadings: number;
}

export class EnvelopePublisher {
  private readonly buffers = new Map<string, { torg: string; gateway: string; readings: ReadingInput[] }>();
  private readonly seq = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private firstError: unknown;
  readonly stats: PublishStats = { envelopes: 0, readings: 0, failedEnvelopes: 0, failedReadings: 0 };

  constructor(private readonly opts: EnvelopePublisherOptions) {
    if (!(opts.batchSize >= 1 && opts.batchSize <= MAX_READINGS_PER_ENVELOPE)) {
      throw new PlatformError('E_CONFIG_INVALID', `batch size must be 1..${MAX_READINGS_PER_ENVELOPE}, got ${opts.batchSize}`);
    }
    if (!(opts.maxInFlight >= 1)) throw new PlatformError('E_CONFIG_INVALID', `max in-flight must be ≥ 1, got ${opts.maxInFlight}`);
  }

  async add(torg: string, gateway: string, reading: ReadingInput): Promise<void> {
    const key = topics.readings(torg, gateway);
    let buf = this.buffers.get(key);
    if (!buf) {
      buf = { torg, gateway, readings: [] };
      this.buffers.set(key, buf);
    }
    buf.readings.push(reading);
    if (buf.readings.length >= this.opts.batchSize) await this.flushOne(key);
  }

  /** Sends every partly filled envelope. */
  async flush(): Promise<void> {
    for (const key of [...this.buffers.keys()]) await this.flushOne(key);
  }

  /** Flushes and waits for every PUBACK; throws E_MQTT_UNAVAILABLE if any envelope failed. */
  async drain(): Promise<void> {
    await this.flush();
    await Promise.all(this.inFlight);
    if (this.firstError !== undefined) {
      throw new PlatformError(
        'E_MQTT_UNAVAILABLE',
        `${this.stats.failedEnvelopes} envelope(s) with ${this.stats.failedReadings} reading(s) not acknowledged`,
        { cause: this.firstError },
      );
    }
  }

  private async flushOne(key: string): Promise<void> {
    const buf = this.buffers.get(key);
    if (!buf || buf.readings.length === 0) return;
    const readings = buf.readings;
    buf.readings = [];
    while (this.inFlight.size >= this.opts.maxInFlight) await Promise.race(this.inFlight);
    const seq = this.seq.get(key) ?? this.opts.seqStart;
    this.seq.set(key, seq + 1);
    const envelope = {
      v: SCHEMA_VERSION,
      gateway: buf.gateway,
      torg: buf.torg,
      sentAt: new Date(this.opts.clock()).toISOString(),
      seq,
      readings,
    };
    const p: Promise<void> = this.opts.client
      .publishAsync(key, JSON.stringify(envelope), { qos: 1 })
      .then(
        () => {
          this.stats.envelopes++;
          this.stats.readings += readings.length;
        },
        (err: unknown) => {
          this.firstError ??= err;
          this.stats.failedEnvelopes++;
          this.stats.failedReadings += readings.length;
        },
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}

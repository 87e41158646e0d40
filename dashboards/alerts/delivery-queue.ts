/**
 * A bounded FIFO with one worker, shared by the alert sinks. A sink that is down (broker unreachable,
 * webhook receiver failing, InfluxDB restarting) must neither block the engine nor grow without
 * limit: past `maxItems` the OLDEST item is dropped and counted. For alerts the newest event is the
 * one that matters (a later resolve supersedes an earlier firing), so it is the one kept.
 */
export type DropReason = 'queue_full' | 'closed';

export interface DeliveryQueueOptions<T> {
  maxItems: number;
  /** Items handed to `handle` at once (1 = one at a time). */
  maxBatch: number;
  /** Delivers a batch. Must handle its own errors; a throw is reported to `onError` and the batch is lost. */
  handle: (batch: T[]) => Promise<void>;
  onDrop: (count: number, reason: DropReason) => void;
  onError: (error: unknown, batch: T[]) => void;
}

export class DeliveryQueue<T> {
  private items: T[] = [];
  private running = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: DeliveryQueueOptions<T>) {
    if (!(opts.maxItems >= 1 && opts.maxBatch >= 1)) throw new RangeError('DeliveryQueue: maxItems and maxBatch must be at least 1');
  }

  get size(): number {
    return this.items.length;
  }

  /** Queues an item; false when the queue is closed (the item is counted as dropped). */
  push(item: T): boolean {
    if (this.closed) {
      this.opts.onDrop(1, 'closed');
      return false;
    }
    this.items.push(item);
    if (this.items.length > this.opts.maxItems) {
      const excess = this.items.length - this.opts.maxItems;
      this.items.splice(0, excess);
      this.opts.onDrop(excess, 'queue_full');
    }
    if (!this.running) void this.run();
    return true;
  }

  /** Resolves once everything queued so far has been handled. */
  drain(): Promise<void> {
    if (!this.running && this.items.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting; what is still queued is dropped and counted. Waits for the batch in hand. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.items.length > 0) this.opts.onDrop(this.items.length, 'closed');
    this.items = [];
    await this.drain();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.items.length > 0) {
        const batch = this.items.splice(0, this.opts.maxBatch);
        try {
          await this.opts.handle(batch);
        } catch (error) {
          this.opts.onError(error, batch);
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

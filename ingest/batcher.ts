/**
 * Collects line protocol into write batches bounded by lines, bytes and age, and runs at most
 * `concurrency` writes at a time. Each line is added on behalf of an owner (the MQTT message it came
 * from); an owner is released only after every batch holding one of its lines was written, so the
 * message is acknowledged to the broker only once InfluxDB has its points (at-least-once, issue 2).
 *
 * Memory: sealed batches waiting for a write slot are not bounded here on purpose; they are bounded
 * upstream, because nothing is acknowledged until written and the broker sends at most Receive
 * Maximum unacknowledged messages (plus the in-flight byte budget in deferred-ack.ts).
 */
import type { PointWriter, RejectedPoint } from './point-writer.ts';

/** Counts outstanding work for one message; `onDone` runs when the count reaches zero. */
export class Completion {
  private pending = 1;
  constructor(private readonly onDone: () => void) {}
  hold(): void {
    this.pending++;
  }
  release(): void {
    if (--this.pending === 0) this.onDone();
  }
}

export interface BatcherOptions {
  writer: PointWriter;
  maxLines: number;
  maxBytes: number;
  flushMs: number;
  concurrency: number;
  now: () => number;
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
  /** Called after each successful write with its size and duration (ms, from `now`). */
  onWritten?: (info: { lines: number; bytes: number; durationMs: number }) => void;
  /** Lines InfluxDB refused permanently; the returned promise is awaited before owners are released. */
  onRejected: (rejected: RejectedPoint[]) => Promise<void>;
  /** A write that ended without success (only when the writer is closed). Owners are NOT released. */
  onFailed?: (error: unknown) => void;
}

interface Batch {
  lines: string[];
  bytes: number;
  owners: Completion[];
}

const defaultTimer = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(t) };
};

export class Batcher {
  private current: Batch = { lines: [], bytes: 0, owners: [] };
  private timer: { cancel(): void } | null = null;
  private readonly queue: Batch[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly setTimer: NonNullable<BatcherOptions['setTimer']>;

  constructor(private readonly opts: BatcherOptions) {
    this.setTimer = opts.setTimer ?? defaultTimer;
  }

  /** Lines waiting in the open batch, sealed batches and running writes, for metrics/health. */
  get queuedBatches(): number {
    return this.queue.length + this.running;
  }

  add(line: string, owner: Completion): void {
    const b = this.current;
    // +1 for the newline separator.
    const size = line.length + 1;
    if (b.lines.length > 0 && b.bytes + size > this.opts.maxBytes) this.seal();
    const c = this.current;
    c.lines.push(line);
    c.bytes += size;
    if (c.owners[c.owners.length - 1] !== owner) {
      owner.hold();
      c.owners.push(owner);
    }
    if (c.lines.length >= this.opts.maxLines || c.bytes >= this.opts.maxBytes) this.seal();
    else if (this.running < this.opts.concurrency && this.queue.length === 0) this.scheduleEager();
    else if (this.timer === null) this.timer = this.setTimer(() => this.seal(), this.opts.flushMs);
  }

  /**
   * A write slot is free: write what has arrived as soon as the current burst of messages has been
   * read (setImmediate runs after the pending socket reads). Batches then size themselves: small when
   * traffic is light (low latency), as large as the arrivals during one write when it is heavy (high
   * throughput). A fixed flush interval would cap throughput at Receive Maximum ÷ interval, because the
   * broker sends no more than Receive Maximum unacknowledged messages.
   */
  private eagerPending = false;
  private scheduleEager(): void {
    if (this.eagerPending) return;
    this.eagerPending = true;
    setImmediate(() => {
      this.eagerPending = false;
      if (this.running < this.opts.concurrency) this.seal();
      else if (this.current.lines.length > 0 && this.timer === null) this.timer = this.setTimer(() => this.seal(), this.opts.flushMs);
    });
  }

  /**
   * Forgets every batch not yet handed to the writer, without releasing its owners. Called when the
   * MQTT connection closes: none of those messages was acknowledged, the broker redelivers them on
   * the next session, and keeping them would hold a second copy in memory for every reconnect during
   * an InfluxDB outage. Writes already running finish (their points are harmless duplicates later).
   */
  discardUnstarted(): number {
    if (this.timer) {
      this.timer.cancel();
      this.timer = null;
    }
    let n = this.current.lines.length;
    for (const b of this.queue) n += b.lines.length;
    this.current = { lines: [], bytes: 0, owners: [] };
    this.queue.length = 0;
    return n;
  }

  /** Seals the open batch and resolves when every batch so far has been written. */
  flush(): Promise<void> {
    this.seal();
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private seal(): void {
    if (this.timer) {
      this.timer.cancel();
      this.timer = null;
    }
    if (this.current.lines.length === 0) return;
    this.queue.push(this.current);
    this.current = { lines: [], bytes: 0, owners: [] };
    this.pump();
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      this.running++;
      void this.run(batch).finally(() => {
        this.running--;
        this.pump();
        if (this.running < this.opts.concurrency && this.queue.length === 0 && this.current.lines.length > 0) this.seal();
        if (this.running === 0 && this.queue.length === 0) {
          const w = this.idleWaiters;
          this.idleWaiters = [];
          for (const f of w) f();
        }
      });
    }
  }

  private async run(batch: Batch): Promise<void> {
    const started = this.opts.now();
    try {
      const outcome = await this.opts.writer.write(batch.lines);
      this.opts.onWritten?.({ lines: batch.lines.length - outcome.rejected.length, bytes: batch.bytes, durationMs: this.opts.now() - started });
      if (outcome.rejected.length > 0) await this.opts.onRejected(outcome.rejected);
    } catch (error) {
      // Only a closed writer ends a write without success; the owners stay unacknowledged and the
      // broker redelivers their messages to the next session.
      this.opts.onFailed?.(error);
      return;
    }
    for (const o of batch.owners) o.release();
  }
}

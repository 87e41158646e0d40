/**
 * The last N readings (or source messages) the gateway refused, with reason: what /rejected shows.
 * Bounded ring: the counters (gateway_readings_rejected_total, gateway_decode_failures_total) keep
 * the totals; this keeps enough examples for a person to see what is wrong. Every entry is also
 * logged when it is added.
 */
export interface RejectedEntry {
  at: string;
  source: string;
  reason: string;
  detail: string;
  /** The refused reading or a prefix of the raw message. */
  input: unknown;
}

export class RejectedStore {
  private readonly entries: RejectedEntry[] = [];
  private total = 0;

  constructor(private readonly capacity = 500) {}

  add(entry: RejectedEntry): void {
    this.total++;
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** Newest first. */
  list(): { total: number; kept: number; entries: RejectedEntry[] } {
    return { total: this.total, kept: this.entries.length, entries: [...this.entries].reverse() };
  }
}

/**
 * The seam between anything that produces line protocol (the ingest pipeline, `cli import`) and the
 * store. The InfluxDB implementation is ingest/influx-writer.ts.
 */
export interface RejectedPoint {
  /** Index into the `lines` passed to write(). */
  index: number;
  line: string;
  /** InfluxDB's own reason text. */
  reason: string;
}

export interface WriteOutcome {
  /** Points the store refused permanently (400 / partial write); everything else was accepted. */
  rejected: RejectedPoint[];
}

export interface PointWriter {
  /**
   * Writes the lines. Resolves once every line was accepted or permanently refused. Retriable
   * failures (5xx, timeouts, refused connections) are retried inside with backoff; the promise does
   * not resolve until they succeed or the writer is closed (then it rejects with E_INFLUX_UNAVAILABLE).
   */
  write(lines: readonly string[]): Promise<WriteOutcome>;
  close(): Promise<void>;
}

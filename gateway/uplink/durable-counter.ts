/**
 * A counter that never repeats a value across restarts (envelope `seq`, session `bdSeq`).
 *
 * The high-water mark is written with write-to-temp + fsync + rename + fsync of the directory, the
 * sequence that makes a replaced file durable on POSIX file systems (rename(2) is atomic, but the
 * new directory entry is only durable after the directory is fsynced). To avoid one fsync per
 * envelope, `block` values are reserved at a time: after a crash the counter resumes at the next
 * unreserved value, so values stay strictly increasing, with gaps.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

const fileSchema = z.object({ next: z.number().int().min(0) }).strict();

export class DurableCounter {
  private current: number;
  private reservedUpTo: number;

  constructor(
    private readonly path: string,
    private readonly block = 1,
  ) {
    this.current = existsSync(path) ? fileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).next : 0;
    this.reservedUpTo = this.current;
  }

  /** The next value; persisted (or reserved) before it is returned. */
  next(): number {
    if (this.current >= this.reservedUpTo) {
      this.reservedUpTo = this.current + this.block;
      this.persist(this.reservedUpTo);
    }
    return this.current++;
  }

  private persist(next: number): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify({ next }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dfd = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}

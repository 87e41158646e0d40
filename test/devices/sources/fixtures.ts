import { readFileSync } from 'node:fs';
import { readingSchema, type ReadingInput } from '../../../devices/contract/reading.schema.ts';

const root = new URL('../../fixtures/sources/', import.meta.url);

export function fixtureText(path: string): string {
  return readFileSync(new URL(path, root), 'utf8');
}

export function fixtureJson<T = unknown>(path: string): T {
  return JSON.parse(fixtureText(path)) as T;
}

/** Every reading a source produces must pass the wire contract unchanged. */
export function assertContract(readings: readonly ReadingInput[]): void {
  for (const r of readings) {
    const parsed = readingSchema.safeParse(r);
    if (!parsed.success) throw new Error(`reading violates the contract: ${JSON.stringify(r)}: ${parsed.error.message}`);
  }
}

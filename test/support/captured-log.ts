/** A pino logger whose JSON lines are kept in memory, so a test can assert what was logged. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export function capturedLogger(level: pino.Level = 'info'): { log: Logger; logged: Record<string, unknown>[] } {
  const logged: Record<string, unknown>[] = [];
  const log = pino(
    { level },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );
  return { log, logged };
}

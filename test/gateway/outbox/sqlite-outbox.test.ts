import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { outboxContract } from './outbox.contract.ts';

outboxContract('SqliteOutbox', ({ dir, bounds, clock }) =>
  new SqliteOutbox({ path: join(dir, 'outbox.db'), bounds, clock, logger: pino({ level: 'silent' }), sweepIntervalMs: 0 }),
);

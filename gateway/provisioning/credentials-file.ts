/**
 * The broker credentials a gateway received by provisioning, kept in `{dataDir}/credentials.json`
 * with mode 0600 (the password is sent once, devices/contract/provisioning.schema.ts). Written
 * atomically: a temp file in the same directory, fsynced, renamed over the old one, and the
 * directory fsynced, so a crash leaves either the old file or the new one, never half of one
 * (rename(2) is atomic within a file system, POSIX "rename").
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';
import { slugSchema } from '../../devices/contract/reading.schema.ts';

const CREDENTIALS_FILE = 'credentials.json';

const storedCredentialsSchema = z
  .object({
    v: z.literal(1),
    torg: slugSchema,
    gateway: slugSchema,
    username: z.string().min(1).max(64),
    password: z.string().min(12).max(256),
    issuedAt: z.number().int().nonnegative(),
    /** Suggested uplink settings from the platform (kept for the operator; local config wins). */
    config: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type StoredCredentials = z.infer<typeof storedCredentialsSchema>;

function credentialsPath(dataDir: string): string {
  return join(dataDir, CREDENTIALS_FILE);
}

/** The stored credentials, or null when there is no file. A file that is unreadable or wrong is an error, not "none". */
export function readCredentials(dataDir: string): StoredCredentials | null {
  const path = credentialsPath(dataDir);
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PlatformError('E_CONFIG_INVALID', `${path} is not readable JSON: ${(err as Error).message}`, { cause: err });
  }
  const r = storedCredentialsSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new PlatformError('E_CONFIG_INVALID', `${path}: ${first?.path.map(String).join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  return r.data;
}

export function writeCredentials(dataDir: string, creds: StoredCredentials): void {
  const path = credentialsPath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(storedCredentialsSchema.parse(creds), null, 2)}\n`);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  const dirFd = openSync(dataDir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/**
 * scripts/lib/secrets.sh, as scripts/stack.sh uses it: generated once, kept 0600, replaced not
 * appended, and the key name per torg id.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const LIB = new URL('../../scripts/lib/secrets.sh', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'stack-secrets-'));
const file = join(dir, 'secrets.env');
const sh = (script: string): string => execFileSync('bash', ['-euo', 'pipefail', '-c', `source "$1"; ${script}`, 'sh', LIB, file], { encoding: 'utf8' }).trim();

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/lib/secrets.sh', () => {
  it('secret_ensure generates a 192-bit base64url value once (0600 file) and returns the same one later', () => {
    const first = sh('secret_ensure "$2" STACK_X');
    // 24 bytes in base64 without padding: 32 characters of the URL-safe alphabet.
    expect(first).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(sh('secret_ensure "$2" STACK_X')).toBe(first);
    expect(sh('secret_ensure "$2" STACK_Y')).not.toBe(first);
  });

  it('secret_set replaces a value; secret_get fails for an absent key', () => {
    sh('secret_set "$2" STACK_X replaced-value');
    expect(sh('secret_get "$2" STACK_X')).toBe('replaced-value');
    expect(readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('STACK_X='))).toEqual(['STACK_X=replaced-value']);
    expect(sh('secret_get "$2" STACK_NONE || echo absent')).toBe('absent');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('names a torg key STACK_PROVISIONING_KEY_<ID> with - as _', () => {
    expect(sh('secret_key_for_torg asker-sentrum')).toBe('STACK_PROVISIONING_KEY_ASKER_SENTRUM');
  });
});

import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LOG_REDACT } from '../../../devices/contract/log-redaction.ts';

describe('log redaction', () => {
  it('censors secrets logged at the top level or one object down, and keeps everything else', () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString('utf8');
        done();
      },
    });
    const log = pino({ redact: LOG_REDACT }, sink);
    log.info({ password: 'pw-secret-1', credentials: { username: 'gw-a', password: 'pw-secret-2' }, req: { headers: { authorization: 'Bearer itorg_abc', cookie: 'itorg_token=itorg_def' } }, device: 'a84041000181c61e' }, 'm');
    log.info({ config: { token: 'tok-secret-3', key: 'itpk_heggedal_xyz' } }, 'm');
    for (const secret of ['pw-secret-1', 'pw-secret-2', 'itorg_abc', 'itorg_def', 'tok-secret-3', 'itpk_heggedal_xyz']) expect(out).not.toContain(secret);
    expect(out).toContain('"username":"gw-a"');
    expect(out).toContain('"device":"a84041000181c61e"');
    expect(out.match(/\[redacted\]/g)).toHaveLength(6);
  });
});

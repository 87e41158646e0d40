import { describe, expect, it } from 'vitest';
import { directorySchema } from '../../../devices/contract/device-messages.schema.ts';
import { DeviceDirectory } from '../../../ingest/control/device-directory.ts';

describe('DeviceDirectory', () => {
  it('looks up, sets and removes single devices', () => {
    const d = new DeviceDirectory();
    expect(d.lookup('a')).toBeUndefined();
    d.set('a', { s: 'pending', t: 'tofte' });
    expect(d.lookup('a')).toEqual({ s: 'pending', t: 'tofte' });
    d.set('a', { s: 'active', t: 'tofte' });
    expect(d.lookup('a')).toEqual({ s: 'active', t: 'tofte' });
    d.set('a', null);
    expect(d.lookup('a')).toBeUndefined();
    expect(d.size).toBe(0);
  });

  it('round-trips a snapshot that satisfies the wire schema, and ignores one that is not newer', () => {
    const src = new DeviceDirectory();
    src.set('a', { s: 'active', t: 'tofte' });
    src.set('b', { s: 'decommissioned', t: 'heggedal' });
    const v5 = src.toSnapshot(5, 1000);
    expect(directorySchema.parse(v5)).toEqual({ v: 1, version: 5, at: 1000, devices: { a: { s: 'active', t: 'tofte' }, b: { s: 'decommissioned', t: 'heggedal' } } });

    const dst = new DeviceDirectory();
    dst.set('stale-local', { s: 'pending', t: 'tofte' });
    expect(dst.applySnapshot(v5)).toBe(true);
    // A snapshot replaces everything, entries it does not list included.
    expect(dst.lookup('stale-local')).toBeUndefined();
    expect(dst.lookup('b')).toEqual({ s: 'decommissioned', t: 'heggedal' });
    expect(dst.version).toBe(5);

    src.set('c', { s: 'pending', t: 'tofte' });
    // Older (a retained snapshot redelivered after a live one) and equal versions are ignored.
    expect(dst.applySnapshot(src.toSnapshot(4, 2000))).toBe(false);
    expect(dst.applySnapshot(src.toSnapshot(5, 2000))).toBe(false);
    expect(dst.lookup('c')).toBeUndefined();
    expect(dst.applySnapshot(src.toSnapshot(6, 2000))).toBe(true);
    expect(dst.lookup('c')).toEqual({ s: 'pending', t: 'tofte' });
    expect(dst.size).toBe(3);
  });
});

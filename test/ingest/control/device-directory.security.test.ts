/**
 * Security review of DeviceDirectory.provisional (ingest/control/device-directory.ts). In the `all`
 * instance the directory is the control plane's own and never receives a snapshot, so provisional
 * entries made from births on the reading connection must expire and be bounded by themselves: a
 * birth the control plane refused (unknown gateway, device limit) would otherwise leave a pending
 * entry forever, letting that device's readings in as pending and growing the published snapshot.
 */
import { describe, expect, it } from 'vitest';
import { DeviceDirectory, MAX_PROVISIONALS, PROVISIONAL_TTL_MS } from '../../../ingest/control/device-directory.ts';

describe('DeviceDirectory provisional entries without snapshots', () => {
  it('an entry the registry never confirmed is gone once its TTL has passed (at the next birth)', () => {
    const d = new DeviceDirectory();
    d.provisional('refused', 'tofte', 1_000);
    expect(d.lookup('refused')).toEqual({ s: 'pending', t: 'tofte' });
    d.provisional('next', 'tofte', 1_000 + PROVISIONAL_TTL_MS);
    // Exactly at the TTL it is still there; one millisecond later it is not.
    expect(d.lookup('refused')).toEqual({ s: 'pending', t: 'tofte' });
    d.provisional('later', 'tofte', 1_001 + PROVISIONAL_TTL_MS);
    expect(d.lookup('refused')).toBeUndefined();
    expect(d.lookup('next')).toEqual({ s: 'pending', t: 'tofte' });
    expect(d.size).toBe(2);
  });

  it('an entry the control plane set (the registry answered) never expires', () => {
    const d = new DeviceDirectory();
    d.provisional('known', 'tofte', 0);
    d.set('known', { s: 'active', t: 'tofte' });
    d.provisional('other', 'tofte', 10 * PROVISIONAL_TTL_MS);
    expect(d.lookup('known')).toEqual({ s: 'active', t: 'tofte' });
  });

  it('holds at most MAX_PROVISIONALS unconfirmed entries and counts the births it did not provision', () => {
    const d = new DeviceDirectory();
    for (let i = 0; i < MAX_PROVISIONALS; i++) d.provisional(`dev-${i}`, 'tofte', 0);
    d.provisional('one-too-many', 'tofte', 1);
    expect(d.lookup('one-too-many')).toBeUndefined();
    expect(d.provisionalsRefused).toBe(1);
    expect(d.size).toBe(MAX_PROVISIONALS);
  });
});

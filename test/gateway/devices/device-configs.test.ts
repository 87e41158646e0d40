import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { topics } from '../../../devices/contract/mqtt-topics.ts';
import { DeviceConfigStore } from '../../../gateway/devices/device-configs.ts';

const logger = pino({ level: 'silent' });
const topic = (device: string) => topics.deviceConfig('tofte', 'gw-tofte', device);
const cfg = (device: string, over: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({ v: 1, device, status: 'active', enabled: true, place: { type: 'zone', zone: 'lesesal' }, placeName: 'Lesesal', expectedIntervalS: 600, updatedAt: 1_764_000_000_000, ...over }),
  );

describe('DeviceConfigStore', () => {
  it('applies a config and treats a device without one as enabled', () => {
    const s = new DeviceConfigStore('tofte', 'gw-tofte', logger);
    expect(s.isEnabled('dev-1')).toBe(true);
    expect(s.handle(topic('dev-1'), cfg('dev-1', { enabled: false }))).toEqual({ ok: true, action: 'set', device: 'dev-1' });
    expect(s.isEnabled('dev-1')).toBe(false);
    expect(s.get('dev-1')?.expectedIntervalS).toBe(600);
  });

  it('never enables a decommissioned device, whatever `enabled` says', () => {
    const s = new DeviceConfigStore('tofte', 'gw-tofte', logger);
    s.handle(topic('dev-1'), cfg('dev-1', { status: 'decommissioned', enabled: true, place: null, placeName: null }));
    expect(s.isEnabled('dev-1')).toBe(false);
  });

  it('removes the config on an empty payload', () => {
    const s = new DeviceConfigStore('tofte', 'gw-tofte', logger);
    s.handle(topic('dev-1'), cfg('dev-1', { enabled: false }));
    expect(s.handle(topic('dev-1'), Buffer.alloc(0))).toEqual({ ok: true, action: 'removed', device: 'dev-1' });
    expect(s.get('dev-1')).toBeUndefined();
    expect(s.isEnabled('dev-1')).toBe(true);
  });

  it('ignores invalid payloads with a reason and keeps the previous config', () => {
    const s = new DeviceConfigStore('tofte', 'gw-tofte', logger);
    s.handle(topic('dev-1'), cfg('dev-1', { enabled: false }));
    expect(s.handle(topic('dev-1'), Buffer.from('{not json'))).toMatchObject({ ok: false, reason: 'E_CONFIG_NOT_JSON' });
    expect(s.handle(topic('dev-1'), cfg('dev-1', { enabled: 'no' }))).toMatchObject({ ok: false, reason: 'E_CONFIG_INVALID' });
    // A payload for another device on this device's topic.
    expect(s.handle(topic('dev-1'), cfg('dev-2'))).toMatchObject({ ok: false, reason: 'E_CONFIG_DEVICE_MISMATCH' });
    expect(s.handle(topics.deviceConfig('tofte', 'gw-other', 'dev-1'), cfg('dev-1'))).toMatchObject({ ok: false, reason: 'E_CONFIG_TOPIC' });
    expect(s.isEnabled('dev-1')).toBe(false);
  });

  it('is bounded', () => {
    const s = new DeviceConfigStore('tofte', 'gw-tofte', logger, 2);
    for (const d of ['dev-1', 'dev-2']) expect(s.handle(topic(d), cfg(d)).ok).toBe(true);
    expect(s.handle(topic('dev-3'), cfg('dev-3'))).toMatchObject({ ok: false, reason: 'E_CONFIG_INVALID' });
    // Updating a known device is still possible at the bound.
    expect(s.handle(topic('dev-1'), cfg('dev-1', { enabled: false })).ok).toBe(true);
  });
});

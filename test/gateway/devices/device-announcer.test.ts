import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { topics } from '../../../devices/contract/mqtt-topics.ts';
import type { Reading } from '../../../devices/contract/reading.schema.ts';
import { DeviceAnnouncer } from '../../../gateway/devices/device-announcer.ts';
import { DeviceCatalog } from '../../../gateway/devices/device-catalog.ts';
import { DeviceConfigStore } from '../../../gateway/devices/device-configs.ts';
import { createGatewayMetrics } from '../../../gateway/metrics.ts';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-24T08:00:00.000Z');
const reading = (device: string): Reading => ({ device, time: '2026-11-24T08:00:00.000Z', kind: 'presence', occupied: true });

describe('DeviceAnnouncer', () => {
  let dir: string;
  let catalog: DeviceCatalog;
  let announcer: DeviceAnnouncer;
  const metrics = () => createGatewayMetrics({ defaultMetrics: false, outbox: () => null, uplinkState: () => 'online' });
  let m: ReturnType<typeof metrics>;
  let kicks: number;

  beforeEach(() => {
    vi.useFakeTimers();
    dir = mkdtempSync(join(tmpdir(), 'gw-announcer-'));
    catalog = new DeviceCatalog({ path: join(dir, 'devices.db'), clock: { now: () => T0 } });
    m = metrics();
    kicks = 0;
    announcer = new DeviceAnnouncer({
      torg: 'tofte',
      gateway: 'gw-tofte',
      catalog,
      configs: new DeviceConfigStore('tofte', 'gw-tofte', logger),
      sourceKinds: new Map([['z2m', 'zigbee2mqtt']]),
      logger,
      metrics: m,
      rebirthDelayMs: 1_000,
      inventoryDebounceMs: 500,
    });
    announcer.attach({ kick: () => kicks++, publish: () => Promise.resolve(true) });
    announcer.admit('z2m', [reading('0x00124b0001')], [{ device: '0x00124b0001', name: 'lesesal-pir' }], T0);
    announcer.admit('z2m', [reading('0x00124b0002')], undefined, T0);
    announcer.sent(announcer.take(10));
  });

  afterEach(() => {
    announcer.stop();
    catalog.close();
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  const state = (instance: string, payload: string, retained: boolean) => announcer.onMessage(topics.ingestState(instance), Buffer.from(payload), retained);
  const rebirths = async () => (await m.rebirths.get()).values[0]?.value ?? 0;

  it('births name the source kind and the zigbee friendly name', () => {
    announcer.admit('z2m', [reading('0x00124b0003')], [{ device: '0x00124b0003', name: 'moterom-pir' }], T0);
    const [b] = announcer.take(10);
    expect(b?.topic).toBe('itorg/v1/tofte/gw-tofte/devices/0x00124b0003/birth');
    expect(JSON.parse(b?.payload ?? '{}')).toMatchObject({ source: 'zigbee2mqtt', name: 'moterom-pir', deviceClass: 'battery', kinds: ['presence'] });
  });

  it('coalesces ingests coming online into one re-birth of every known device', async () => {
    state('ingest-a', '{"online":true}', false);
    state('ingest-b', '{"online":true}', false);
    expect(catalog.dueCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await rebirths()).toBe(1);
    expect(kicks).toBe(1);
    expect(announcer.take(10).map((a) => a.topic.split('/')[5])).toEqual(['0x00124b0001', '0x00124b0002']);
  });

  it('acts on a retained online state only when it differs from the last one seen from that instance', async () => {
    state('ingest-a', '{"online":true}', true); // first sight in this run
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await rebirths()).toBe(1);
    announcer.sent(announcer.take(10));
    state('ingest-a', '{"online":true}', true); // our reconnect re-delivers the same retained state
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await rebirths()).toBe(1);
    state('ingest-a', '{"online":false}', false);
    state('ingest-a', '{"online":true}', true); // went away and came back while we were not looking
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await rebirths()).toBe(2);
  });

  it('ignores an ingest state that is not the contract', async () => {
    state('ingest-a', 'online', false);
    state('ingest-a', '{"online":"yes"}', false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await rebirths()).toBe(0);
  });

  it('drops readings of a disabled device and counts them by reason', async () => {
    announcer.onMessage(
      topics.deviceConfig('tofte', 'gw-tofte', '0x00124b0001'),
      Buffer.from(JSON.stringify({ v: 1, device: '0x00124b0001', status: 'active', enabled: false, place: null, placeName: null, expectedIntervalS: null, updatedAt: T0 })),
      true,
    );
    const kept = announcer.admit('z2m', [reading('0x00124b0001'), reading('0x00124b0002'), reading('0x00124b0001')], undefined, T0);
    expect(kept.map((r) => r.device)).toEqual(['0x00124b0002']);
    expect((await m.readingsDiscarded.get()).values).toEqual([expect.objectContaining({ labels: { reason: 'device_disabled' }, value: 2 })]);
  });
});

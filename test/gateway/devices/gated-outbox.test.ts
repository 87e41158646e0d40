import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { topics } from '../../../devices/contract/mqtt-topics.ts';
import type { Reading } from '../../../devices/contract/reading.schema.ts';
import { DeviceAnnouncer } from '../../../gateway/devices/device-announcer.ts';
import { DeviceCatalog } from '../../../gateway/devices/device-catalog.ts';
import { DeviceConfigStore } from '../../../gateway/devices/device-configs.ts';
import { gatedOutbox } from '../../../gateway/devices/gated-outbox.ts';
import { createGatewayMetrics } from '../../../gateway/metrics.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-24T08:00:00.000Z');
const clock = { now: () => T0 };
const door = (device: string): Reading => ({ device, time: '2026-11-24T08:00:00.000Z', kind: 'door', open: true });

describe('gatedOutbox (Node-RED appends)', () => {
  let dir: string;
  let outbox: SqliteOutbox;
  let catalog: DeviceCatalog;
  let announcer: DeviceAnnouncer;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-gated-'));
    outbox = new SqliteOutbox({ path: join(dir, 'outbox.db'), bounds: { maxReadings: 100, maxBytes: 1e6, maxAgeMs: 86_400_000 }, clock, logger });
    catalog = new DeviceCatalog({ path: join(dir, 'devices.db'), clock });
    announcer = new DeviceAnnouncer({
      torg: 'tofte',
      gateway: 'gw-tofte',
      catalog,
      configs: new DeviceConfigStore('tofte', 'gw-tofte', logger),
      sourceKinds: new Map([['nodered', 'direct']]),
      logger,
      metrics: createGatewayMetrics({ defaultMetrics: false, outbox: () => null, uplinkState: () => 'online' }),
    });
  });
  afterEach(async () => {
    announcer.stop();
    catalog.close();
    await outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks births due and leaves out disabled devices before appending', async () => {
    announcer.onMessage(
      topics.deviceConfig('tofte', 'gw-tofte', 'dev-off'),
      Buffer.from(JSON.stringify({ v: 1, device: 'dev-off', status: 'active', enabled: false, place: null, placeName: null, expectedIntervalS: null, updatedAt: T0 })),
      true,
    );
    await gatedOutbox(outbox, announcer, 'nodered', clock).append([door('dev-on'), door('dev-off')]);
    expect((await outbox.claim(10)).map((e) => e.reading.device)).toEqual(['dev-on']);
    expect(announcer.take(10).map((a) => JSON.parse(a.payload) as { device: string; source: string }).map((b) => [b.device, b.source])).toEqual([['dev-on', 'direct']]);
  });
});

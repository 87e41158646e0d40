import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryPlaceCache } from '../../../ingest/control/place-cache.ts';
import { SqliteRegistry } from '../../../ingest/registry/sqlite-registry.ts';
import { CLIMATE, COUNTER, DOOR, MIN, T0, climateBirth, counterBirth, doorBirth, samplePlaces } from '../registry/registry.contract.ts';

const LINE_2 = { type: 'entrance', entrance: 'hovedinngang', line: 'line-2' } as const;
const MOTE_1 = { type: 'zone', zone: 'mote-1' } as const;
const MOTE_2 = { type: 'zone', zone: 'mote-2' } as const;

describe('RegistryPlaceCache', () => {
  let registry: SqliteRegistry;
  let logs: string[];
  let now: number;
  let cache: RegistryPlaceCache;

  beforeEach(async () => {
    registry = new SqliteRegistry({ path: ':memory:', knownPlaces: samplePlaces(), now: () => T0 });
    await registry.upsertGateway({ torg: 'asker-sentrum', id: 'gw-asker' });
    await registry.upsertGateway({ torg: 'heggedal', id: 'gw-heggedal' });
    await registry.announceDevice(climateBirth());
    await registry.announceDevice(counterBirth());
    await registry.announceDevice(doorBirth());
    // CLIMATE: mote-1 [T0+1m, T0+5m), mote-2 from T0+5m. COUNTER: line-2 [T0+2m, T0+7m), then decommissioned.
    await registry.assign({ device: CLIMATE, torg: 'asker-sentrum', place: MOTE_1, at: T0 + MIN });
    await registry.assign({ device: COUNTER, torg: 'asker-sentrum', place: LINE_2, at: T0 + 2 * MIN });
    await registry.assign({ device: CLIMATE, torg: 'asker-sentrum', place: MOTE_2, at: T0 + 5 * MIN });
    await registry.decommission(COUNTER, T0 + 7 * MIN);
    logs = [];
    now = T0 + 10 * MIN;
    cache = new RegistryPlaceCache({ registry, now: () => now, logger: pino({ level: 'warn' }, { write: (s: string) => void logs.push(s) }) });
  });
  afterEach(async () => {
    cache.stop();
    await registry.close();
  });

  it('knows nothing before its first refresh', () => {
    expect(cache.lookup(CLIMATE)).toBeUndefined();
    expect(cache.devicesOf('asker-sentrum')).toEqual([]);
    expect(cache.assignmentAt(CLIMATE, T0 + 6 * MIN)).toBeNull();
  });

  it('gives each device its current place, class and status, and each torg its devices that are not decommissioned', async () => {
    await cache.refresh();
    expect(cache.lookup(CLIMATE)).toEqual({ torg: 'asker-sentrum', place: MOTE_2, status: 'active', model: 'milesight-am319', deviceClass: 'battery', expectedIntervalS: null });
    expect(cache.lookup(COUNTER)).toEqual({ torg: 'asker-sentrum', place: null, status: 'decommissioned', model: 'milesight-vs133', deviceClass: 'mains', expectedIntervalS: 300 });
    expect(cache.lookup(DOOR)).toEqual({ torg: 'heggedal', place: null, status: 'pending', model: 'aqara-mccgq11lm', deviceClass: 'battery', expectedIntervalS: null });
    expect(cache.lookup('ffffffffffffffff')).toBeUndefined();
    expect(cache.devicesOf('asker-sentrum')).toEqual([CLIMATE]);
    expect(cache.devicesOf('heggedal')).toEqual([DOOR]);
    expect(cache.devicesOf('tofte')).toEqual([]);
    expect(cache.classOf(COUNTER)).toBe('mains');
    expect(cache.classOf('ffffffffffffffff')).toBeUndefined();
  });

  it('answers where a device was at any instant from its whole history (half-open intervals)', async () => {
    await cache.refresh();
    const at = (device: string, ms: number) => cache.assignmentAt(device, ms);
    expect(at(CLIMATE, T0 + MIN - 1)).toBeNull();
    expect(at(CLIMATE, T0 + MIN)).toEqual({ torg: 'asker-sentrum', place: MOTE_1 });
    expect(at(CLIMATE, T0 + 5 * MIN - 1)).toEqual({ torg: 'asker-sentrum', place: MOTE_1 });
    expect(at(CLIMATE, T0 + 5 * MIN)).toEqual({ torg: 'asker-sentrum', place: MOTE_2 });
    expect(at(CLIMATE, Date.parse('2030-01-01T00:00:00.000Z'))).toEqual({ torg: 'asker-sentrum', place: MOTE_2 });
    expect(at(COUNTER, T0 + 2 * MIN)).toEqual({ torg: 'asker-sentrum', place: LINE_2 });
    expect(at(COUNTER, T0 + 7 * MIN - 1)).toEqual({ torg: 'asker-sentrum', place: LINE_2 });
    expect(at(COUNTER, T0 + 7 * MIN)).toBeNull();
    expect(at(DOOR, T0 + 7 * MIN)).toBeNull();
  });

  it('shows a change only after the next refresh; an assignment starting after now has no current place yet', async () => {
    await cache.refresh();
    await registry.assign({ device: DOOR, torg: 'heggedal', place: { type: 'zone', zone: 'sal' }, at: T0 + 20 * MIN });
    expect(cache.lookup(DOOR)?.status).toBe('pending');
    expect(cache.assignmentAt(DOOR, T0 + 20 * MIN)).toBeNull();

    await cache.refresh();
    // now = T0+10m: the device is active, but its assignment starts at T0+20m.
    expect(cache.lookup(DOOR)).toMatchObject({ torg: 'heggedal', place: null, status: 'active' });
    expect(cache.assignmentAt(DOOR, T0 + 20 * MIN)).toEqual({ torg: 'heggedal', place: { type: 'zone', zone: 'sal' } });
    now = T0 + 20 * MIN;
    await cache.refresh();
    expect(cache.lookup(DOOR)?.place).toEqual({ type: 'zone', zone: 'sal' });
  });

  it('runs one refresh at a time, and keeps the previous snapshot when the registry fails', async () => {
    const first = cache.refresh();
    expect(cache.refresh()).toBe(first);
    await first;
    await registry.close();
    await cache.refresh();
    expect(cache.lookup(CLIMATE)?.place).toEqual(MOTE_2);
    expect(cache.devicesOf('heggedal')).toEqual([DOOR]);
    expect(logs).toHaveLength(1);
    expect(JSON.parse(logs[0]!)).toMatchObject({ level: 40, msg: 'registry place cache refresh failed; keeping the previous one', err: { code: 'E_REGISTRY_CLOSED' } });
  });
});

/**
 * The contract every Registry implementation passes (style: MQTT.js test/node/abstract_store.ts,
 * test/gateway/outbox/outbox.contract.ts). Call `registryContract(name, factory)` from an
 * implementation's test file. The factory opens the registry stored under `dir`; calling it twice
 * with the same dir must reopen the same storage.
 *
 * Places come from the shipped torg model (config/torg.asker.sample.json). The expectations below
 * were read off that file by hand: asker-sentrum has zones service, mote-1, mote-2, … and entrances
 * hovedinngang (line-1, line-2) and bibliotekinngang (line-1); heggedal has zones service, mote-1,
 * arbeid, sal, bibliotek and one entrance hovedinngang (line-1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { RegistryError } from '../../../ingest/registry/registry-errors.ts';
import type { RegistryErrorCode } from '../../../ingest/registry/registry-errors.ts';
import { knownPlacesFromTorgConfig } from '../../../ingest/registry/registry.ts';
import type { DeviceAnnounce, KnownPlaces, Registry } from '../../../ingest/registry/registry.ts';

export type RegistryFactory = (args: { dir: string; knownPlaces: KnownPlaces; now: () => number }) => Registry;

export const SAMPLE_TORG_FILE = fileURLToPath(new URL('../../../config/torg.asker.sample.json', import.meta.url));
export const samplePlaces = (): KnownPlaces => knownPlacesFromTorgConfig(loadTorgConfig(SAMPLE_TORG_FILE));

export const T0 = Date.parse('2026-11-24T09:00:00.000Z');
export const MIN = 60_000;

/** A people counter heard by gw-asker (the README's example DevEUI). */
export const COUNTER = '24e124538b223213';
/** A climate/presence sensor heard by gw-asker (the README's example DevEUI). */
export const CLIMATE = '24e124710b423527';
/** A Zigbee door sensor heard by gw-heggedal. */
export const DOOR = '0x00158d0001a2b3c4';

export function counterBirth(overrides: Partial<DeviceAnnounce> = {}): DeviceAnnounce {
  return {
    id: COUNTER,
    torg: 'asker-sentrum',
    gateway: 'gw-asker',
    model: 'milesight-vs133',
    kinds: ['counter'],
    units: { periodIn: 'people', periodOut: 'people' },
    deviceClass: 'mains',
    expectedIntervalS: 300,
    ...overrides,
  };
}
export function climateBirth(overrides: Partial<DeviceAnnounce> = {}): DeviceAnnounce {
  return {
    id: CLIMATE,
    torg: 'asker-sentrum',
    gateway: 'gw-asker',
    model: 'milesight-am319',
    kinds: ['climate', 'presence'],
    units: { temperature: '°C', humidity: '%RH', co2: 'ppm' },
    deviceClass: 'battery',
    ...overrides,
  };
}
export function doorBirth(overrides: Partial<DeviceAnnounce> = {}): DeviceAnnounce {
  return {
    id: DOOR,
    torg: 'heggedal',
    gateway: 'gw-heggedal',
    model: 'aqara-mccgq11lm',
    kinds: ['door'],
    deviceClass: 'battery',
    ...overrides,
  };
}

/** Awaits a rejection and checks it is a RegistryError with this code and retriability. */
export async function expectRegistryError(p: Promise<unknown>, code: RegistryErrorCode, retriable = false): Promise<RegistryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryError);
  expect((err as RegistryError).code).toBe(code);
  expect((err as RegistryError).retriable).toBe(retriable);
  return err as RegistryError;
}

export function registryContract(name: string, factory: RegistryFactory): void {
  describe(`Registry contract: ${name}`, () => {
    let dir: string;
    let t: number;
    const open: Registry[] = [];
    const places = samplePlaces();
    const make = (knownPlaces: KnownPlaces = places): Registry => {
      const r = factory({ dir, knownPlaces, now: () => t });
      open.push(r);
      return r;
    };
    /** A registry with the two gateways the fixtures announce through. */
    const withGateways = async (): Promise<Registry> => {
      const r = make();
      await r.upsertGateway({ torg: 'asker-sentrum', id: 'gw-asker' });
      await r.upsertGateway({ torg: 'heggedal', id: 'gw-heggedal' });
      return r;
    };

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'registry-contract-'));
      t = T0;
    });
    afterEach(async () => {
      for (const r of open.splice(0)) await r.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('lists the seven torg of the model', async () => {
      const r = make();
      expect(await r.listTorg()).toEqual(
        ['asker-sentrum', 'heggedal', 'royken', 'saetre', 'slemmestad', 'spikkestad', 'tofte'].map((id) => ({
          id,
          name: expect.any(String) as unknown,
          inModel: true,
        })),
      );
    });

    it('registers a gateway once per (torg, id), updates its credentials reference, tracks last seen and status', async () => {
      const r = make();
      const g = await r.upsertGateway({ torg: 'heggedal', id: 'gw-heggedal', credentialsRef: 'mqtt-user:gw-heggedal' });
      expect(g).toEqual({
        torg: 'heggedal',
        id: 'gw-heggedal',
        status: 'active',
        credentialsRef: 'mqtt-user:gw-heggedal',
        createdAt: T0,
        lastSeenAt: null,
      });
      t = T0 + 5 * MIN;
      const again = await r.upsertGateway({ torg: 'heggedal', id: 'gw-heggedal', credentialsRef: 'mqtt-user:gw-heggedal-2' });
      expect(again.createdAt).toBe(T0);
      expect(again.credentialsRef).toBe('mqtt-user:gw-heggedal-2');
      // Without a reference the stored one is kept.
      expect((await r.upsertGateway({ torg: 'heggedal', id: 'gw-heggedal' })).credentialsRef).toBe('mqtt-user:gw-heggedal-2');

      expect((await r.gatewaySeen('heggedal', 'gw-heggedal')).lastSeenAt).toBe(T0 + 5 * MIN);
      // A late sighting does not move last-seen backwards.
      expect((await r.gatewaySeen('heggedal', 'gw-heggedal', T0 + MIN)).lastSeenAt).toBe(T0 + 5 * MIN);
      expect((await r.setGatewayStatus('heggedal', 'gw-heggedal', 'disabled')).status).toBe('disabled');
      expect(await r.listGateways()).toHaveLength(1);
      expect(await r.listGateways('asker-sentrum')).toEqual([]);
      expect(await r.getGateway('asker-sentrum', 'gw-heggedal')).toBeNull();

      await expectRegistryError(r.upsertGateway({ torg: 'oslo', id: 'gw-oslo' }), 'E_REGISTRY_UNKNOWN_TORG');
      await expectRegistryError(r.gatewaySeen('heggedal', 'gw-nope'), 'E_REGISTRY_UNKNOWN_GATEWAY');
      await expectRegistryError(r.upsertGateway({ torg: 'Heggedal', id: 'gw 1' }), 'E_REGISTRY_INVALID_INPUT');
    });

    it('makes an unknown device pending, and a re-announce updates the same record instead of adding one', async () => {
      const r = await withGateways();
      const first = await r.announceDevice(counterBirth());
      expect(first).toEqual({
        created: true,
        torgConflict: false,
        device: {
          id: COUNTER,
          torg: 'asker-sentrum',
          gateway: 'gw-asker',
          model: 'milesight-vs133',
          kinds: ['counter'],
          units: { periodIn: 'people', periodOut: 'people' },
          deviceClass: 'mains',
          expectedIntervalS: 300,
          status: 'pending',
          enabled: true,
          firstSeenAt: T0,
          lastSeenAt: T0,
        },
      });

      t = T0 + 10 * MIN;
      const again = await r.announceDevice(
        counterBirth({ model: 'milesight-vs133-p', kinds: ['health', 'counter', 'counter'], expectedIntervalS: undefined }),
      );
      expect(again.created).toBe(false);
      expect(again.device).toEqual({
        ...first.device,
        model: 'milesight-vs133-p',
        // Kinds are kept as a set, sorted.
        kinds: ['counter', 'health'],
        expectedIntervalS: null,
        lastSeenAt: T0 + 10 * MIN,
      });
      expect(await r.listDevices()).toHaveLength(1);
      expect(await r.getDevice(COUNTER)).toEqual(again.device);
      expect(await r.getDevice('ffffffffffffffff')).toBeNull();
    });

    it('refuses a birth from an unregistered gateway or with an invalid body, and stores nothing', async () => {
      const r = await withGateways();
      await expectRegistryError(r.announceDevice(counterBirth({ gateway: 'gw-ukjent' })), 'E_REGISTRY_UNKNOWN_GATEWAY');
      // gw-heggedal exists, but under heggedal, not asker-sentrum.
      await expectRegistryError(r.announceDevice(counterBirth({ gateway: 'gw-heggedal' })), 'E_REGISTRY_UNKNOWN_GATEWAY');
      const invalid = await expectRegistryError(r.announceDevice(counterBirth({ kinds: [] })), 'E_REGISTRY_INVALID_INPUT');
      expect(invalid.message).toContain('kinds');
      await expectRegistryError(r.announceDevice(counterBirth({ id: 'bad id/with slash' })), 'E_REGISTRY_INVALID_INPUT');
      expect(await r.listDevices()).toEqual([]);
    });

    it('assigns a pending device: status active and one open assignment', async () => {
      const r = await withGateways();
      await r.announceDevice(climateBirth());
      t = T0 + 30 * MIN;
      const a = await r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-1' } });
      expect(a).toEqual({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-1' }, validFrom: T0 + 30 * MIN, validTo: null });
      expect((await r.getDevice(CLIMATE))?.status).toBe('active');
      expect(await r.assignmentHistory(CLIMATE)).toEqual([a]);
    });

    it('keeps history on reassignment: [t1, t2) old zone, [t2, ∞) new zone, and answers assignmentAt at every boundary', async () => {
      const r = await withGateways();
      await r.announceDevice(climateBirth());
      const t1 = Date.parse('2026-11-24T10:00:00.000Z');
      const t2 = Date.parse('2026-12-01T08:30:00.000Z');
      await r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-1' }, at: t1 });
      t = t2 + 3 * MIN; // the admin acts a little later than the move it records
      await r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-2' }, at: t2 });

      const old = { device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-1' }, validFrom: t1, validTo: t2 };
      const now = { device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-2' }, validFrom: t2, validTo: null };
      expect(await r.assignmentHistory(CLIMATE)).toEqual([old, now]);

      expect(await r.assignmentAt(CLIMATE, t1 - 1)).toBeNull();
      expect(await r.assignmentAt(CLIMATE, t1)).toEqual(old);
      expect(await r.assignmentAt(CLIMATE, Date.parse('2026-11-28T12:00:00.000Z'))).toEqual(old);
      expect(await r.assignmentAt(CLIMATE, t2 - 1)).toEqual(old);
      expect(await r.assignmentAt(CLIMATE, t2)).toEqual(now);
      expect(await r.assignmentAt(CLIMATE, Date.parse('2030-01-01T00:00:00.000Z'))).toEqual(now);
      expect(await r.assignmentAt(DOOR, t2)).toBeNull();
    });

    it('re-assigning the place a device already holds changes nothing', async () => {
      const r = await withGateways();
      await r.announceDevice(counterBirth());
      const place = { type: 'entrance', entrance: 'hovedinngang', line: 'line-2' } as const;
      const a = await r.assign({ device: COUNTER, torg: 'asker-sentrum', place, at: T0 + MIN });
      const b = await r.assign({ device: COUNTER, torg: 'asker-sentrum', place, at: T0 + 9 * MIN });
      expect(b).toEqual(a);
      expect(await r.assignmentHistory(COUNTER)).toEqual([
        { device: COUNTER, torg: 'asker-sentrum', place, validFrom: T0 + MIN, validTo: null },
      ]);
    });

    it('refuses to rewrite history: an assignment at or before the open one starts', async () => {
      const r = await withGateways();
      await r.announceDevice(climateBirth());
      await r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-1' }, at: T0 + 60 * MIN });
      await expectRegistryError(
        r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' }, at: T0 + 60 * MIN }),
        'E_REGISTRY_HISTORY_ORDER',
      );
      await expectRegistryError(
        r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' }, at: T0 }),
        'E_REGISTRY_HISTORY_ORDER',
      );
      expect(await r.assignmentHistory(CLIMATE)).toEqual([
        { device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-1' }, validFrom: T0 + 60 * MIN, validTo: null },
      ]);
    });

    it('decommissions: closes the open assignment, sets the status, refuses new assignments, is idempotent', async () => {
      const r = await withGateways();
      await r.announceDevice(climateBirth());
      await r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'arbeid' }, at: T0 + MIN });
      t = T0 + 120 * MIN;
      const d = await r.decommission(CLIMATE);
      expect(d.status).toBe('decommissioned');
      expect(await r.assignmentHistory(CLIMATE)).toEqual([
        { device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'arbeid' }, validFrom: T0 + MIN, validTo: T0 + 120 * MIN },
      ]);
      expect((await r.assignmentAt(CLIMATE, T0 + 120 * MIN - 1))?.place).toEqual({ type: 'zone', zone: 'arbeid' });
      expect(await r.assignmentAt(CLIMATE, T0 + 120 * MIN)).toBeNull();

      await expectRegistryError(
        r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' }, at: T0 + 200 * MIN }),
        'E_REGISTRY_DECOMMISSIONED',
      );
      t = T0 + 300 * MIN;
      expect(await r.decommission(CLIMATE)).toEqual(d);
      // A birth from a decommissioned device updates what it reports but never revives it.
      const re = await r.announceDevice(climateBirth());
      expect(re.created).toBe(false);
      expect(re.device.status).toBe('decommissioned');
      expect(await r.assignmentHistory(CLIMATE)).toHaveLength(1);
      await expectRegistryError(r.decommission(DOOR), 'E_REGISTRY_UNKNOWN_DEVICE');
    });

    it('decommissions a pending device that was never assigned, with no history', async () => {
      const r = await withGateways();
      await r.announceDevice(doorBirth());
      expect((await r.decommission(DOOR)).status).toBe('decommissioned');
      expect(await r.assignmentHistory(DOOR)).toEqual([]);
    });

    it('lists every assignment of every device in one read: by device id, then oldest first', async () => {
      const r = await withGateways();
      expect(await r.listAssignments()).toEqual([]);
      await r.announceDevice(climateBirth());
      await r.announceDevice(counterBirth());
      await r.announceDevice(doorBirth());
      const line2 = { type: 'entrance', entrance: 'hovedinngang', line: 'line-2' } as const;
      await r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-1' }, at: T0 + MIN });
      await r.assign({ device: COUNTER, torg: 'asker-sentrum', place: line2, at: T0 + 2 * MIN });
      await r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-2' }, at: T0 + 5 * MIN });
      await r.decommission(COUNTER, T0 + 7 * MIN);
      // DOOR stays pending: a device without assignments has no rows.
      // Device ids compare as '0x00…' (DOOR) < '24e1245…' (COUNTER) < '24e1247…' (CLIMATE).
      expect(await r.listAssignments()).toEqual([
        { device: COUNTER, torg: 'asker-sentrum', place: line2, validFrom: T0 + 2 * MIN, validTo: T0 + 7 * MIN },
        { device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-1' }, validFrom: T0 + MIN, validTo: T0 + 5 * MIN },
        { device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-2' }, validFrom: T0 + 5 * MIN, validTo: null },
      ]);
      await r.assign({ device: DOOR, torg: 'heggedal', place: { type: 'zone', zone: 'sal' }, at: T0 + 9 * MIN });
      expect((await r.listAssignments()).map((a) => [a.device, a.validFrom])).toEqual([
        [DOOR, T0 + 9 * MIN],
        [COUNTER, T0 + 2 * MIN],
        [CLIMATE, T0 + MIN],
        [CLIMATE, T0 + 5 * MIN],
      ]);
    });

    it('lists pending devices per torg, in order of first sighting', async () => {
      const r = await withGateways();
      await r.announceDevice(climateBirth()); // T0
      t = T0 + MIN;
      await r.announceDevice(doorBirth());
      t = T0 + 2 * MIN;
      await r.announceDevice(counterBirth());
      t = T0 + 3 * MIN;
      await r.announceDevice(climateBirth()); // re-announce: keeps its first sighting T0

      const ids = async (filter: Parameters<Registry['listDevices']>[0]) => (await r.listDevices(filter)).map((d) => d.id);
      expect(await ids({ torg: 'asker-sentrum', status: 'pending' })).toEqual([CLIMATE, COUNTER]);
      expect(await ids({ torg: 'heggedal', status: 'pending' })).toEqual([DOOR]);
      expect(await ids({ torg: 'tofte', status: 'pending' })).toEqual([]);

      await r.assign({ device: CLIMATE, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' } });
      expect(await ids({ torg: 'asker-sentrum', status: 'pending' })).toEqual([COUNTER]);
      expect(await ids({ torg: 'asker-sentrum', status: 'active' })).toEqual([CLIMATE]);
      expect(await ids({ status: 'pending' })).toEqual([DOOR, COUNTER]);
      expect(await ids({})).toEqual([CLIMATE, DOOR, COUNTER]);
    });

    it('refuses places the torg model does not have, and leaves the device pending', async () => {
      const r = await withGateways();
      await r.announceDevice(doorBirth());
      await r.announceDevice(counterBirth());
      const heggedal = (place: Parameters<Registry['assign']>[0]['place']) => r.assign({ device: DOOR, torg: 'heggedal', place });

      await expectRegistryError(heggedal({ type: 'zone', zone: 'kantine' }), 'E_REGISTRY_UNKNOWN_PLACE');
      // mote-2 exists at asker-sentrum, not at heggedal.
      await expectRegistryError(heggedal({ type: 'zone', zone: 'mote-2' }), 'E_REGISTRY_UNKNOWN_PLACE');
      await expectRegistryError(heggedal({ type: 'entrance', entrance: 'bibliotekinngang', line: 'line-1' }), 'E_REGISTRY_UNKNOWN_PLACE');
      // heggedal's main entrance has line-1 only.
      const line = await expectRegistryError(heggedal({ type: 'entrance', entrance: 'hovedinngang', line: 'line-2' }), 'E_REGISTRY_UNKNOWN_PLACE');
      expect(line.message).toContain('heggedal/hovedinngang/line-2');
      expect(line.describe('nb')).toBe('sonen, inngangen eller tellelinjen finnes ikke på dette torget i torgmodellen: line heggedal/hovedinngang/line-2');
      expect(line.describe('en')).toBe('the zone, entrance or counting line is not in this torg in the torg model: line heggedal/hovedinngang/line-2');
      await expectRegistryError(r.assign({ device: DOOR, torg: 'oslo', place: { type: 'zone', zone: 'service' } }), 'E_REGISTRY_UNKNOWN_TORG');
      await expectRegistryError(
        r.assign({ device: DOOR, torg: 'heggedal', place: { type: 'zone', zone: 'Not A Slug' } }),
        'E_REGISTRY_INVALID_INPUT',
      );

      expect((await r.getDevice(DOOR))?.status).toBe('pending');
      expect(await r.assignmentHistory(DOOR)).toEqual([]);
      // The same places are fine where the model has them.
      expect((await r.assign({ device: COUNTER, torg: 'asker-sentrum', place: { type: 'entrance', entrance: 'bibliotekinngang', line: 'line-1' } })).torg).toBe(
        'asker-sentrum',
      );
    });

    it('refuses to assign a device to a torg other than its own without moveTorg, or an unknown device', async () => {
      const r = await withGateways();
      await r.announceDevice(doorBirth());
      await expectRegistryError(
        r.assign({ device: DOOR, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' } }),
        'E_REGISTRY_TORG_MISMATCH',
      );
      await expectRegistryError(
        r.assign({ device: 'a84041000181c0de', torg: 'heggedal', place: { type: 'zone', zone: 'service' } }),
        'E_REGISTRY_UNKNOWN_DEVICE',
      );
      expect((await r.getDevice(DOOR))?.status).toBe('pending');
    });

    it("a birth from a gateway of another torg changes nothing, whatever the status; another gateway of the device's torg takes it over", async () => {
      const r = await withGateways();
      await r.upsertGateway({ torg: 'heggedal', id: 'gw-heggedal-2' });
      const original = (await r.announceDevice(doorBirth())).device;
      const spoof = (overrides: Partial<DeviceAnnounce> = {}) =>
        r.announceDevice(doorBirth({ torg: 'asker-sentrum', gateway: 'gw-asker', model: 'spoofed-model', kinds: ['counter'], ...overrides }));

      // Pending: the record is untouched, lastSeenAt included, and the device stays listed in heggedal.
      t = T0 + MIN;
      expect(await spoof()).toEqual({ created: false, torgConflict: true, device: original });
      expect(await r.getDevice(DOOR)).toEqual(original);
      expect((await r.listDevices({ torg: 'heggedal' })).map((d) => d.id)).toEqual([DOOR]);
      expect(await r.listDevices({ torg: 'asker-sentrum' })).toEqual([]);
      // heggedal's admin can still place it in heggedal.
      await r.assign({ device: DOOR, torg: 'heggedal', place: { type: 'zone', zone: 'sal' }, at: T0 + 2 * MIN });

      // Active: still nothing changes.
      t = T0 + 3 * MIN;
      const active = await r.getDevice(DOOR);
      expect(active).toEqual({ ...original, status: 'active' });
      expect(await spoof()).toEqual({ created: false, torgConflict: true, device: active });
      expect(await r.assignmentHistory(DOOR)).toEqual([{ device: DOOR, torg: 'heggedal', place: { type: 'zone', zone: 'sal' }, validFrom: T0 + 2 * MIN, validTo: null }]);

      // Another gateway of heggedal: the same torg, so it takes the device over as before.
      t = T0 + 4 * MIN;
      const takeover = await r.announceDevice(doorBirth({ gateway: 'gw-heggedal-2' }));
      expect(takeover).toEqual({ created: false, torgConflict: false, device: { ...original, gateway: 'gw-heggedal-2', status: 'active', lastSeenAt: T0 + 4 * MIN } });

      // Decommissioned: still nothing changes.
      const retired = await r.decommission(DOOR, T0 + 5 * MIN);
      t = T0 + 6 * MIN;
      expect(await spoof()).toEqual({ created: false, torgConflict: true, device: retired });
      expect(retired).toMatchObject({ torg: 'heggedal', gateway: 'gw-heggedal-2', status: 'decommissioned', lastSeenAt: T0 + 4 * MIN });
    });

    it('moves a device to another torg only with moveTorg: the old assignment closes at `at`, the gateway stays until one of the new torg announces it', async () => {
      const r = await withGateways();
      await r.announceDevice(doorBirth());
      await r.assign({ device: DOOR, torg: 'heggedal', place: { type: 'zone', zone: 'mote-1' }, at: T0 + MIN });

      const refused = await expectRegistryError(
        r.assign({ device: DOOR, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' }, at: T0 + 2 * MIN }),
        'E_REGISTRY_TORG_MISMATCH',
      );
      expect(refused.describe('en')).toBe(`the device belongs to another torg; assign it there, or pass moveTorg to move it to this torg: ${DOOR} belongs to heggedal, not asker-sentrum`);
      expect(refused.describe('nb')).toBe(
        `enheten hører til et annet torg; tilordne den der, eller angi moveTorg for å flytte den til dette torget: ${DOOR} belongs to heggedal, not asker-sentrum`,
      );
      expect(await r.assignmentHistory(DOOR)).toHaveLength(1);

      const moved = await r.assign({ device: DOOR, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' }, at: T0 + 2 * MIN, moveTorg: true });
      expect(moved).toEqual({ device: DOOR, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' }, validFrom: T0 + 2 * MIN, validTo: null });
      expect(await r.assignmentHistory(DOOR)).toEqual([
        { device: DOOR, torg: 'heggedal', place: { type: 'zone', zone: 'mote-1' }, validFrom: T0 + MIN, validTo: T0 + 2 * MIN },
        { device: DOOR, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' }, validFrom: T0 + 2 * MIN, validTo: null },
      ]);
      expect((await r.assignmentAt(DOOR, T0 + 2 * MIN - 1))?.torg).toBe('heggedal');
      expect((await r.assignmentAt(DOOR, T0 + 2 * MIN))?.torg).toBe('asker-sentrum');
      expect(await r.getDevice(DOOR)).toMatchObject({ torg: 'asker-sentrum', gateway: 'gw-heggedal', gatewayTorg: 'heggedal', status: 'active', lastSeenAt: T0 });
      expect(await r.listDevices({ torg: 'heggedal' })).toEqual([]);
      expect((await r.listDevices({ torg: 'asker-sentrum' })).map((d) => d.id)).toEqual([DOOR]);

      // heggedal's gateway is now the other torg's: its birth changes nothing.
      t = T0 + 3 * MIN;
      expect((await r.announceDevice(doorBirth())).torgConflict).toBe(true);
      expect(await r.getDevice(DOOR)).toMatchObject({ torg: 'asker-sentrum', gateway: 'gw-heggedal', gatewayTorg: 'heggedal', lastSeenAt: T0 });

      // The moved state survives a restart.
      await r.close();
      const again = make();
      expect(await again.getDevice(DOOR)).toMatchObject({ torg: 'asker-sentrum', gateway: 'gw-heggedal', gatewayTorg: 'heggedal' });

      // A gateway of the new torg announces it: same torg, so the gateway is taken over.
      t = T0 + 4 * MIN;
      const taken = await again.announceDevice(doorBirth({ torg: 'asker-sentrum', gateway: 'gw-asker' }));
      expect(taken.torgConflict).toBe(false);
      expect(taken.device).toEqual({
        id: DOOR,
        torg: 'asker-sentrum',
        gateway: 'gw-asker',
        model: 'aqara-mccgq11lm',
        kinds: ['door'],
        units: {},
        deviceClass: 'battery',
        expectedIntervalS: null,
        status: 'active',
        enabled: true,
        firstSeenAt: T0,
        lastSeenAt: T0 + 4 * MIN,
      });
      // moveTorg to the torg the device already has is an ordinary assignment.
      const within = await again.assign({ device: DOOR, torg: 'asker-sentrum', place: { type: 'zone', zone: 'mote-1' }, at: T0 + 5 * MIN, moveTorg: true });
      expect(within).toMatchObject({ torg: 'asker-sentrum', validFrom: T0 + 5 * MIN });
      expect(await again.assignmentHistory(DOOR)).toHaveLength(3);
    });

    it('moves a pending device, and moving it back before any birth restores the record as it was', async () => {
      const r = await withGateways();
      const original = (await r.announceDevice(doorBirth())).device;
      await r.assign({ device: DOOR, torg: 'asker-sentrum', place: { type: 'zone', zone: 'service' }, at: T0 + MIN, moveTorg: true });
      expect(await r.getDevice(DOOR)).toEqual({ ...original, torg: 'asker-sentrum', gatewayTorg: 'heggedal', status: 'active' });
      await r.assign({ device: DOOR, torg: 'heggedal', place: { type: 'zone', zone: 'sal' }, at: T0 + 2 * MIN, moveTorg: true });
      expect(await r.getDevice(DOOR)).toEqual({ ...original, status: 'active' });
      expect((await r.assignmentHistory(DOOR)).map((a) => [a.torg, a.validFrom, a.validTo])).toEqual([
        ['asker-sentrum', T0 + MIN, T0 + 2 * MIN],
        ['heggedal', T0 + 2 * MIN, null],
      ]);
      await expectRegistryError(r.assign({ device: DOOR, torg: 'heggedal', place: { type: 'zone', zone: 'sal' }, moveTorg: 'yes' } as never), 'E_REGISTRY_INVALID_INPUT');
    });

    it('keeps everything across close and reopen: a device re-announced after a restart is the same record', async () => {
      const first = await withGateways();
      await first.announceDevice(counterBirth());
      await first.assign({ device: COUNTER, torg: 'asker-sentrum', place: { type: 'entrance', entrance: 'hovedinngang', line: 'line-1' }, at: T0 + MIN });
      await first.close();

      t = T0 + 24 * 60 * MIN;
      const second = make();
      const again = await second.announceDevice(counterBirth());
      expect(again.created).toBe(false);
      expect(again.device).toMatchObject({ status: 'active', firstSeenAt: T0, lastSeenAt: T0 + 24 * 60 * MIN });
      expect(await second.listDevices()).toHaveLength(1);
      expect(await second.assignmentAt(COUNTER, T0 + 2 * MIN)).toEqual({
        device: COUNTER,
        torg: 'asker-sentrum',
        place: { type: 'entrance', entrance: 'hovedinngang', line: 'line-1' },
        validFrom: T0 + MIN,
        validTo: null,
      });
      expect((await second.getGateway('asker-sentrum', 'gw-asker'))?.createdAt).toBe(T0);
    });

    it('sets enabled and an interval override that later births do not replace, and null hands the interval back to births', async () => {
      const r = await withGateways();
      await r.announceDevice(counterBirth()); // reports 300 s
      const off = await r.setDeviceConfig(COUNTER, { enabled: false });
      expect(off).toMatchObject({ enabled: false, expectedIntervalS: 300 });
      const slow = await r.setDeviceConfig(COUNTER, { expectedIntervalS: 900 });
      // enabled untouched by a body without it
      expect(slow).toMatchObject({ enabled: false, expectedIntervalS: 900 });
      const reborn = await r.announceDevice(counterBirth({ expectedIntervalS: 60 }));
      expect(reborn.device).toMatchObject({ enabled: false, expectedIntervalS: 900 });
      const cleared = await r.setDeviceConfig(COUNTER, { expectedIntervalS: null, enabled: true });
      // The birth's 60 s applies again once the override is gone.
      expect(cleared).toMatchObject({ enabled: true, expectedIntervalS: 60 });
      expect(await r.getDevice(COUNTER)).toEqual(cleared);
      await r.close();
      const reopened = make();
      expect((await reopened.getDevice(COUNTER))?.enabled).toBe(true);
      await reopened.setDeviceConfig(COUNTER, { enabled: false });
      await reopened.close();
      expect((await make().getDevice(COUNTER))?.enabled).toBe(false);
    });

    it('refuses config for an unknown device or an invalid interval', async () => {
      const r = await withGateways();
      await expectRegistryError(r.setDeviceConfig(COUNTER, { enabled: false }), 'E_REGISTRY_UNKNOWN_DEVICE');
      await r.announceDevice(counterBirth());
      await expectRegistryError(r.setDeviceConfig(COUNTER, { expectedIntervalS: 0 }), 'E_REGISTRY_INVALID_INPUT');
      await expectRegistryError(r.setDeviceConfig(COUNTER, { expectedIntervalS: 1.5 }), 'E_REGISTRY_INVALID_INPUT');
      expect((await r.getDevice(COUNTER))?.expectedIntervalS).toBe(300);
    });

    it('rejects use after close with non-retriable E_REGISTRY_CLOSED', async () => {
      const r = make();
      await r.close();
      await expectRegistryError(r.listDevices(), 'E_REGISTRY_CLOSED');
      await expectRegistryError(r.announceDevice(counterBirth()), 'E_REGISTRY_CLOSED');
    });
  });
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceBirthSchema, inventorySchema } from '../../../devices/contract/device-messages.schema.ts';
import type { Reading } from '../../../devices/contract/reading.schema.ts';
import { DeviceCatalog } from '../../../gateway/devices/device-catalog.ts';

const T0 = Date.parse('2026-11-24T08:00:00.000Z');
const climate = (device: string): Reading => ({ device, time: '2026-11-24T08:00:00.000Z', kind: 'climate', temperature: 21.5, co2: 640 });
const health = (device: string): Reading => ({ device, time: '2026-11-24T08:00:00.000Z', kind: 'health', battery: 90 });

describe('DeviceCatalog', () => {
  let dir: string;
  let now: number;
  const clock = { now: () => now };
  const open = (maxDevices?: number) => new DeviceCatalog({ path: join(dir, 'devices.db'), clock, ...(maxDevices !== undefined ? { maxDevices } : {}) });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-catalog-'));
    now = T0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a birth due on the first reading, with kinds, units and class from model and readings', () => {
    const c = open();
    expect(c.observe('chirpstack', 'a81758fffe0301aa', [climate('a81758fffe0301aa')], { device: 'a81758fffe0301aa', model: 'elsys-ers-co2', kinds: ['climate', 'health'], deviceClass: 'battery', expectedIntervalS: 600, name: 'ers-moterom', labels: { room: 'moterom-1' } }, T0)).toBe('new');
    const due = c.takeDue(10);
    expect(due).toHaveLength(1);
    const birth = deviceBirthSchema.parse(due[0]?.birth);
    expect(birth).toEqual({
      v: 1,
      device: 'a81758fffe0301aa',
      model: 'elsys-ers-co2',
      kinds: ['climate', 'health'],
      // °C and ppm: the units of the contract's `temperature` and `co2` fields (README "Data model").
      units: { co2: 'ppm', temperature: '°C' },
      deviceClass: 'battery',
      expectedIntervalS: 600,
      source: 'chirpstack',
      name: 'ers-moterom',
      labels: { room: 'moterom-1' },
      firstSeenAt: T0,
      at: T0,
    });
    // Handed out once until acknowledged or failed.
    expect(c.takeDue(10)).toHaveLength(0);
    c.markSent(due);
    expect(c.dueCount()).toBe(0);
    c.close();
  });

  it('announces a device again only when it reports something new in this run', () => {
    const c = open();
    c.observe('direct', 'dev-1', [climate('dev-1')], undefined, T0);
    c.markSent(c.takeDue(10));
    expect(c.observe('direct', 'dev-1', [climate('dev-1')], undefined, T0 + 1000)).toBe('known');
    expect(c.dueCount()).toBe(0);
    expect(c.observe('direct', 'dev-1', [health('dev-1')], undefined, T0 + 2000)).toBe('changed');
    const [again] = c.takeDue(10);
    expect(again?.birth.kinds).toEqual(['climate', 'health']);
    expect(again?.birth.units).toEqual({ battery: '%', co2: 'ppm', temperature: '°C' });
    expect(again?.birth.model).toBe('unknown');
    c.close();
  });

  it('keeps firstSeenAt and an unsent birth across a restart, and re-announces each device on its first reading of the new run', () => {
    const c1 = open();
    c1.observe('direct', 'dev-1', [climate('dev-1')], undefined, T0);
    c1.observe('direct', 'dev-2', [climate('dev-2')], undefined, T0 + 5);
    const d1 = c1.takeDue(10).filter((d) => d.device === 'dev-1');
    c1.markSent(d1); // dev-2's birth never acknowledged (crash before PUBACK)
    c1.close();

    now = T0 + 3_600_000;
    const c2 = open();
    // dev-2 is still due from the previous run: its readings may already be in the outbox.
    expect(c2.takeDue(10).map((d) => [d.device, d.birth.firstSeenAt])).toEqual([['dev-2', T0 + 5]]);
    expect(c2.observe('direct', 'dev-1', [climate('dev-1')], undefined, now)).toBe('rebirth');
    const [b] = c2.takeDue(10);
    expect(b?.device).toBe('dev-1');
    expect(b?.birth.firstSeenAt).toBe(T0);
    expect(b?.birth.at).toBe(T0 + 3_600_000);
    c2.close();
  });

  it('does not clear a birth that became due again while the older one was in flight', () => {
    const c = open();
    c.observe('direct', 'dev-1', [climate('dev-1')], undefined, T0);
    const inFlight = c.takeDue(10);
    expect(c.markAllDue()).toBe(1);
    c.markSent(inFlight);
    expect(c.dueCount()).toBe(1);
    c.close();
  });

  it('re-offers births that were not acknowledged', () => {
    const c = open();
    c.observe('direct', 'dev-1', [climate('dev-1')], undefined, T0);
    c.release(c.takeDue(10));
    expect(c.takeDue(10).map((d) => d.device)).toEqual(['dev-1']);
    c.close();
  });

  it('is bounded: devices beyond maxDevices are counted as untracked, not stored', () => {
    const c = open(2);
    for (const d of ['dev-1', 'dev-2', 'dev-3', 'dev-4']) c.observe('direct', d, [climate(d)], undefined, T0);
    expect(c.size()).toBe(2);
    expect(c.untracked()).toBe(2);
    c.close();
  });

  it('lists every device with its model and last reading time in the inventory', () => {
    const c = open();
    c.observe('direct', 'dev-b', [climate('dev-b')], { device: 'dev-b', model: 'elsys-ers' }, T0);
    c.observe('direct', 'dev-a', [climate('dev-a')], undefined, T0 + 10);
    c.observe('direct', 'dev-b', [climate('dev-b')], undefined, T0 + 20);
    now = T0 + 30;
    expect(inventorySchema.parse(c.inventory())).toEqual({
      v: 1,
      devices: [
        { device: 'dev-a', model: 'unknown', lastSeenAt: T0 + 10 },
        { device: 'dev-b', model: 'elsys-ers', lastSeenAt: T0 + 20 },
      ],
      at: T0 + 30,
    });
    c.close();
  });
});

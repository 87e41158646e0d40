import { describe, expect, it } from 'vitest';
import { torgSchema } from '../../../devices/torg/torg-config.schema.ts';
import type { Torg } from '../../../devices/torg/torg-config.schema.ts';
import { LivenessTracker, deviceThresholds, inOpeningHours, shouldAlertOffline } from '../../../ingest/liveness/liveness.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 24, 9, 0, 0); // Tuesday 2026-11-24 09:00Z

describe('device thresholds (hand-computed from the documented rule)', () => {
  it('class defaults: mains stale 5 min / offline 10 min, battery stale 12.5 h / offline 25 h', () => {
    expect(deviceThresholds('mains')).toEqual({ staleAfterMs: 300_000, offlineAfterMs: 600_000 });
    expect(deviceThresholds('battery')).toEqual({ staleAfterMs: 45_000_000, offlineAfterMs: 90_000_000 });
  });
  it('interval override: 1 h mains → stale 2.5 h, offline 3 h; 10 min battery → stale 25 min, offline 25 h', () => {
    expect(deviceThresholds('mains', HOUR)).toEqual({ staleAfterMs: 9_000_000, offlineAfterMs: 10_800_000 });
    expect(deviceThresholds('battery', 10 * MIN)).toEqual({ staleAfterMs: 1_500_000, offlineAfterMs: 90_000_000 });
  });
});

describe('device liveness with an injected clock', () => {
  it('a mains device is online until 5 min, stale at exactly 5 min, offline at exactly 10 min', () => {
    const live = new LivenessTracker();
    live.upsertDevice({ device: 'm1', torg: 'heggedal', deviceClass: 'mains' });
    expect(live.deviceState('m1', T0)).toBe('never_seen');
    live.deviceSeen('m1', T0, T0);
    expect(live.deviceState('m1', T0 + 299_999)).toBe('online');
    expect(live.deviceState('m1', T0 + 300_000)).toBe('stale');
    expect(live.deviceState('m1', T0 + 599_999)).toBe('stale');
    expect(live.deviceState('m1', T0 + 600_000)).toBe('offline');
  });

  it('a battery device is stale at exactly 12.5 h and offline at exactly 25 h', () => {
    const live = new LivenessTracker();
    live.upsertDevice({ device: 'b1', torg: 'heggedal', deviceClass: 'battery' });
    live.deviceSeen('b1', T0, T0);
    expect(live.deviceState('b1', T0 + 12 * HOUR + 30 * MIN - 1)).toBe('online');
    expect(live.deviceState('b1', T0 + 12 * HOUR + 30 * MIN)).toBe('stale');
    expect(live.deviceState('b1', T0 + 25 * HOUR - 1)).toBe('stale');
    expect(live.deviceState('b1', T0 + 25 * HOUR)).toBe('offline');
  });

  it('an interval override of 1 h moves a mains device to stale at 2.5 h and offline at 3 h', () => {
    const live = new LivenessTracker();
    live.upsertDevice({ device: 'm2', torg: 'tofte', deviceClass: 'mains', expectedIntervalMs: HOUR });
    live.deviceSeen('m2', T0, T0);
    // Without the override this device would be offline after 10 min.
    expect(live.deviceState('m2', T0 + 2 * HOUR)).toBe('online');
    expect(live.deviceState('m2', T0 + 2 * HOUR + 30 * MIN)).toBe('stale');
    expect(live.deviceState('m2', T0 + 3 * HOUR - 1)).toBe('stale');
    expect(live.deviceState('m2', T0 + 3 * HOUR)).toBe('offline');
  });

  it('last-seen is the observation time, capped at now, and never moves backwards', () => {
    const live = new LivenessTracker();
    live.upsertDevice({ device: 'm3', torg: 'tofte', deviceClass: 'mains' });
    // A backlog reading observed 8 min before it arrived: 2 min left until offline.
    live.deviceSeen('m3', T0 - 8 * MIN, T0);
    expect(live.deviceState('m3', T0 + 2 * MIN)).toBe('offline');
    // An older reading arriving later does not rejuvenate it.
    live.deviceSeen('m3', T0 - 9 * MIN, T0 + MIN);
    expect(live.deviceState('m3', T0 + 2 * MIN - 1)).toBe('stale');
    // A sensor clock 1 h ahead counts as seen now, not in an hour.
    live.deviceSeen('m3', T0 + HOUR, T0 + 3 * MIN);
    expect(live.deviceState('m3', T0 + 13 * MIN)).toBe('offline');
  });

  it('unregistered devices are counted, not tracked', () => {
    const live = new LivenessTracker();
    expect(live.deviceSeen('ghost', T0, T0)).toBe(false);
    expect(live.unknownDeviceSightings).toBe(1);
    expect(live.deviceState('ghost', T0)).toBeUndefined();
  });

  it('evaluate(now) returns only the changes since the previous evaluation', () => {
    const live = new LivenessTracker();
    live.upsertDevice({ device: 'm1', torg: 'heggedal', deviceClass: 'mains' });
    live.upsertDevice({ device: 'b1', torg: 'heggedal', deviceClass: 'battery' });
    expect(live.evaluate(T0)).toEqual([]);
    live.deviceSeen('m1', T0, T0);
    expect(live.evaluate(T0)).toEqual([{ kind: 'device', id: 'm1', torg: 'heggedal', from: 'never_seen', to: 'online', at: T0 }]);
    expect(live.evaluate(T0 + MIN)).toEqual([]);
    expect(live.evaluate(T0 + 5 * MIN)).toEqual([{ kind: 'device', id: 'm1', torg: 'heggedal', from: 'online', to: 'stale', at: T0 + 5 * MIN }]);
    // Skipping past both thresholds between evaluations reports one change, stale → offline.
    expect(live.evaluate(T0 + 20 * MIN)).toEqual([{ kind: 'device', id: 'm1', torg: 'heggedal', from: 'stale', to: 'offline', at: T0 + 20 * MIN }]);
    live.deviceSeen('m1', T0 + 21 * MIN, T0 + 21 * MIN);
    expect(live.evaluate(T0 + 21 * MIN)).toEqual([{ kind: 'device', id: 'm1', torg: 'heggedal', from: 'offline', to: 'online', at: T0 + 21 * MIN }]);
  });

  it('changing the interval in the registry keeps the last-seen time', () => {
    const live = new LivenessTracker();
    live.upsertDevice({ device: 'm1', torg: 'heggedal', deviceClass: 'mains' });
    live.deviceSeen('m1', T0, T0);
    expect(live.deviceState('m1', T0 + 30 * MIN)).toBe('offline');
    live.upsertDevice({ device: 'm1', torg: 'heggedal', deviceClass: 'mains', expectedIntervalMs: HOUR });
    expect(live.deviceState('m1', T0 + 30 * MIN)).toBe('online');
  });
});

describe('gateway liveness from the retained state topic (bdSeq as in Sparkplug B)', () => {
  it('a late will of the previous session after a restart does not mark the live gateway offline', () => {
    const live = new LivenessTracker();
    expect(live.gatewayState('heggedal', 'gw-heggedal', { online: true, bdSeq: 7, startedAt: 'x' }, T0)).toBe('birth');
    // Restart: new session 8 births before the broker publishes the will of session 7.
    expect(live.gatewayState('heggedal', 'gw-heggedal', { online: true, bdSeq: 8 }, T0 + 1000)).toBe('birth');
    expect(live.gatewayState('heggedal', 'gw-heggedal', { online: false, bdSeq: 7 }, T0 + 2000)).toBe('late_death_ignored');
    expect(live.gatewayLiveness('heggedal', 'gw-heggedal', T0 + 3000)).toBe('online');
  });

  it('a death of the current session marks it offline; a new birth brings it back', () => {
    const live = new LivenessTracker();
    live.gatewayState('tofte', 'gw-tofte', { online: true, bdSeq: 8 }, T0);
    expect(live.gatewayState('tofte', 'gw-tofte', { online: false, bdSeq: 8 }, T0 + 1000)).toBe('death');
    expect(live.gatewayLiveness('tofte', 'gw-tofte', T0 + 1000)).toBe('offline');
    // Readings do not override a death: the session is gone.
    live.gatewaySeen('tofte', 'gw-tofte', T0 + 1500);
    expect(live.gatewayLiveness('tofte', 'gw-tofte', T0 + 1500)).toBe('offline');
    live.gatewayState('tofte', 'gw-tofte', { online: true, bdSeq: 9 }, T0 + 5000);
    expect(live.gatewayLiveness('tofte', 'gw-tofte', T0 + 5000)).toBe('online');
  });

  it('a death newer than any birth seen (missed birth) is a death', () => {
    const live = new LivenessTracker();
    live.gatewayState('tofte', 'gw-tofte', { online: true, bdSeq: 3 }, T0);
    expect(live.gatewayState('tofte', 'gw-tofte', { online: false, bdSeq: 4 }, T0 + 1000)).toBe('death');
    expect(live.gatewayLiveness('tofte', 'gw-tofte', T0 + 1000)).toBe('offline');
  });

  it('an online gateway that delivers nothing for 10 min is stale, not offline; a malformed state is refused', () => {
    const live = new LivenessTracker();
    live.gatewayState('saetre', 'gw-saetre', { online: true, bdSeq: 1 }, T0);
    live.gatewaySeen('saetre', 'gw-saetre', T0 + 2 * MIN);
    expect(live.gatewayLiveness('saetre', 'gw-saetre', T0 + 12 * MIN - 1)).toBe('online');
    expect(live.gatewayLiveness('saetre', 'gw-saetre', T0 + 12 * MIN)).toBe('stale');
    expect(live.gatewayLiveness('saetre', 'gw-saetre', T0 + 48 * HOUR)).toBe('stale');
    expect(live.gatewayState('saetre', 'gw-saetre', { online: 'yes', bdSeq: 2 }, T0)).toBe('invalid');
    expect(live.gatewayState('saetre', 'gw-saetre', 'not json', T0)).toBe('invalid');
  });

  it('a registered gateway never heard from is never_seen; one without state messages follows its readings', () => {
    const live = new LivenessTracker();
    live.addGateway('royken', 'gw-royken');
    expect(live.gatewayLiveness('royken', 'gw-royken', T0)).toBe('never_seen');
    live.gatewaySeen('royken', 'gw-royken', T0);
    expect(live.gatewayLiveness('royken', 'gw-royken', T0 + 5 * MIN)).toBe('stale');
    expect(live.gatewayLiveness('royken', 'gw-royken', T0 + 10 * MIN)).toBe('offline');
    expect(live.evaluate(T0 + 10 * MIN)).toEqual([{ kind: 'gateway', id: 'gw-royken', torg: 'royken', from: 'never_seen', to: 'offline', at: T0 + 10 * MIN }]);
  });
});

/** Weekdays 08:00–16:00 staffed, 16:00–20:00 meråpent; Sunday 10:00–16:00 staffed; Saturday closed. */
function torg(): Torg {
  const weekday = { staffed: [['08:00', '16:00']], meraapent: [['16:00', '20:00']] };
  const closed = { staffed: [], meraapent: [] };
  return torgSchema.parse({
    id: 'heggedal',
    name: 'Heggedal innbyggertorg',
    population: 6000,
    openingHours: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday, sat: closed, sun: { staffed: [['10:00', '16:00']] } },
    entrances: [{ id: 'hoved', name: 'Hovedinngang' }],
    zones: [{ id: 'service', name: 'Service', module: 'innbyggerservice', capacity: 10, fireMax: 20 }],
    capacity: 50,
  });
}

describe('offline alerts only in opening hours (Europe/Oslo)', () => {
  const t = torg();

  it('suppressed at night, raised in staffed and meråpent hours, never for stale', () => {
    // Tuesday 2026-11-24, CET (UTC+1): 02:00Z = 03:00 local closed; 09:00Z = 10:00 staffed; 17:30Z = 18:30 meråpent; 19:30Z = 20:30 closed.
    expect(shouldAlertOffline('offline', t, Date.UTC(2026, 10, 24, 2, 0))).toBe(false);
    expect(shouldAlertOffline('offline', t, Date.UTC(2026, 10, 24, 9, 0))).toBe(true);
    expect(shouldAlertOffline('offline', t, Date.UTC(2026, 10, 24, 17, 30))).toBe(true);
    expect(shouldAlertOffline('offline', t, Date.UTC(2026, 10, 24, 19, 30))).toBe(false);
    expect(shouldAlertOffline('stale', t, Date.UTC(2026, 10, 24, 9, 0))).toBe(false);
    expect(shouldAlertOffline('never_seen', t, Date.UTC(2026, 10, 24, 9, 0))).toBe(false);
  });

  it('spring-forward Sunday 2026-03-29: 10:00–16:00 CEST is 08:00–14:00Z', () => {
    // A fixed UTC+1 would get both of these wrong.
    expect(inOpeningHours(t, Date.UTC(2026, 2, 29, 8, 30))).toBe(true); // 10:30 CEST
    expect(inOpeningHours(t, Date.UTC(2026, 2, 29, 14, 30))).toBe(false); // 16:30 CEST
    expect(shouldAlertOffline('offline', t, Date.UTC(2026, 2, 29, 7, 59))).toBe(false); // 09:59 CEST
    expect(shouldAlertOffline('offline', t, Date.UTC(2026, 2, 29, 8, 0))).toBe(true); // 10:00 CEST
  });

  it('fall-back Sunday 2026-10-25: 10:00–16:00 CET is 09:00–15:00Z', () => {
    // A fixed UTC+2 would get both of these wrong.
    expect(inOpeningHours(t, Date.UTC(2026, 9, 25, 8, 30))).toBe(false); // 09:30 CET
    expect(inOpeningHours(t, Date.UTC(2026, 9, 25, 14, 30))).toBe(true); // 15:30 CET
    expect(shouldAlertOffline('offline', t, Date.UTC(2026, 9, 25, 14, 59))).toBe(true); // 15:59 CET
    expect(shouldAlertOffline('offline', t, Date.UTC(2026, 9, 25, 15, 0))).toBe(false); // 16:00 CET
  });
});

describe('last seen', () => {
  it('device: the newest observation, capped at receipt; gateway: the newest of birth and readings', () => {
    const live = new LivenessTracker();
    live.upsertDevice({ device: 'm1', torg: 'heggedal', deviceClass: 'mains' });
    expect(live.deviceLastSeen('m1')).toBeUndefined();
    live.deviceSeen('m1', T0 + 5 * MIN, T0 + 6 * MIN);
    live.deviceSeen('m1', T0 + 2 * MIN, T0 + 7 * MIN); // older observation arriving late
    expect(live.deviceLastSeen('m1')).toBe(T0 + 5 * MIN);
    live.deviceSeen('m1', T0 + 20 * MIN, T0 + 8 * MIN); // device clock ahead
    expect(live.deviceLastSeen('m1')).toBe(T0 + 8 * MIN);
    expect(live.deviceLastSeen('nope')).toBeUndefined();

    expect(live.gatewayLastSeen('heggedal', 'gw-1')).toBeUndefined();
    live.addGateway('heggedal', 'gw-1');
    expect(live.gatewayLastSeen('heggedal', 'gw-1')).toBeUndefined();
    live.gatewayState('heggedal', 'gw-1', { online: true, bdSeq: 3 }, T0 + MIN);
    expect(live.gatewayLastSeen('heggedal', 'gw-1')).toBe(T0 + MIN);
    live.gatewaySeen('heggedal', 'gw-1', T0 + 4 * MIN);
    expect(live.gatewayLastSeen('heggedal', 'gw-1')).toBe(T0 + 4 * MIN);
  });
});

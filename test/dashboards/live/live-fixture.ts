/**
 * A small torg for the live-state tests: one entrance with two counting lines, two zones, and a
 * device table in the PlaceLookup shape. `alwaysOpen` is open 00:00–24:00 every day, for tests that
 * run on the wall clock (no closing reset can fall inside them).
 */
import { torgSchema, type Torg } from '../../../devices/torg/torg-config.schema.ts';
import pino from 'pino';
import type { InfluxQuery } from '../../../dashboards/influx-query.ts';
import type { LiveService } from '../../../dashboards/live/live-service.ts';
import { LiveState, type PlaceInfo } from '../../../dashboards/live/live-state.ts';
import type { LiveChange } from '../../../dashboards/live/live.schema.ts';

export function testTorg(opts: { alwaysOpen?: boolean } = {}): Torg {
  const hours = opts.alwaysOpen ? { staffed: [['00:00', '24:00']], meraapent: [] } : { staffed: [['08:00', '16:00']], meraapent: [] };
  return torgSchema.parse({
    id: 'testtorg',
    name: 'Test innbyggertorg',
    population: 1000,
    holidays: 'none',
    openingHours: { mon: hours, tue: hours, wed: hours, thu: hours, fri: hours, sat: hours, sun: hours },
    entrances: [{ id: 'hoved', name: 'Hovedinngang', lines: ['line-1', 'line-2'] }],
    zones: [
      { id: 'mote-1', name: 'Møterom 1', module: 'møterom', capacity: 8, fireMax: 10 },
      { id: 'lobby', name: 'Lobby', module: 'innbyggerservice', capacity: 20, fireMax: 30 },
    ],
    capacity: 50,
  });
}

export const testDevices: Readonly<Record<string, PlaceInfo>> = {
  c1: { torg: 'testtorg', place: { type: 'entrance', entrance: 'hoved', line: 'line-1' }, status: 'active', model: 'milesight-vs133', deviceClass: 'mains', expectedIntervalS: 300 },
  p1: { torg: 'testtorg', place: { type: 'zone', zone: 'mote-1' }, status: 'active', model: 'milesight-vs121', deviceClass: 'mains', expectedIntervalS: 60 },
  k1: { torg: 'testtorg', place: { type: 'zone', zone: 'mote-1' }, status: 'active', model: 'milesight-am307', deviceClass: 'battery', expectedIntervalS: 600 },
  d1: { torg: 'testtorg', place: { type: 'zone', zone: 'mote-1' }, status: 'active', model: 'milesight-ws301', deviceClass: 'battery', expectedIntervalS: 3600 },
  pend: { torg: 'testtorg', place: null, status: 'pending', model: null, deviceClass: 'battery', expectedIntervalS: null },
  gone: { torg: 'testtorg', place: { type: 'zone', zone: 'lobby' }, status: 'decommissioned', model: null, deviceClass: 'battery', expectedIntervalS: null },
};

/**
 * A LiveService over a LiveState driven by a test clock, for route tests that need exact times
 * (staleness, closing) without MQTT. `listeners` are the SSE subscribers, callable directly.
 */
export function clockedService(torgs: readonly Torg[], clock: { now: number }, query: InfluxQuery): { service: LiveService; state: LiveState; listeners: Set<(c: LiveChange) => void> } {
  const state = new LiveState({ torgs, places: (d) => testDevices[d], now: () => clock.now });
  const listeners = new Set<(c: LiveChange) => void>();
  const service: LiveService = {
    state,
    stats: { messages: 0, invalidMessages: 0, readings: 0, bufferedDropped: 0, rebuilds: 0, rebuildFailures: 0, changesEmitted: 0 },
    query,
    torgs,
    logger: pino({ level: 'silent' }),
    now: () => clock.now,
    overview: () => state.overview(clock.now),
    torg: (id) => state.torg(id, clock.now),
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    ready: Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { service, state, listeners };
}

/**
 * Prometheus metrics of the gateway. One registry per instance (tests run several in one process).
 * Gauges that mirror state (outbox depth and age, uplink state) are read at scrape time.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Outbox } from './outbox/outbox.ts';
import { DROP_REASONS } from './outbox/outbox.ts';

export const UPLINK_STATES = ['connecting', 'online', 'offline', 'stopped'] as const;
export type UplinkState = (typeof UPLINK_STATES)[number];

export interface GatewayMetrics {
  registry: Registry;
  /** Readings accepted into the outbox, by source name. */
  readingsIn: Counter<'source'>;
  /** Source messages that yielded no readings, by source and reason code. */
  decodeFailures: Counter<'source' | 'reason'>;
  /** Readings refused by contract validation in normalize, by reason code. */
  rejected: Counter<'reason'>;
  envelopesPublished: Counter;
  /** Readings delivered (PUBACK received and deleted from the outbox): rate() of this is the drain rate. */
  readingsAcked: Counter;
  uplinkConnects: Counter;
  /** Valid readings the gateway chose not to forward, by reason (`device_disabled`: per-device config). */
  readingsDiscarded: Counter<'reason'>;
  /** Device births acknowledged by the central broker. */
  birthsPublished: Counter;
  /** Re-births of every known device, triggered by an ingest coming online (coalesced). */
  rebirths: Counter;
  /** Per-device config messages from the platform, by outcome (`set`, `removed` or the refusal reason). */
  deviceConfigMessages: Counter<'outcome'>;
}

export function createGatewayMetrics(opts: {
  defaultMetrics: boolean;
  outbox: () => Outbox | null;
  uplinkState: () => UplinkState;
  /** Known devices and devices not tracked because the catalogue is full (gateway/devices/device-catalog.ts). */
  devices?: () => { known: number; untracked: number } | null;
}): GatewayMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new Gauge({
    name: 'gateway_outbox_depth',
    help: 'Readings stored in the outbox, not yet acknowledged by the central broker',
    registers,
    collect() {
      this.set(opts.outbox()?.depth() ?? 0);
    },
  });
  new Gauge({
    name: 'gateway_outbox_bytes',
    help: 'Bytes of readings stored in the outbox',
    registers,
    collect() {
      this.set(opts.outbox()?.bytes() ?? 0);
    },
  });
  new Gauge({
    name: 'gateway_outbox_oldest_age_seconds',
    help: 'Age of the oldest reading in the outbox (0 when empty)',
    registers,
    collect() {
      this.set((opts.outbox()?.oldestAgeMs() ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'gateway_outbox_dropped_total',
    help: 'Readings the outbox dropped (expired) or refused (refused_full) since start, by reason',
    labelNames: ['reason'],
    registers,
    collect() {
      const d = opts.outbox()?.dropped();
      for (const r of DROP_REASONS) this.set({ reason: r }, d?.[r] ?? 0);
    },
  });
  new Gauge({
    name: 'gateway_uplink_state',
    help: 'Uplink connection state: 1 for the current state, 0 for the others',
    labelNames: ['state'],
    registers,
    collect() {
      const s = opts.uplinkState();
      for (const st of UPLINK_STATES) this.set({ state: st }, st === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'gateway_devices',
    help: 'Devices in the gateway catalogue (known) and devices left out because it is full (untracked, since start)',
    labelNames: ['state'],
    registers,
    collect() {
      const d = opts.devices?.();
      this.set({ state: 'known' }, d?.known ?? 0);
      this.set({ state: 'untracked' }, d?.untracked ?? 0);
    },
  });
  return {
    registry,
    readingsIn: new Counter({ name: 'gateway_readings_in_total', help: 'Readings made durable in the outbox, by source', labelNames: ['source'], registers }),
    decodeFailures: new Counter({
      name: 'gateway_decode_failures_total',
      help: 'Source messages that yielded no readings, by source and reason',
      labelNames: ['source', 'reason'],
      registers,
    }),
    rejected: new Counter({ name: 'gateway_readings_rejected_total', help: 'Readings refused by contract validation, by reason', labelNames: ['reason'], registers }),
    envelopesPublished: new Counter({ name: 'gateway_uplink_envelopes_published_total', help: 'Envelopes published to the central broker', registers }),
    readingsAcked: new Counter({ name: 'gateway_uplink_readings_acked_total', help: 'Readings acknowledged by the central broker (PUBACK)', registers }),
    uplinkConnects: new Counter({ name: 'gateway_uplink_connects_total', help: 'Successful connections to the central broker', registers }),
    readingsDiscarded: new Counter({
      name: 'gateway_readings_discarded_total',
      help: 'Valid readings not forwarded by decision of the platform, by reason',
      labelNames: ['reason'],
      registers,
    }),
    birthsPublished: new Counter({ name: 'gateway_device_births_published_total', help: 'Device births acknowledged by the central broker', registers }),
    rebirths: new Counter({ name: 'gateway_device_rebirths_total', help: 'Re-births of all known devices after an ingest came online', registers }),
    deviceConfigMessages: new Counter({
      name: 'gateway_device_config_messages_total',
      help: 'Per-device config messages received, by outcome',
      labelNames: ['outcome'],
      registers,
    }),
  };
}

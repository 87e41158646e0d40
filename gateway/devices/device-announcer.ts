/**
 * The gateway's side of device provisioning (issue 4): births, inventory, re-births and per-device
 * config, between the sources (through the ReadingGate of gateway/reading-sink.ts) and the uplink
 * (through its announcement queue and inbound subscriptions, gateway/uplink/mqtt-uplink.ts).
 *
 * - Births: the catalogue marks a device's birth due on its first reading of the run; the uplink
 *   sends due births, acknowledged, before the next envelope (order argued in device-catalog.ts).
 * - Inventory: retained, republished `inventoryDebounceMs` after the device set changed and on every
 *   connect, so a late subscriber sees every device at once.
 * - Re-births: an ingest publishes a retained `{online: true}` on `_sys/ingest/{instance}/state`
 *   on every connect (ingest/main.ts; the Sparkplug B "rebirth" idea). A live one always causes a
 *   re-birth. A retained one (delivered because we subscribed, retain flag set [MQTT-3.3.1-9]) only
 *   when it differs from the state last seen from that instance: a reconnect of ours re-delivers
 *   the same `{online:true}`, which needs nothing, while a state we never saw (first connect of the
 *   run, or the ingest went offline and came back while we were away) does. Several within
 *   `rebirthDelayMs` coalesce into one re-birth.
 * - Per-device config: `enabled: false` drops the device's readings here, counted by reason.
 */
import type { Logger } from 'pino';
import { ingestStateSchema, type DeviceSource } from '../../devices/contract/device-messages.schema.ts';
import { filters, TOPIC_ROOT, topics } from '../../devices/contract/mqtt-topics.ts';
import type { Reading } from '../../devices/contract/reading.schema.ts';
import { GATEWAY_DEFAULTS } from '../config.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { ReadingGate } from '../reading-sink.ts';
import type { Announcement, AnnouncementQueue } from '../uplink/mqtt-uplink.ts';
import type { DeviceCatalog, DueBirth } from './device-catalog.ts';
import type { DeviceConfigStore } from './device-configs.ts';
import type { DeviceFacts } from './device-facts.ts';

/** The uplink as the announcer uses it. */
export interface AnnouncerUplink {
  kick(): void;
  publish(topic: string, payload: string, opts: { retain: boolean }): Promise<boolean>;
}

export interface DeviceAnnouncerOptions {
  torg: string;
  gateway: string;
  catalog: DeviceCatalog;
  configs: DeviceConfigStore;
  /** Source name → what kind of source it is (the birth's `source`). */
  sourceKinds: ReadonlyMap<string, DeviceSource>;
  logger: Logger;
  metrics: Pick<GatewayMetrics, 'readingsDiscarded' | 'birthsPublished' | 'rebirths' | 'deviceConfigMessages'>;
  inventoryDebounceMs?: number;
  rebirthDelayMs?: number;
  /** Most ingest instances remembered; more are handled but evict the oldest. */
  maxIngestInstances?: number;
}

interface BirthAnnouncement extends Announcement {
  due: DueBirth;
}

/** The timings default to the gateway config's (one place for a default the config documents). */
const ANNOUNCER_DEFAULTS = {
  inventoryDebounceMs: GATEWAY_DEFAULTS.inventoryDebounceMs,
  rebirthDelayMs: GATEWAY_DEFAULTS.rebirthDelayMs,
  maxIngestInstances: 64,
} as const;

export class DeviceAnnouncer implements ReadingGate, AnnouncementQueue<BirthAnnouncement> {
  private uplink: AnnouncerUplink | null = null;
  private inventoryTimer: NodeJS.Timeout | null = null;
  private rebirthTimer: NodeJS.Timeout | null = null;
  private readonly ingestStates = new Map<string, string>();
  private readonly ingestStatePrefix = `${TOPIC_ROOT}/_sys/ingest/`;
  private stopped = false;

  constructor(private readonly o: DeviceAnnouncerOptions) {}

  /** The uplink is built after the announcer (it takes the announcer as its queue). */
  attach(uplink: AnnouncerUplink): void {
    this.uplink = uplink;
  }

  /** Subscriptions the uplink renews on every connect. */
  inboundFilters(): string[] {
    return [filters.allIngestStates, filters.gatewayDeviceConfigs(this.o.torg, this.o.gateway)];
  }

  // --- ReadingGate -------------------------------------------------------------------------------

  admit(source: string, readings: readonly Reading[], devices: readonly DeviceFacts[] | undefined, atMs: number): Reading[] {
    const kept: Reading[] = [];
    const byDevice = new Map<string, Reading[]>();
    for (const r of readings) {
      if (!this.o.configs.isEnabled(r.device)) {
        this.o.metrics.readingsDiscarded.inc({ reason: 'device_disabled' });
        continue;
      }
      kept.push(r);
      const list = byDevice.get(r.device);
      if (list === undefined) byDevice.set(r.device, [r]);
      else list.push(r);
    }
    const kind = this.o.sourceKinds.get(source) ?? 'direct';
    let setChanged = false;
    for (const [device, list] of byDevice) {
      const facts = devices?.find((d) => d.device === device);
      const outcome = this.o.catalog.observe(kind, device, list, facts, atMs);
      if (outcome === 'new' || outcome === 'changed') setChanged = true;
      if (outcome === 'new') this.o.logger.info({ device, source, model: facts?.model }, 'new device');
    }
    if (setChanged) this.scheduleInventory();
    return kept;
  }

  // --- AnnouncementQueue (births) ----------------------------------------------------------------

  take(max: number): BirthAnnouncement[] {
    return this.o.catalog.takeDue(max).map((due) => ({
      topic: topics.deviceBirth(this.o.torg, this.o.gateway, due.device),
      payload: JSON.stringify(due.birth),
      due,
    }));
  }

  sent(items: readonly BirthAnnouncement[]): void {
    this.o.catalog.markSent(items.map((i) => i.due));
    this.o.metrics.birthsPublished.inc(items.length);
  }

  failed(items: readonly BirthAnnouncement[]): void {
    this.o.catalog.release(items.map((i) => i.due));
  }

  // --- inbound messages --------------------------------------------------------------------------

  onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic.startsWith(this.ingestStatePrefix)) {
      this.onIngestState(topic, payload, retained);
      return;
    }
    const out = this.o.configs.handle(topic, payload);
    this.o.metrics.deviceConfigMessages.inc({ outcome: out.ok ? out.action : out.reason });
  }

  private onIngestState(topic: string, payload: Buffer, retained: boolean): void {
    const instance = topic.slice(this.ingestStatePrefix.length).split('/')[0] ?? '';
    const text = payload.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // An empty payload clears the retained state [MQTT-3.3.1-10]; anything else is not ours to act on.
      if (payload.length > 0) this.o.logger.warn({ topic }, 'ingest state is not JSON; ignored');
      this.ingestStates.delete(instance);
      return;
    }
    const state = ingestStateSchema.safeParse(json);
    if (!state.success) {
      this.o.logger.warn({ topic }, 'ingest state does not match the contract; ignored');
      return;
    }
    const previous = this.ingestStates.get(instance);
    this.ingestStates.delete(instance);
    this.ingestStates.set(instance, text);
    if (this.ingestStates.size > (this.o.maxIngestInstances ?? ANNOUNCER_DEFAULTS.maxIngestInstances)) {
      const oldest = this.ingestStates.keys().next().value;
      if (oldest !== undefined) this.ingestStates.delete(oldest);
    }
    if (state.data.online && (!retained || previous !== text)) {
      this.o.logger.info({ instance }, 'ingest online; re-sending device births');
      this.scheduleRebirth();
    }
  }

  private scheduleRebirth(): void {
    if (this.rebirthTimer !== null || this.stopped) return;
    this.rebirthTimer = setTimeout(() => {
      this.rebirthTimer = null;
      const n = this.o.catalog.markAllDue();
      this.o.metrics.rebirths.inc();
      this.o.logger.info({ devices: n }, 're-birth of all known devices');
      this.uplink?.kick();
    }, this.o.rebirthDelayMs ?? ANNOUNCER_DEFAULTS.rebirthDelayMs);
  }

  // --- inventory ---------------------------------------------------------------------------------

  /** Republishes the inventory after the uplink (re)connects (a broker may have lost the retained copy). */
  onUplinkOnline(): void {
    this.scheduleInventory();
  }

  private scheduleInventory(): void {
    if (this.inventoryTimer !== null || this.stopped) return;
    this.inventoryTimer = setTimeout(() => {
      this.inventoryTimer = null;
      this.publishInventory().catch((err: unknown) => this.o.logger.error({ err }, 'inventory publish failed'));
    }, this.o.inventoryDebounceMs ?? ANNOUNCER_DEFAULTS.inventoryDebounceMs);
  }

  private async publishInventory(): Promise<void> {
    if (this.uplink === null || this.o.catalog.size() === 0) return;
    this.o.catalog.flushLastSeen();
    const ok = await this.uplink.publish(topics.inventory(this.o.torg, this.o.gateway), JSON.stringify(this.o.catalog.inventory()), { retain: true });
    // Offline: onUplinkOnline() publishes it after the next connect.
    if (!ok) this.o.logger.debug('inventory not published (uplink offline)');
  }

  stop(): void {
    this.stopped = true;
    if (this.inventoryTimer !== null) clearTimeout(this.inventoryTimer);
    if (this.rebirthTimer !== null) clearTimeout(this.rebirthTimer);
    this.inventoryTimer = null;
    this.rebirthTimer = null;
  }
}

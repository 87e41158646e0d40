/**
 * The ingest's control plane (issue 4): device births into the registry, assignment rules, the
 * retained per-device config for gateways, the retained directory for ingest instances, and liveness.
 *
 * Topics and payloads are the contract's (devices/contract/device-messages.schema.ts,
 * devices/contract/mqtt-topics.ts). It needs an MQTT client of its own: the ingest's reading client
 * hands every message to the pipeline (ingest/deferred-ack.ts replaces `handleMessage`), so births
 * arriving there would never reach this module.
 *
 * Ordering: a birth updates the in-memory directory synchronously in the message handler, before
 * any await, so a reading that reaches the pipeline after the birth reached this module is already
 * checked against the new entry, without waiting for the registry write. The two arrive on separate
 * connections (see above), so only the broker's delivery skew between them remains: the gateway
 * sends births before the device's readings, and a reading of a device whose birth is not yet seen is
 * dead-lettered E_DEVICE_UNKNOWN (kept, and replayable from the dead-letter topic). Other instances
 * of a shared group catch up with the debounced directory snapshot.
 *
 * Registry work runs on one serial queue: births and admin actions of the same device never interleave
 * (an assignment by rule racing an admin's decommission), and SQLite writes are serial anyway.
 */
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry as MetricsRegistry } from 'prom-client';
import {
  DEVICE_MESSAGES_VERSION,
  deviceBirthSchema,
  directorySchema,
  inventorySchema,
  type DeviceBirth,
  type DeviceConfig,
  type DirectoryEntry,
  type Place,
} from '../../devices/contract/device-messages.schema.ts';
import { PlatformError } from '../../devices/contract/errors.ts';
import { SLUG_PATTERN } from '../../devices/contract/reading.schema.ts';
import { describeIssues } from '../../devices/contract/validate.ts';
import { TOPIC_ROOT, filters, parseDeviceBirthTopic, topics } from '../../devices/contract/mqtt-topics.ts';
import type { TorgConfig } from '../../devices/torg/torg-config.schema.ts';
import { LIVENESS_STATES, type LivenessState, type LivenessTracker, type Transition } from '../liveness/liveness.ts';
import { RegistryError } from '../registry/registry-errors.ts';
import type { AssignmentRecord, DeviceConfigInput, DeviceRecord, Registry } from '../registry/registry.ts';
import { matchAssignmentRule, type AssignmentRules } from './assignment-rules.ts';
import { DeviceDirectory } from './device-directory.ts';

export interface ControlPlaneOptions {
  /** Connected, MQTT 5, allowed to read births/inventories/gateway states and write config and directory. */
  client: MqttClient;
  registry: Registry;
  /** The torg model: names of places for the gateways' config (ids are checked by the registry). */
  torgConfig: TorgConfig;
  directory: DeviceDirectory;
  liveness: LivenessTracker;
  rules: AssignmentRules;
  /** Epoch ms. */
  now: () => number;
  logger: Logger;
  metricsRegistry: MetricsRegistry;
  /**
   * Development only: register a gateway on its first birth. In production provisioning registers
   * gateways, and a birth from an unregistered one is refused (the registry's E_REGISTRY_UNKNOWN_GATEWAY).
   */
  autoRegisterGateways?: boolean;
  /** Liveness evaluation period (default 30 s); 0 disables the timer (tests call evaluateLiveness). */
  livenessEveryMs?: number;
  /** Coalesces directory snapshots (default 200 ms). */
  directoryDebounceMs?: number;
  /**
   * Devices (pending or active) one gateway may have in the registry; births of further new devices
   * are refused and counted (outcome `device_limit`). A gateway's credentials let it announce any
   * hardware id, and each accepted id costs a registry row, a retained config message and a directory
   * entry. Default 10 000, the gateway's own catalogue bound (gateway/devices/device-catalog.ts).
   */
  maxDevicesPerGateway?: number;
  /**
   * Births waiting for the registry; births arriving beyond it are dropped and counted (outcome
   * `dropped_queue_full`); the gateway re-sends them on the next ingest online state. Default 10 000.
   */
  maxQueuedBirths?: number;
}

/** Who asked, for the audit log: the API principal's name, `rule:<index>`, `cli:<user>`. Never a token. */
export interface Actor {
  name: string;
}

export interface DeviceLiveness {
  device: string;
  torg: string;
  state: LivenessState;
  lastSeenAt: number | null;
}
export interface GatewayLiveness {
  torg: string;
  gateway: string;
  state: LivenessState;
  lastSeenAt: number | null;
}

export interface ControlPlane {
  /** The pipeline's hook (MessagePipelineOptions.onAccepted): device and gateway liveness, no parsing. */
  onReading(torg: string, gateway: string, device: string, timeMs: number): void;
  /** `options.moveTorg` moves the device to another torg (the registry's AssignInput.moveTorg). */
  assign(device: string, torg: string, place: Place, at: number | undefined, actor: Actor, options?: { moveTorg?: boolean }): Promise<AssignmentRecord>;
  decommission(device: string, at: number | undefined, actor: Actor): Promise<DeviceRecord>;
  setDeviceConfig(device: string, input: DeviceConfigInput, actor: Actor): Promise<DeviceRecord>;
  /** Evaluates liveness at `now()`, updates nothing else; logs and counts transitions. */
  evaluateLiveness(): Transition[];
  deviceLiveness(device: string): DeviceLiveness | null;
  gatewayLiveness(torg: string, gateway: string): GatewayLiveness | null;
  livenessSnapshot(): { devices: DeviceLiveness[]; gateways: GatewayLiveness[] };
  /** Resolves when every queued registry operation has finished (tests, shutdown). */
  idle(): Promise<void>;
  /** Publishes the directory now (instead of after the debounce). */
  publishDirectory(): Promise<void>;
  stop(): Promise<void>;
}

/** A birth refused by maxDevicesPerGateway. */
class DeviceLimitError extends Error {}

const GATEWAY_TOPIC_RE = new RegExp(`^${TOPIC_ROOT}/([^/]+)/([^/]+)/(state|inventory)$`);

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Sets the gauge to the count per (torg, state), with every state of every torg that has an item,
 * zeros included, so a dashboard sees "0 offline" rather than no series.
 */
function setTorgStateCounts(gauge: Gauge<'torg' | 'state'>, items: readonly { torg: string; state: LivenessState }[]): void {
  gauge.reset();
  const counts = new Map<string, number>();
  for (const i of items) counts.set(`${i.torg}\n${i.state}`, (counts.get(`${i.torg}\n${i.state}`) ?? 0) + 1);
  const torgs = new Set(items.map((i) => i.torg));
  for (const torg of torgs) for (const state of LIVENESS_STATES) gauge.set({ torg, state }, counts.get(`${torg}\n${state}`) ?? 0);
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const { client, registry, directory, liveness, now, logger: log } = opts;
  const autoRegister = opts.autoRegisterGateways ?? false;
  const debounceMs = opts.directoryDebounceMs ?? 200;
  const maxDevicesPerGateway = opts.maxDevicesPerGateway ?? 10_000;
  const maxQueuedBirths = opts.maxQueuedBirths ?? 10_000;
  let stopped = false;
  let queuedBirths = 0;

  const placeNames = new Map<string, string>();
  for (const t of opts.torgConfig.torg) {
    for (const z of t.zones) placeNames.set(`${t.id}/zone/${z.id}`, z.name);
    for (const e of t.entrances) placeNames.set(`${t.id}/entrance/${e.id}`, e.name);
  }
  const placeName = (torg: string, place: Place): string | null =>
    placeNames.get(place.type === 'zone' ? `${torg}/zone/${place.zone}` : `${torg}/entrance/${place.entrance}`) ?? null;

  // ----- metrics
  const registers = [opts.metricsRegistry];
  // Outcomes: created, known, torg_conflict (a gateway of another torg than the device's), invalid,
  // dropped_queue_full, device_limit, unknown_gateway, failed.
  const births = new Counter({ name: 'ingest_device_births_total', help: 'Device births received, by outcome', labelNames: ['outcome'], registers });
  const ruleAssignments = new Counter({ name: 'ingest_rule_assignments_total', help: 'Pending devices assigned by an assignment rule', registers });
  const transitions = new Counter({ name: 'ingest_liveness_transitions_total', help: 'Liveness state changes, by kind and new state', labelNames: ['kind', 'to'], registers });
  new Gauge({
    name: 'ingest_devices',
    help: 'Tracked devices (pending and active) by torg and liveness state',
    labelNames: ['torg', 'state'],
    registers,
    collect() {
      setTorgStateCounts(this, liveness.snapshot(now()).devices);
    },
  });
  new Gauge({
    name: 'ingest_gateways',
    help: 'Gateways by torg and liveness state',
    labelNames: ['torg', 'state'],
    registers,
    collect() {
      setTorgStateCounts(this, liveness.snapshot(now()).gateways);
    },
  });

  // ----- serial queue of registry work
  let queue: Promise<void> = Promise.resolve();
  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };

  // ----- directory and liveness from registry records
  const openAssignment = async (device: string): Promise<AssignmentRecord | undefined> =>
    (await registry.assignmentHistory(device)).find((a) => a.validTo === null);
  /** The torg a device's readings must come from: the assigned torg when active, else the announcing one. */
  function entryOf(record: DeviceRecord, open: AssignmentRecord | undefined): DirectoryEntry {
    return record.status === 'active' ? { s: 'active', t: open?.torg ?? record.torg } : { s: record.status, t: record.torg };
  }
  async function entryFor(record: DeviceRecord): Promise<DirectoryEntry> {
    return entryOf(record, record.status === 'active' ? await openAssignment(record.id) : undefined);
  }
  /**
   * Readings of devices the tracker does not know yet: a device's first reading follows its birth on
   * the writer's connection and can arrive before the birth's registry work here has finished. The
   * newest observation is kept (bounded) and applied when the device is tracked, so a new device is
   * online from its first reading instead of never_seen until its second.
   */
  const EARLY_SEEN_MAX = 10_000;
  const earlySeen = new Map<string, number>();
  function trackLiveness(record: DeviceRecord, torg: string): void {
    if (record.status === 'decommissioned') {
      liveness.removeDevice(record.id);
      earlySeen.delete(record.id);
      return;
    }
    liveness.upsertDevice({
      device: record.id,
      torg,
      deviceClass: record.deviceClass,
      ...(record.expectedIntervalS !== null ? { expectedIntervalMs: record.expectedIntervalS * 1000 } : {}),
    });
    const seen = earlySeen.get(record.id);
    if (seen !== undefined) {
      earlySeen.delete(record.id);
      liveness.deviceSeen(record.id, seen, now());
    }
  }

  /** `torg/gateway` of the gateway that last announced the device (another torg's after an admin's move). */
  const announcerKey = (record: DeviceRecord): string => `${record.gatewayTorg ?? record.torg}/${record.gateway}`;

  // Non-decommissioned devices by the gateway that last announced them (maxDevicesPerGateway).
  const devicesByGateway = new Map<string, Set<string>>();
  const gatewayOfDevice = new Map<string, string>();
  function countDevice(record: DeviceRecord): void {
    const prev = gatewayOfDevice.get(record.id);
    const next = record.status === 'decommissioned' ? undefined : announcerKey(record);
    if (prev === next) return;
    if (prev !== undefined) {
      const set = devicesByGateway.get(prev);
      set?.delete(record.id);
      if (set?.size === 0) devicesByGateway.delete(prev);
      gatewayOfDevice.delete(record.id);
    }
    if (next !== undefined) {
      let set = devicesByGateway.get(next);
      if (!set) devicesByGateway.set(next, (set = new Set()));
      set.add(record.id);
      gatewayOfDevice.set(record.id, next);
    }
  }

  const knownGateways = new Set<string>();
  for (const g of await registry.listGateways()) {
    knownGateways.add(`${g.torg}/${g.id}`);
    liveness.addGateway(g.torg, g.id);
  }
  // Two reads for the whole registry rather than one history read per device.
  const openByDevice = new Map<string, AssignmentRecord>();
  for (const a of await registry.listAssignments()) if (a.validTo === null) openByDevice.set(a.device, a);
  for (const d of await registry.listDevices()) {
    const entry = entryOf(d, openByDevice.get(d.id));
    directory.set(d.id, entry);
    trackLiveness(d, entry.t);
    countDevice(d);
  }

  // ----- publishing
  const publish = (topic: string, payload: string, what: string): Promise<void> =>
    client.publishAsync(topic, payload, { qos: 1, retain: true }).then(
      () => undefined,
      (err: unknown) => log.error({ err, topic, code: 'E_MQTT_UNAVAILABLE' }, `${what} publish failed`),
    );

  async function publishConfig(record: DeviceRecord): Promise<void> {
    // Moved by an admin and not yet announced by a gateway of its new torg: no gateway is to get its
    // config (the old torg's was cleared by the move); the new torg's gateway gets it after its birth.
    if (record.gatewayTorg !== undefined) return;
    const entry = directory.lookup(record.id);
    // A device assigned to torg A announced by a gateway of torg B (moved without an admin, or spoofed):
    // B's gateway gets nothing about it; its readings from B are dead-lettered.
    if (entry !== undefined && entry.t !== record.torg) {
      log.warn({ device: record.id, assignedTorg: entry.t, announcedBy: `${record.torg}/${record.gateway}` }, 'device announced by a gateway of another torg; config not sent');
      return;
    }
    let place: Place | null = null;
    if (record.status === 'active') place = (await openAssignment(record.id))?.place ?? null;
    const config: DeviceConfig = {
      v: DEVICE_MESSAGES_VERSION,
      device: record.id,
      status: record.status,
      enabled: record.status !== 'decommissioned' && record.enabled,
      place,
      placeName: place === null ? null : placeName(record.torg, place),
      expectedIntervalS: record.expectedIntervalS,
      updatedAt: now(),
    };
    await publish(topics.deviceConfig(record.torg, record.gateway, record.id), JSON.stringify(config), 'device config');
  }

  let lastVersion = -1;
  let directoryTimer: NodeJS.Timeout | undefined;
  async function publishDirectory(): Promise<void> {
    clearTimeout(directoryTimer);
    directoryTimer = undefined;
    // Epoch-ms based, so the version keeps increasing across a restart of the control plane.
    lastVersion = Math.max(now(), lastVersion + 1);
    await publish(topics.registryDirectory(), JSON.stringify(directory.toSnapshot(lastVersion, now())), 'directory');
  }
  function scheduleDirectory(): void {
    if (directoryTimer !== undefined || stopped) return;
    directoryTimer = setTimeout(() => void publishDirectory(), debounceMs);
  }

  // ----- births
  function onBirth(torg: string, gateway: string, device: string, payload: Buffer): void {
    const parsed = deviceBirthSchema.safeParse(parseJson(payload));
    if (!parsed.success || parsed.data.device !== device) {
      births.inc({ outcome: 'invalid' });
      log.warn({ torg, gateway, device, detail: parsed.success ? 'device in payload differs from topic' : describeIssues(parsed.error) }, 'invalid device birth ignored');
      return;
    }
    const birth = parsed.data;
    if (queuedBirths >= maxQueuedBirths) {
      births.inc({ outcome: 'dropped_queue_full' });
      log.warn({ torg, gateway, device, maxQueuedBirths }, 'device birth dropped: too many births waiting for the registry');
      return;
    }
    // Synchronous, before any await (see the header): the next reading of this device is checked
    // against this entry. Active and decommissioned entries are not the birth's to change.
    const previous = directory.lookup(device);
    // A pending device of another torg stays that torg's: the registry will refuse this birth (torg_conflict).
    if (previous === undefined || (previous.s === 'pending' && previous.t === torg)) directory.set(device, { s: 'pending', t: torg });
    queuedBirths++;
    void enqueue(() => handleBirth(torg, gateway, birth, previous))
      .catch((err: unknown) => {
        if (directory.lookup(device)?.s === 'pending') directory.set(device, previous ?? null);
        if (err instanceof DeviceLimitError) {
          births.inc({ outcome: 'device_limit' });
          log.warn({ torg, gateway, device, maxDevicesPerGateway }, 'device birth refused: the gateway has as many devices as allowed');
          return;
        }
        const code = err instanceof RegistryError ? err.code : undefined;
        births.inc({ outcome: code === 'E_REGISTRY_UNKNOWN_GATEWAY' ? 'unknown_gateway' : 'failed' });
        log.warn({ err, code, torg, gateway, device }, 'device birth not registered');
      })
      .finally(() => queuedBirths--);
  }

  /**
   * A birth from a gateway of another torg than the device's (issue 4, spoofing): the registry keeps
   * the record, so nothing else changes either — directory, liveness, config. Only an admin moves a
   * device between torg (assign with moveTorg).
   */
  async function torgConflict(record: DeviceRecord, torg: string, gateway: string): Promise<void> {
    births.inc({ outcome: 'torg_conflict' });
    // onBirth marks a device the directory did not know as pending in the birth's torg; undo that.
    const current = directory.lookup(record.id);
    const entry = await entryFor(record);
    if (current?.s !== entry.s || current.t !== entry.t) {
      directory.set(record.id, entry);
      scheduleDirectory();
    }
    log.warn(
      { device: record.id, deviceTorg: record.torg, deviceGateway: `${record.gatewayTorg ?? record.torg}/${record.gateway}`, announcedBy: `${torg}/${gateway}` },
      'device birth from a gateway of another torg ignored; only an admin moves a device between torg',
    );
  }

  /** Removes the retained config at the gateway that last announced `record` [MQTT-3.3.1-10]. */
  async function clearConfig(record: DeviceRecord): Promise<void> {
    await publish(topics.deviceConfig(record.gatewayTorg ?? record.torg, record.gateway, record.id), '', 'device config clear');
  }

  async function handleBirth(torg: string, gateway: string, birth: DeviceBirth, previous: DirectoryEntry | undefined): Promise<void> {
    const gwKey = `${torg}/${gateway}`;
    if (!knownGateways.has(gwKey)) {
      if (autoRegister) {
        await registry.upsertGateway({ torg, id: gateway });
        log.info({ torg, gateway }, 'gateway registered on first birth (autoRegisterGateways, development mode)');
      } else if ((await registry.getGateway(torg, gateway)) === null) {
        throw new RegistryError('E_REGISTRY_UNKNOWN_GATEWAY', gwKey);
      }
      knownGateways.add(gwKey);
      liveness.addGateway(torg, gateway);
    }
    const before = await registry.getDevice(birth.device);
    if (before !== null && before.torg !== torg) {
      await torgConflict(before, torg, gateway);
      return;
    }
    const ofGateway = devicesByGateway.get(gwKey);
    if (!ofGateway?.has(birth.device) && (ofGateway?.size ?? 0) >= maxDevicesPerGateway) throw new DeviceLimitError();
    const match = matchAssignmentRule(opts.rules, { torg, gateway, source: birth.source, model: birth.model, labels: birth.labels, name: birth.name });
    const expectedIntervalS = match?.expectedIntervalS ?? birth.expectedIntervalS;
    const announced = await registry.announceDevice({
      id: birth.device,
      torg,
      gateway,
      model: birth.model,
      kinds: birth.kinds,
      units: birth.units,
      deviceClass: match?.deviceClass ?? birth.deviceClass,
      ...(expectedIntervalS !== undefined ? { expectedIntervalS } : {}),
    });
    let record = announced.device;
    // Another writer of the same registry file (the CLI) may have moved the device since getDevice.
    if (announced.torgConflict) {
      await torgConflict(record, torg, gateway);
      return;
    }
    births.inc({ outcome: announced.created ? 'created' : 'known' });
    if (announced.created) log.info({ device: record.id, torg, gateway, model: record.model }, 'new device pending');
    if (record.status === 'pending' && match !== null) {
      try {
        const a = await registry.assign({ device: record.id, torg, place: match.place, at: now() });
        ruleAssignments.inc();
        log.info({ device: record.id, torg, place: a.place, rule: match.index, ruleName: match.rule.name, actor: `rule:${match.index}` }, 'device assigned by rule');
        record = (await registry.getDevice(record.id)) ?? record;
      } catch (err) {
        // A rule naming a place this torg lacks: the device waits for an admin.
        if (!(err instanceof RegistryError)) throw err;
        log.warn({ device: record.id, torg, rule: match.index, code: err.code, detail: err.detail }, 'assignment rule could not be applied; device stays pending');
      }
    }
    const entry = await entryFor(record);
    directory.set(record.id, entry);
    trackLiveness(record, entry.t);
    countDevice(record);
    // The device moved to another gateway of its torg: the old one's retained config is cleared [MQTT-3.3.1-10].
    if (before !== null && announcerKey(before) !== announcerKey(record) && entry.t === record.torg) await clearConfig(before);
    await publishConfig(record);
    if (previous?.s !== entry.s || previous.t !== entry.t) scheduleDirectory();
  }

  // ----- gateway state and inventory
  function onGatewayTopic(torg: string, gateway: string, kind: 'state' | 'inventory', payload: Buffer): void {
    // An empty retained payload is a deletion, not a message [MQTT-3.3.1-10].
    if (payload.length === 0) return;
    const json = parseJson(payload);
    const at = now();
    if (kind === 'state') {
      const outcome = liveness.gatewayState(torg, gateway, json, at);
      if (outcome === 'invalid') {
        log.warn({ torg, gateway }, 'invalid gateway state ignored');
        return;
      }
      log.info({ torg, gateway, outcome }, 'gateway state');
      if (outcome !== 'birth') return;
    } else {
      const inv = inventorySchema.safeParse(json);
      if (!inv.success) {
        log.warn({ torg, gateway, detail: describeIssues(inv.error) }, 'invalid inventory ignored');
        return;
      }
      const unknown = inv.data.devices.filter((d) => directory.lookup(d.device) === undefined).length;
      if (unknown > 0) log.info({ torg, gateway, unknown }, 'inventory lists devices without a birth yet');
    }
    void enqueue(async () => {
      const key = `${torg}/${gateway}`;
      if (!knownGateways.has(key)) {
        // Registered after start (by provisioning); an unregistered gateway's state is not stored.
        if ((await registry.getGateway(torg, gateway)) === null) return;
        knownGateways.add(key);
      }
      await registry.gatewaySeen(torg, gateway, at);
    }).catch((err: unknown) => log.warn({ err, torg, gateway }, 'gateway last-seen not stored'));
  }

  const onMessage = (topic: string, payload: Buffer): void => {
    try {
      const b = parseDeviceBirthTopic(topic);
      if (b) {
        onBirth(b.torg, b.gateway, b.device, payload);
        return;
      }
      const g = GATEWAY_TOPIC_RE.exec(topic);
      if (g && SLUG_PATTERN.test(g[1]!) && SLUG_PATTERN.test(g[2]!)) onGatewayTopic(g[1]!, g[2]!, g[3] as 'state' | 'inventory', payload);
    } catch (err) {
      // Thrown here it would escape MQTT.js's packet loop.
      log.error({ err, topic }, 'control message failed');
    }
  };
  client.on('message', onMessage);
  const subscribe = async (): Promise<void> => {
    const granted = await client.subscribeAsync([filters.allDeviceBirths, filters.allInventories, filters.allGatewayStates], { qos: 1 });
    // SUBACK reason codes ≥ 0x80 are refusals (MQTT 5.0 §3.9.3), e.g. 0x87 when the ACL denies the filter.
    const refused = granted.filter((g) => g.qos >= 0x80);
    if (refused.length > 0) throw new PlatformError('E_MQTT_UNAVAILABLE', `subscription refused: ${refused.map((g) => g.topic).join(', ')}`);
  };
  // A reconnect without a kept session has no subscriptions (MQTT.js `resubscribe` covers only the
  // clean-start case it knows of), so subscribe again on every CONNACK.
  const onConnect = (): void => {
    subscribe().catch((err: unknown) => log.error({ err, code: 'E_MQTT_UNAVAILABLE' }, 'control subscribe failed'));
  };
  client.on('connect', onConnect);
  await subscribe();
  await publishDirectory();

  // ----- liveness
  const snapshotEntry = (d: { device: string; torg: string; state: LivenessState }): DeviceLiveness => ({
    ...d,
    lastSeenAt: liveness.deviceLastSeen(d.device) ?? null,
  });
  function evaluateLiveness(): Transition[] {
    const out = liveness.evaluate(now());
    for (const t of out) {
      transitions.inc({ kind: t.kind, to: t.to });
      const fields = { kind: t.kind, id: t.id, torg: t.torg, from: t.from, to: t.to, at: new Date(t.at).toISOString() };
      if (t.to === 'offline') log.warn(fields, 'liveness: offline');
      else log.info(fields, `liveness: ${t.to}`);
    }
    return out;
  }
  const livenessTimer = (opts.livenessEveryMs ?? 30_000) > 0 ? setInterval(evaluateLiveness, opts.livenessEveryMs ?? 30_000) : undefined;
  livenessTimer?.unref();

  // ----- admin actions
  async function afterChange(record: DeviceRecord): Promise<void> {
    const entry = await entryFor(record);
    directory.set(record.id, entry);
    trackLiveness(record, entry.t);
    countDevice(record);
    await publishConfig(record);
    scheduleDirectory();
  }

  return {
    onReading(torg, gateway, device, timeMs) {
      const t = now();
      if (!liveness.deviceSeen(device, timeMs, t) && (earlySeen.has(device) || earlySeen.size < EARLY_SEEN_MAX)) {
        if (timeMs > (earlySeen.get(device) ?? -Infinity)) earlySeen.set(device, timeMs);
      }
      liveness.gatewaySeen(torg, gateway, t);
    },
    assign: (device, torg, place, at, actor, options = {}) =>
      enqueue(async () => {
        const before = await registry.getDevice(device);
        const a = await registry.assign({ device, torg, place, ...(at !== undefined ? { at } : {}), ...(options.moveTorg === true ? { moveTorg: true } : {}) });
        const record = await registry.getDevice(device);
        if (before !== null && record !== null && before.torg !== record.torg) {
          log.info({ device, from: before.torg, to: record.torg, place, validFrom: a.validFrom, actor: actor.name }, 'device moved to another torg');
          // The old torg's gateway no longer gets the device's config, so it no longer places its readings.
          if (before.gatewayTorg === undefined) await clearConfig(before);
        } else {
          log.info({ device, torg, place, validFrom: a.validFrom, actor: actor.name }, 'device assigned');
        }
        if (record) await afterChange(record);
        return a;
      }),
    decommission: (device, at, actor) =>
      enqueue(async () => {
        const record = await registry.decommission(device, at);
        log.info({ device, actor: actor.name }, 'device decommissioned');
        await afterChange(record);
        return record;
      }),
    setDeviceConfig: (device, input, actor) =>
      enqueue(async () => {
        const record = await registry.setDeviceConfig(device, input);
        log.info({ device, config: input, actor: actor.name }, 'device config changed');
        await afterChange(record);
        return record;
      }),
    evaluateLiveness,
    deviceLiveness(device) {
      const state = liveness.deviceState(device, now());
      const torg = directory.lookup(device)?.t;
      return state === undefined || torg === undefined ? null : { device, torg, state, lastSeenAt: liveness.deviceLastSeen(device) ?? null };
    },
    gatewayLiveness(torg, gateway) {
      const state = liveness.gatewayLiveness(torg, gateway, now());
      return state === undefined ? null : { torg, gateway, state, lastSeenAt: liveness.gatewayLastSeen(torg, gateway) ?? null };
    },
    livenessSnapshot() {
      const snap = liveness.snapshot(now());
      return {
        devices: snap.devices.map(snapshotEntry),
        gateways: snap.gateways.map((g) => ({ ...g, lastSeenAt: liveness.gatewayLastSeen(g.torg, g.gateway) ?? null })),
      };
    },
    idle: () => queue,
    publishDirectory: () => enqueue(publishDirectory),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (livenessTimer) clearInterval(livenessTimer);
      client.off('message', onMessage);
      client.off('connect', onConnect);
      await queue;
      if (directoryTimer !== undefined) await publishDirectory();
    },
  };
}

/**
 * For an ingest instance without the registry: fills `directory` from the retained snapshot and keeps
 * applying newer ones. Resolves once the first snapshot is applied; E_MQTT_UNAVAILABLE (retriable) when
 * none arrives within `timeoutMs` (no control plane has published yet, or the broker is unreachable).
 */
export async function directoryFromBroker(
  client: MqttClient,
  timeoutMs: number,
  opts: { directory?: DeviceDirectory; logger?: Logger } = {},
): Promise<{ directory: DeviceDirectory; stop: () => Promise<void> }> {
  const directory = opts.directory ?? new DeviceDirectory();
  const topic = topics.registryDirectory();
  let first: (() => void) | undefined;
  const arrived = new Promise<void>((resolve) => (first = resolve));
  const onMessage = (t: string, payload: Buffer): void => {
    if (t !== topic || payload.length === 0) return;
    const parsed = directorySchema.safeParse(parseJson(payload));
    if (!parsed.success) {
      opts.logger?.warn({ detail: describeIssues(parsed.error) }, 'invalid directory snapshot ignored');
      return;
    }
    if (directory.applySnapshot(parsed.data)) {
      opts.logger?.debug({ version: parsed.data.version, devices: directory.size }, 'directory snapshot applied');
      first?.();
    }
  };
  client.on('message', onMessage);
  const stop = async (): Promise<void> => {
    client.off('message', onMessage);
    await client.unsubscribeAsync(topic).catch(() => undefined);
  };
  await client.subscribeAsync(topic, { qos: 1 });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    arrived.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    await stop();
    throw new PlatformError('E_MQTT_UNAVAILABLE', `no registry directory snapshot on ${topic} within ${timeoutMs} ms`);
  }
  return { directory, stop };
}

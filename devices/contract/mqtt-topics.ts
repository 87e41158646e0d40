/**
 * The MQTT topic layout, defined once for every client (gateway, ingest, simulator, CLI, live page).
 *
 *   itorg/v1/{torg}/{gateway}/readings            envelope of readings (QoS 1)            gateway → ingest
 *   itorg/v1/{torg}/{gateway}/state               gateway birth/death, retained, bdSeq   gateway (and its last will)
 *   itorg/v1/{torg}/{gateway}/inventory           devices the gateway knows, retained    gateway → registry
 *   itorg/v1/{torg}/{gateway}/devices/{device}/birth  what one device reports             gateway → registry
 *   itorg/v1/{torg}/{gateway}/config              gateway config, retained               platform → gateway
 *   itorg/v1/{torg}/{gateway}/config/devices/{device}  per-device config, retained        platform → gateway
 *   itorg/v1/{torg}/alerts/{alertId}              alert lifecycle events                 platform → subscribers
 *   itorg/v1/_sys/deadletter/{reason}             dead-lettered messages/readings        ingest → operators
 *   itorg/v1/_sys/ingest/{instance}/state         ingest online/offline, retained        ingest
 *   itorg/v1/_sys/provision/{request|response}/{clientId}  provisioning RPC              gateway ↔ platform
 *   itorg/v1/_sys/registry/directory              device status/torg snapshot, retained   platform → ingest instances
 *
 * Every gateway-produced topic sits under its own `{torg}/{gateway}` prefix, so a broker ACL of one
 * pattern per gateway confines it (issue 4). `_sys` cannot collide with a torg id: torg ids are slugs
 * that start with a letter or digit.
 */
import { SLUG_PATTERN } from './reading.schema.ts';

export const TOPIC_ROOT = 'itorg/v1';

export const topics = {
  readings: (torg: string, gateway: string) => `${TOPIC_ROOT}/${torg}/${gateway}/readings`,
  gatewayState: (torg: string, gateway: string) => `${TOPIC_ROOT}/${torg}/${gateway}/state`,
  inventory: (torg: string, gateway: string) => `${TOPIC_ROOT}/${torg}/${gateway}/inventory`,
  deviceBirth: (torg: string, gateway: string, device: string) => `${TOPIC_ROOT}/${torg}/${gateway}/devices/${device}/birth`,
  gatewayConfig: (torg: string, gateway: string) => `${TOPIC_ROOT}/${torg}/${gateway}/config`,
  deviceConfig: (torg: string, gateway: string, device: string) => `${TOPIC_ROOT}/${torg}/${gateway}/config/devices/${device}`,
  alert: (torg: string, alertId: string) => `${TOPIC_ROOT}/${torg}/alerts/${alertId}`,
  deadLetter: (reason: string) => `${TOPIC_ROOT}/_sys/deadletter/${reason}`,
  ingestState: (instance: string) => `${TOPIC_ROOT}/_sys/ingest/${instance}/state`,
  provisionRequest: (clientId: string) => `${TOPIC_ROOT}/_sys/provision/request/${clientId}`,
  provisionResponse: (clientId: string) => `${TOPIC_ROOT}/_sys/provision/response/${clientId}`,
  registryDirectory: () => `${TOPIC_ROOT}/_sys/registry/directory`,
} as const;

/** Subscription filters. */
export const filters = {
  allReadings: `${TOPIC_ROOT}/+/+/readings`,
  allGatewayStates: `${TOPIC_ROOT}/+/+/state`,
  allDeadLetters: `${TOPIC_ROOT}/_sys/deadletter/+`,
  allIngestStates: `${TOPIC_ROOT}/_sys/ingest/+/state`,
  allDeviceBirths: `${TOPIC_ROOT}/+/+/devices/+/birth`,
  allInventories: `${TOPIC_ROOT}/+/+/inventory`,
  allProvisionRequests: `${TOPIC_ROOT}/_sys/provision/request/+`,
  /** A gateway's own per-device config subtree. */
  gatewayDeviceConfigs: (torg: string, gateway: string) => `${TOPIC_ROOT}/${torg}/${gateway}/config/devices/+`,
  allAlerts: `${TOPIC_ROOT}/+/alerts/+`,
  /**
   * A shared subscription [MQTT-4.8.2]: the broker hands each message to one member of the group,
   * so N ingest instances split the stream.
   */
  shared: (group: string, filter: string) => `$share/${group}/${filter}`,
} as const;

/** Parses `itorg/v1/{torg}/{gateway}/readings`; null for anything else. */
export function parseReadingsTopic(topic: string): { torg: string; gateway: string } | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT || parts[4] !== 'readings') return null;
  const torg = parts[2]!;
  const gateway = parts[3]!;
  if (!SLUG_PATTERN.test(torg) || !SLUG_PATTERN.test(gateway)) return null;
  return { torg, gateway };
}

/** Parses `itorg/v1/{torg}/{gateway}/devices/{device}/birth`; null for anything else or bad torg/gateway ids. */
export function parseDeviceBirthTopic(topic: string): { torg: string; gateway: string; device: string } | null {
  const parts = topic.split('/');
  if (parts.length !== 7 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT || parts[4] !== 'devices' || parts[6] !== 'birth') return null;
  const torg = parts[2]!;
  const gateway = parts[3]!;
  const device = parts[5]!;
  // The device id is checked with the birth's payload, which must name the same device.
  if (!SLUG_PATTERN.test(torg) || !SLUG_PATTERN.test(gateway) || device === '') return null;
  return { torg, gateway, device };
}

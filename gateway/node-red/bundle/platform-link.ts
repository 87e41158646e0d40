/**
 * The path from a flow to the central platform: the gateway's disk outbox plus the uplink that
 * drains it.
 *
 * Two ways to get one:
 * - embedded (gateway/node-red/embed.ts): the gateway already holds the outbox open and runs the
 *   uplink; it puts them in Node-RED's settings as `innbyggertorgGateway`, and every node uses that,
 *   so one SQLite file has one writer.
 * - standalone (a plain Node-RED install): the `innbyggertorg-platform` config node opens its own
 *   SqliteOutbox and MqttUplink from its properties and credentials.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { slugSchema } from '../../../devices/contract/reading.schema.ts';
import { systemClock, type Clock } from '../../clock.ts';
import { GATEWAY_DEFAULTS } from '../../config.ts';
import { createGatewayMetrics, type UplinkState } from '../../metrics.ts';
import { DEFAULT_CLOCK_PLAUSIBILITY, type ClockPlausibility } from '../../normalize.ts';
import type { Outbox } from '../../outbox/outbox.ts';
import { SqliteOutbox } from '../../outbox/sqlite-outbox.ts';
import { DurableCounter } from '../../uplink/durable-counter.ts';
import { MqttUplink } from '../../uplink/mqtt-uplink.ts';

export interface PlatformLink {
  outbox: Outbox;
  uplinkState(): UplinkState;
  clock: Clock;
  limits: ClockPlausibility;
  /** True when the gateway owns outbox and uplink; close() then leaves them alone. */
  embedded: boolean;
  close(): Promise<void>;
}

/** The settings property an embedding host sets (see embed.ts). */
export const HOST_SETTINGS_KEY = 'innbyggertorgGateway';

const isFunction = (v: unknown): boolean => typeof v === 'function';

export const hostLinkSchema = z.object({
  outbox: z.custom<Outbox>(
    (v) => typeof v === 'object' && v !== null && isFunction((v as Outbox).append) && isFunction((v as Outbox).depth),
    'must be the gateway Outbox',
  ),
  uplinkState: z.custom<() => UplinkState>(isFunction, 'must be a function returning the uplink state'),
  clock: z.custom<Clock>((v) => typeof v === 'object' && v !== null && isFunction((v as Clock).now)).optional(),
  limits: z.object({ maxAheadMs: z.number(), maxBehindMs: z.number(), maxAgeMs: z.number() }).optional(),
});
export type HostLink = z.infer<typeof hostLinkSchema>;

/** The host's link, null when Node-RED runs standalone; throws when the host set something malformed. */
export function linkFromHost(value: unknown): PlatformLink | null {
  if (value === undefined || value === null) return null;
  const h = hostLinkSchema.parse(value);
  return {
    outbox: h.outbox,
    uplinkState: h.uplinkState,
    clock: h.clock ?? systemClock,
    limits: h.limits ?? DEFAULT_CLOCK_PLAUSIBILITY,
    embedded: true,
    close: () => Promise.resolve(),
  };
}

const brokerUrl = z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL');

/** The config node's properties (never secrets: those are credentials). */
export const platformConfigSchema = z
  .object({
    url: brokerUrl,
    torg: slugSchema,
    gateway: slugSchema,
    tls: z.boolean(),
    /** PEM CA bundle for a private CA; empty = the system trust store. */
    caFile: z.string().default(''),
    outboxPath: z.string().min(1),
    /** Empty = the gateway id (the central broker's ACL names the client after the gateway). */
    clientId: z.string().default(''),
  })
  .refine((c) => c.tls === /^(mqtts|wss):/.test(c.url), {
    path: ['url'],
    message: 'TLS on needs an mqtts:// or wss:// URL, TLS off an mqtt:// or ws:// URL',
  });
export type PlatformConfig = z.infer<typeof platformConfigSchema>;

export const platformCredentialsSchema = z.object({
  username: z.string().optional(),
  password: z.string().optional(),
});

/** Outbox files open in this process: a second writer on one SQLite outbox would interleave two streams. */
const openPaths = new Set<string>();

export function openStandaloneLink(config: PlatformConfig, credentials: z.infer<typeof platformCredentialsSchema>, logger: Logger, clock: Clock = systemClock): PlatformLink {
  const path = resolve(config.outboxPath);
  if (openPaths.has(path)) throw new Error(`E_CONFIG_INVALID: outbox ${path} is already open by another innbyggertorg-platform node`);
  const outbox = new SqliteOutbox({
    path,
    bounds: { maxReadings: GATEWAY_DEFAULTS.outboxMaxReadings, maxBytes: GATEWAY_DEFAULTS.outboxMaxBytes, maxAgeMs: GATEWAY_DEFAULTS.outboxMaxAgeMs },
    clock,
    logger,
  });
  openPaths.add(path);
  let uplink: MqttUplink | null = null;
  const metrics = createGatewayMetrics({ defaultMetrics: false, outbox: () => outbox, uplinkState: () => uplink?.state() ?? 'stopped' });
  try {
    uplink = new MqttUplink({
      url: config.url,
      clientId: config.clientId !== '' ? config.clientId : config.gateway,
      ...(credentials.username ? { username: credentials.username } : {}),
      ...(credentials.password ? { password: credentials.password } : {}),
      ...(config.tls && config.caFile !== '' ? { ca: readFileSync(config.caFile) } : {}),
      torg: config.torg,
      gateway: config.gateway,
      outbox,
      clock,
      logger,
      metrics,
      // Beside the outbox: seq and bdSeq must survive exactly as long as the outbox they number.
      seq: new DurableCounter(`${path}.seq.json`, 1_000),
      bdSeq: new DurableCounter(`${path}.bdseq.json`),
    });
  } catch (err) {
    openPaths.delete(path);
    void outbox.close();
    throw err;
  }
  const up = uplink;
  up.start();
  return {
    outbox,
    uplinkState: () => up.state(),
    clock,
    limits: DEFAULT_CLOCK_PLAUSIBILITY,
    embedded: false,
    close: async () => {
      try {
        await up.stop();
      } finally {
        await outbox.close();
        openPaths.delete(path);
      }
    },
  };
}

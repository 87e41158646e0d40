/**
 * Uplink: drains the outbox to the central broker as envelopes, QoS 1, in order.
 *
 * - One ordered stream: entries are claimed from the outbox in id order and published on one topic
 *   by one client. MQTT keeps the order of QoS 1 messages on a topic from one client
 *   [MQTT-4.6.0-2, -3], so up to `maxInFlight` envelopes can be in the air without reordering.
 * - An entry is deleted from the outbox only in the PUBACK callback of the envelope that carried it.
 *   When the connection drops, every claim is released and the next session re-sends from the
 *   oldest un-acked entry, before anything newer; the ingest is idempotent per point, so a re-sent
 *   envelope the broker had already received costs nothing but bandwidth.
 * - Sessions: each connect is a NEW MQTT.js client (reconnectPeriod 0, own backoff with jitter) so
 *   each connection gets its own last will. As in Sparkplug B (Eclipse Sparkplug 3.0, "bdSeq"), the
 *   will ({online:false, bdSeq}) and the birth that follows it ({online:true, bdSeq, startedAt})
 *   carry the same number, persisted and incremented per connect, so the platform can tell a death
 *   followed by a restart from a stale will. Both are retained [MQTT-3.3.1-5].
 * - Announcements (device births) go out on the same connection and are PUBACKed before the next
 *   envelope is published, both before and after each claim: a reading appended after its device's
 *   birth was marked due cannot be in an envelope that leaves before that birth was acknowledged.
 *   Only a PUBACK proves the broker received the birth before the envelope; MQTT orders messages per
 *   topic only [MQTT-4.6.0-5], and births and readings are on different topics.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { MAX_READINGS_PER_ENVELOPE, SCHEMA_VERSION, type Envelope } from '../../devices/contract/reading.schema.ts';
import type { Clock } from '../clock.ts';
import type { GatewayMetrics, UplinkState } from '../metrics.ts';
import type { Outbox } from '../outbox/outbox.ts';
import type { DurableCounter } from './durable-counter.ts';

export interface MqttUplinkOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** PEM contents for TLS (mqtts://): CA bundle, client certificate and key. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  torg: string;
  gateway: string;
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  metrics: Pick<GatewayMetrics, 'envelopesPublished' | 'readingsAcked' | 'uplinkConnects'>;
  /** Envelope sequence numbers. */
  seq: DurableCounter;
  /** Session numbers for birth/death. */
  bdSeq: DurableCounter;
  maxReadingsPerEnvelope?: number;
  /** Envelopes published and not yet PUBACKed. */
  maxInFlight?: number;
  backoff?: { initialMs: number; maxMs: number };
  keepaliveSeconds?: number;
  connectTimeoutMs?: number;
  /** Random in [0,1) for backoff jitter; injected for tests. */
  random?: () => number;
  /** Messages that must reach the broker before the next envelope (device births). */
  announcements?: AnnouncementQueue;
  /** Announcements in the air at once. */
  announcementWindow?: number;
  /** Most announcements per second, so a re-birth of hundreds of devices does not flood the broker. */
  announcementsPerSecond?: number;
  /** Subscriptions on the central broker, renewed on every connect (the session is clean). */
  inbound?: { filters: readonly string[]; onMessage(topic: string, payload: Buffer, retained: boolean): void };
  /** Called after every successful connect (e.g. to republish retained state). */
  onOnline?: () => void;
}

export interface Announcement {
  topic: string;
  payload: string;
}

export interface AnnouncementQueue<T extends Announcement = Announcement> {
  /** Up to `max` messages due now; each is handed out once until sent() or failed(). */
  take(max: number): T[];
  /** The broker acknowledged them. */
  sent(items: readonly T[]): void;
  /** Not acknowledged (connection lost): they stay due. */
  failed(items: readonly T[]): void;
}

interface Session {
  client: MqttClient;
  bdSeq: number;
  online: boolean;
  inFlight: number;
}

export class MqttUplink {
  private readonly o: MqttUplinkOptions;
  private readonly perEnvelope: number;
  private readonly maxInFlight: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly startedAt: string;
  private session: Session | null = null;
  private stopped = true;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pumping = false;
  private repump = false;
  private unsubscribe: (() => void) | null = null;
  private currentState: UplinkState = 'stopped';

  constructor(opts: MqttUplinkOptions) {
    this.o = opts;
    this.perEnvelope = Math.min(opts.maxReadingsPerEnvelope ?? 500, MAX_READINGS_PER_ENVELOPE);
    this.maxInFlight = opts.maxInFlight ?? 8;
    this.backoff = opts.backoff ?? { initialMs: 500, maxMs: 30_000 };
    this.startedAt = new Date(opts.clock.now()).toISOString();
  }

  state(): UplinkState {
    return this.currentState;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.o.outbox.onAppend(() => this.pump());
    this.connect();
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.stopped) return;
    const bdSeq = this.o.bdSeq.next();
    const stateTopic = topics.gatewayState(this.o.torg, this.o.gateway);
    const options: IClientOptions = {
      clientId: this.o.clientId,
      clean: true,
      reconnectPeriod: 0,
      keepalive: this.o.keepaliveSeconds ?? 30,
      connectTimeout: this.o.connectTimeoutMs ?? 10_000,
      will: { topic: stateTopic, payload: Buffer.from(JSON.stringify({ online: false, bdSeq })), qos: 1, retain: true },
    };
    if (this.o.username !== undefined) options.username = this.o.username;
    if (this.o.password !== undefined) options.password = this.o.password;
    if (this.o.ca !== undefined) options.ca = this.o.ca;
    if (this.o.cert !== undefined) options.cert = this.o.cert;
    if (this.o.key !== undefined) options.key = this.o.key;
    this.currentState = 'connecting';
    const client = mqtt.connect(this.o.url, options);
    const session: Session = { client, bdSeq, online: false, inFlight: 0 };
    this.session = session;
    client.on('connect', () => {
      if (this.session !== session) return;
      this.attempt = 0;
      session.online = true;
      this.currentState = 'online';
      this.o.metrics.uplinkConnects.inc();
      this.o.logger.info({ url: this.o.url, bdSeq, depth: this.o.outbox.depth() }, 'uplink connected');
      const inbound = this.o.inbound;
      if (inbound !== undefined && inbound.filters.length > 0) {
        client.subscribe([...inbound.filters], { qos: 1 }, (err, granted) => {
          // A broker refusing a filter answers 0x80 in the SUBACK [MQTT-3.9.3]; MQTT.js reports it in `granted`.
          const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
          if (err || refused.length > 0) this.o.logger.error({ err: err?.message, refused }, 'uplink: subscription refused');
        });
      }
      const birth = JSON.stringify({ online: true, bdSeq, startedAt: this.startedAt });
      client.publish(stateTopic, birth, { qos: 1, retain: true }, (err) => {
        if (err) this.o.logger.warn({ err: err.message }, 'uplink: birth message not acknowledged');
      });
      // Start from the oldest un-acked entry: anything claimed by an earlier session is re-sent first.
      this.o.outbox.release();
      this.pump();
      this.o.onOnline?.();
    });
    if (this.o.inbound !== undefined) {
      const onMessage = this.o.inbound.onMessage;
      client.on('message', (topic, payload, packet) => {
        if (this.session !== session) return;
        try {
          onMessage(topic, payload, packet.retain);
        } catch (err) {
          this.o.logger.error({ err, topic }, 'uplink: inbound message handler failed');
        }
      });
    }
    client.on('error', (err) => {
      if (this.session === session) this.o.logger.warn({ err: err.message, url: this.o.url }, 'uplink connection error');
    });
    client.on('close', () => this.onClose(session));
  }

  private onClose(session: Session): void {
    if (this.session !== session) return;
    this.session = null;
    session.online = false;
    session.client.end(true);
    this.o.outbox.release();
    if (this.stopped) return;
    this.currentState = 'offline';
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(this.attempt, 16));
    // Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): many gateways that lost
    // the broker at once do not come back in lockstep.
    const delay = Math.max(this.backoff.initialMs / 2, Math.floor((this.o.random ?? Math.random)() * ceiling));
    this.attempt++;
    this.o.logger.warn({ delayMs: delay, attempt: this.attempt, depth: this.o.outbox.depth() }, 'uplink disconnected; reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Publishes claimed batches while the window has room. Re-entrant calls coalesce. */
  private pump(): void {
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    this.pumpLoop()
      .catch((err: unknown) => this.o.logger.error({ err }, 'uplink pump failed'))
      .finally(() => {
        this.pumping = false;
        if (this.repump) {
          this.repump = false;
          this.pump();
        }
      });
  }

  private async pumpLoop(): Promise<void> {
    for (;;) {
      const session = this.session;
      if (!session?.online || this.stopped || session.inFlight >= this.maxInFlight) return;
      if (!(await this.flushAnnouncements(session))) return;
      const entries = await this.o.outbox.claim(this.perEnvelope);
      if (entries.length === 0) return;
      if (this.session !== session || !session.online) {
        // Lost the connection while claiming: the claims were released with it; nothing to undo.
        return;
      }
      // Births of devices first seen while we were claiming (see the header).
      if (!(await this.flushAnnouncements(session))) return;
      // The envelope of the contract (devices/contract/reading.schema.ts), with the stored readings
      // spliced in as the JSON they were appended as (validated then) instead of parsed and
      // re-serialised: the header is serialised on its own and the readings array added to it.
      const header: Omit<Envelope, 'readings'> = {
        v: SCHEMA_VERSION,
        gateway: this.o.gateway,
        torg: this.o.torg,
        sentAt: new Date(this.o.clock.now()).toISOString(),
        seq: this.o.seq.next(),
      };
      const headerJson = JSON.stringify(header);
      const body = `${headerJson.slice(0, -1)},"readings":[${entries.map((e) => e.json).join(',')}]}`;
      const ids = entries.map((e) => e.id);
      session.inFlight++;
      this.o.metrics.envelopesPublished.inc();
      session.client.publish(topics.readings(this.o.torg, this.o.gateway), body, { qos: 1 }, (err) => {
        session.inFlight--;
        // A PUBACK is the broker's receipt whichever session is current now: ack it even during stop().
        // A failed publish is left in the outbox; the next session re-sends it.
        if (err) return;
        this.o.outbox.ack(ids).then(
          () => {
            this.o.metrics.readingsAcked.inc(ids.length);
            this.pump();
          },
          (ackErr: unknown) => this.o.logger.error({ err: ackErr }, 'uplink: outbox ack failed (entries will be re-sent)'),
        );
      });
    }
  }

  /**
   * Sends every due announcement, `announcementWindow` at a time, each batch PUBACKed before the
   * next. False when the session was lost (or a publish failed, which ends the session so that its
   * claims are released and re-sent in order by the next one).
   */
  private async flushAnnouncements(session: Session): Promise<boolean> {
    const queue = this.o.announcements;
    if (queue === undefined) return true;
    const window = this.o.announcementWindow ?? 20;
    const perSecond = this.o.announcementsPerSecond ?? 100;
    for (;;) {
      if (this.session !== session || !session.online || this.stopped) return false;
      const batch = queue.take(window);
      if (batch.length === 0) return true;
      const started = Date.now();
      const acked = await Promise.all(
        batch.map(
          (m) =>
            new Promise<boolean>((resolve) => {
              session.client.publish(m.topic, m.payload, { qos: 1 }, (err) => resolve(!err));
            }),
        ),
      );
      const ok = batch.filter((_, i) => acked[i] === true);
      const failed = batch.filter((_, i) => acked[i] !== true);
      if (ok.length > 0) queue.sent(ok);
      if (failed.length > 0) {
        queue.failed(failed);
        if (this.session === session && session.online) {
          this.o.logger.warn({ failed: failed.length }, 'uplink: announcements not acknowledged; reconnecting');
          session.client.end(true);
        }
        return false;
      }
      // Pacing uses wall time on purpose: it spaces network traffic, it is not logic under test.
      const minMs = (batch.length * 1000) / perSecond;
      const waitMs = minMs - (Date.now() - started);
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  /** Runs the pump now (new announcements with nothing appended to the outbox). */
  kick(): void {
    this.pump();
  }

  /** Publishes one message on the current connection, QoS 1; false when offline or not acknowledged. */
  publish(topic: string, payload: string, opts: { retain: boolean }): Promise<boolean> {
    const session = this.session;
    if (!session?.online) return Promise.resolve(false);
    return new Promise((resolve) => {
      session.client.publish(topic, payload, { qos: 1, retain: opts.retain }, (err) => resolve(!err));
    });
  }

  /** Publishes a retained death message (a clean disconnect suppresses the will [MQTT-3.14.4-3]) and closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.currentState = 'stopped';
    this.unsubscribe?.();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const session = this.session;
    this.session = null;
    if (!session) return;
    if (session.online) {
      const death = JSON.stringify({ online: false, bdSeq: session.bdSeq });
      await new Promise<void>((resolve) => {
        session.client.publish(topics.gatewayState(this.o.torg, this.o.gateway), death, { qos: 1, retain: true }, () => resolve());
      });
    }
    await session.client.endAsync(!session.online);
    this.o.outbox.release();
  }
}

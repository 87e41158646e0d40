/**
 * Source: a local MQTT broker (the LNS's or zigbee2mqtt's), subscribed at QoS 1.
 *
 * Deferred acknowledgement: MQTT.js sends the PUBACK of an incoming QoS 1 message only when the
 * callback of `handleMessage(packet, callback)` is called (MQTT.js README, "handleMessage"; the
 * same idea as ingest/deferred-ack.ts). We call it only after the readings are durable in the
 * outbox, so a crash before that leaves the message un-acked and the broker redelivers it
 * [MQTT-4.4.0-1] to our persistent session (clean: false, fixed client id). MQTT.js handles one
 * message at a time through handleMessage, which serialises the source; for a local LNS broker the
 * group-commit window (a few ms per message) is far above its message rate.
 *
 * Outbox full (retriable): the message stays un-acked and the append is retried with backoff; the
 * broker's in-flight window then stops the flow, so data waits in the LNS broker instead of being
 * dropped here.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { GatewayErrorCode } from '../gateway-errors.ts';
import type { MqttParseFn, ParseOutcome, ReadingSink, Source } from './source.ts';

export interface MqttSourceOptions {
  name: string;
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  topics: readonly string[];
  parse: MqttParseFn;
  clock: Clock;
  logger: Logger;
  /** Backoff while the outbox refuses appends. */
  retry?: { initialMs: number; maxMs: number };
}

function isRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

export class MqttSource implements Source {
  readonly name: string;
  private client: MqttClient | null = null;
  private stopping = false;

  constructor(private readonly o: MqttSourceOptions) {
    this.name = o.name;
  }

  start(sink: ReadingSink): Promise<void> {
    const options: IClientOptions = { clientId: this.o.clientId, clean: false, reconnectPeriod: 2_000 };
    if (this.o.username !== undefined) options.username = this.o.username;
    if (this.o.password !== undefined) options.password = this.o.password;
    const client = mqtt.connect(this.o.url, { ...options, manualConnect: true });
    this.client = client;
    client.handleMessage = (packet, callback) => {
      this.handle(sink, packet.topic, Buffer.from(packet.payload)).then(
        () => callback(),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    };
    client.on('error', (err) => this.o.logger.warn({ source: this.name, err: err.message }, 'source broker error'));
    return new Promise<void>((resolve) => {
      client.on('connect', (connack) => {
        this.o.logger.info({ source: this.name, url: this.o.url, sessionPresent: connack.sessionPresent }, 'source connected');
        // Subscribing again on every connect is harmless with a persistent session and needed if
        // the broker lost it (sessionPresent false).
        client.subscribe(
          this.o.topics.map((t) => t),
          { qos: 1 },
          (err) => {
            if (err) this.o.logger.error({ source: this.name, err: err.message }, 'source subscribe failed');
            resolve();
          },
        );
      });
      client.connect();
    });
  }

  private async handle(sink: ReadingSink, topic: string, payload: Buffer): Promise<void> {
    const receivedAtMs = this.o.clock.now();
    let parsed: ParseOutcome;
    try {
      parsed = this.o.parse(topic, payload, receivedAtMs);
    } catch (err) {
      // A decoder that throws anything but a DecodeError has a bug. The same bytes would throw again
      // on every redelivery, so the message is handled like any undecodable one (counted, kept at
      // /rejected, acked) instead of being held: an un-acked poison message never leaves the session.
      const code: GatewayErrorCode = 'E_SOURCE_PARSER_FAILED';
      sink.messageFailed(this.name, code, err instanceof Error ? err.message : String(err), { topic, payload: payload.subarray(0, 512).toString('utf8') });
      return;
    }
    if (!parsed.ok) {
      // Permanent: parsing the same bytes again gives the same answer; ack so it is not redelivered.
      sink.messageFailed(this.name, parsed.code, parsed.detail, { topic, payload: payload.subarray(0, 512).toString('utf8') });
      return;
    }
    if (parsed.readings.length === 0) return;
    const retry = this.o.retry ?? { initialMs: 200, maxMs: 10_000 };
    for (let attempt = 0; ; attempt++) {
      try {
        await sink.accept(this.name, parsed.readings, receivedAtMs, parsed.devices);
        return;
      } catch (err) {
        if (!isRetriable(err) || this.stopping) {
          // MQTT.js drops the error given to the handleMessage callback (it only withholds the
          // PUBACK), so this log line is the only trace. The broker keeps the message and
          // redelivers it to this persistent session after the next reconnect [MQTT-4.4.0-1].
          if (!this.stopping) {
            this.o.logger.error(
              { source: this.name, topic, err: err instanceof Error ? err.message : String(err), code: (err as { code?: unknown }).code },
              'readings not stored (not retriable); message left un-acknowledged with the broker',
            );
          }
          throw err;
        }
        const delay = Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(attempt, 16));
        if (attempt === 0) this.o.logger.warn({ source: this.name, err: (err as Error).message }, 'outbox refused readings; holding the message');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.client?.endAsync();
    this.client = null;
  }
}

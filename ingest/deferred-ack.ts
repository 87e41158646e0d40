/**
 * Acknowledge a QoS 1 message to the broker only once its points are stored (at-least-once).
 *
 * MQTT.js 5 reads packets strictly one at a time: for a QoS 1 PUBLISH it calls
 * `client.handleMessage(packet, cb)` and, when cb runs, `_sendPacket({cmd:'puback'})`, and only when
 * that write completes does it take the next packet (node_modules/mqtt/build/lib/handlers/publish.js,
 * `case 1`; client.js `_setupStream` work loop). Holding cb until the write to InfluxDB would
 * serialise the whole stream. Instead:
 *
 *  - handleMessage hands the message to the pipeline and calls cb at once (unless the byte budget is
 *    spent, see below);
 *  - `_sendPacket` is wrapped: a PUBACK for a message still being processed is held and its write
 *    callback called at once, so the work loop moves on;
 *  - when messages complete, held PUBACKs are sent from the head of an ordered queue, so they leave
 *    in the order the PUBLISHes arrived [MQTT-4.6.0-2].
 *
 * Connection loss: PUBACKs held for a connection that closed are dropped. On session resume the
 * broker resends every unacknowledged QoS 1 message with DUP set and the same packet id
 * [MQTT-4.4.0-1]; writing them again is harmless because a reading always maps to the same point.
 *
 * Bounds: the broker sends at most Receive Maximum unacknowledged QoS 1 PUBLISHes [MQTT-3.3.4-9]
 * (set in CONNECT by main.ts). A byte budget guards against large messages: while the payload bytes of
 * unacknowledged messages exceed `maxInflightBytes`, cb is withheld, the work loop stops reading,
 * and TCP pushes back on the broker. While InfluxDB is down nothing completes, nothing is
 * acknowledged, and the broker keeps the rest of the stream in the session.
 */
import type { IPublishPacket, MqttClient, Packet } from 'mqtt';

export interface InboundMessage {
  topic: string;
  payload: Buffer;
  /** Call when every point of the message is stored or dead-lettered. Safe to call more than once. */
  complete: () => void;
}

export interface DeferredAckOptions {
  maxInflightBytes: number;
  /**
   * Unacknowledged messages held before the socket is no longer read. Receive Maximum should make
   * this redundant, but Mosquitto 2.0.11 does not keep to it while acknowledgements are flowing
   * (measured: 27 296 unacknowledged QoS 1 messages on the wire for a Receive Maximum of 1 000; it
   * does keep to it when the client acknowledges nothing), so the bound is enforced here too.
   */
  maxInflightMessages: number;
  /** Starts processing a message; must not throw. */
  onMessage: (msg: InboundMessage) => void;
  /** The connection closed and unacknowledged messages were forgotten (they will be redelivered). */
  onConnectionLost?: () => void;
}

interface Pending {
  messageId: number;
  generation: number;
  bytes: number;
  completed: boolean;
  held: Packet | null;
  heldSeen: boolean;
}

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean) => void;

export class DeferredAck {
  private generation = 0;
  /** Incremented when a connection closes; messages of an older epoch no longer count. */
  private epoch = 0;
  /**
   * Unacknowledged QoS 1 messages of the current connection, in arrival order: a FIFO with a head
   * index, because Array.shift() is O(n) and there can be Receive Maximum (tens of thousands) entries.
   */
  private order: Pending[] = [];
  private head = 0;
  private readonly byId = new Map<number, Pending>();
  private inflightBytesValue = 0;
  private inflightMessagesValue = 0;
  private readonly waitingForBudget: (() => void)[] = [];
  private readonly originalSend: SendPacket;
  private idleWaiters: (() => void)[] = [];
  private paused = false;

  constructor(
    private readonly client: MqttClient,
    private readonly opts: DeferredAckOptions,
  ) {
    const c = client as unknown as { _sendPacket: SendPacket; handleMessage: MqttClient['handleMessage'] };
    this.originalSend = c._sendPacket.bind(client);
    c._sendPacket = (packet, cb, cbStorePut, noStore) => this.sendPacket(packet, cb, cbStorePut, noStore);
    c.handleMessage = (packet, cb) => this.handleMessage(packet, cb);
    client.on('connect', () => {
      this.generation++;
    });
    client.on('close', () => this.dropHeld());
  }

  get inflightBytes(): number {
    return this.inflightBytesValue;
  }
  get inflightMessages(): number {
    return this.inflightMessagesValue;
  }

  /**
   * Stops taking new messages (graceful shutdown). Messages that still arrive are neither processed
   * nor acknowledged, so the broker redelivers them to the next session; cb is still called so the
   * work loop keeps reading the PUBACKs of our own publishes.
   */
  pause(): void {
    this.paused = true;
  }

  /** Resolves when no message is being processed. */
  whenIdle(): Promise<void> {
    if (this.inflightMessagesValue === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private handleMessage(packet: IPublishPacket, cb: (error?: Error) => void): void {
    if (this.paused) {
      if (packet.qos === 1 && packet.messageId !== undefined) {
        // Registered but never completed: its PUBACK is held for good.
        const never: Pending = { messageId: packet.messageId, generation: this.generation, bytes: 0, completed: false, held: null, heldSeen: false };
        this.order.push(never);
        this.byId.set(packet.messageId, never);
      }
      cb();
      return;
    }
    const bytes = packet.payload.length;
    const epoch = this.epoch;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    let entry: Pending | null = null;
    if (packet.qos === 1 && packet.messageId !== undefined && this.client.connected) {
      entry = { messageId: packet.messageId, generation: this.generation, bytes, completed: false, held: null, heldSeen: false };
      this.order.push(entry);
      this.byId.set(packet.messageId, entry);
    }
    this.inflightBytesValue += bytes;
    this.inflightMessagesValue++;
    let done = false;
    const complete = () => {
      if (done) return;
      done = true;
      // A message of a closed connection: its accounting was reset in dropHeld().
      if (epoch !== this.epoch) return;
      this.inflightBytesValue -= bytes;
      this.inflightMessagesValue--;
      if (entry) {
        entry.completed = true;
        this.drain();
      }
      this.releaseBudget();
      if (this.inflightMessagesValue === 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    };
    this.opts.onMessage({ topic: packet.topic, payload, complete });
    if (this.overBudget() && !done) this.waitingForBudget.push(() => cb());
    else cb();
  }

  private overBudget(): boolean {
    return this.inflightBytesValue > this.opts.maxInflightBytes || this.inflightMessagesValue >= this.opts.maxInflightMessages;
  }

  private releaseBudget(): void {
    while (this.waitingForBudget.length > 0 && !this.overBudget()) {
      this.waitingForBudget.shift()!();
    }
  }

  private sendPacket(packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean): void {
    if (packet.cmd !== 'puback') {
      this.originalSend(packet, cb, cbStorePut, noStore);
      return;
    }
    const id = packet.messageId;
    const entry = id === undefined ? undefined : this.byId.get(id);
    if (!entry || entry.heldSeen) {
      // A PUBACK for a message of a closed connection: sending it while offline would queue it for a
      // later connection where the id may mean another message. Drop it; the broker redelivers.
      if (!this.client.connected) {
        cb?.();
        return;
      }
      this.originalSend(packet, cb, cbStorePut, noStore);
      return;
    }
    entry.held = packet;
    entry.heldSeen = true;
    cb?.();
    this.drain();
  }

  private drain(): void {
    // Cork the socket while a run of PUBACKs goes out: one writev instead of a syscall per ack.
    const stream = (this.client as unknown as { stream?: { cork?: () => void; uncork?: () => void } }).stream;
    let corked = false;
    while (this.head < this.order.length) {
      const head = this.order[this.head]!;
      if (!head.completed || head.held === null) break;
      this.head++;
      this.byId.delete(head.messageId);
      if (head.generation === this.generation && this.client.connected) {
        if (!corked && stream?.cork) {
          stream.cork();
          corked = true;
          process.nextTick(() => stream.uncork?.());
        }
        this.originalSend(head.held);
      }
    }
    // Compact once the consumed prefix dominates, keeping each entry's amortised cost O(1).
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * The connection closed: every message not yet acknowledged will be redelivered by the broker on
   * the next session, so its held PUBACK and its share of the in-flight budget are forgotten (the
   * owner also discards its unstarted batches, see Batcher.discardUnstarted). Without the reset a
   * message that never completes (InfluxDB down) would keep the budget spent forever.
   */
  private dropHeld(): void {
    this.epoch++;
    this.order = [];
    this.head = 0;
    this.byId.clear();
    this.inflightBytesValue = 0;
    this.inflightMessagesValue = 0;
    const waiting = this.waitingForBudget.splice(0);
    for (const f of waiting) f();
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
    this.opts.onConnectionLost?.();
  }
}

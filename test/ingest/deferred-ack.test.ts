import { EventEmitter } from 'node:events';
import type { IPublishPacket, MqttClient, Packet } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { DeferredAck, type InboundMessage } from '../../ingest/deferred-ack.ts';

/** The two MQTT.js internals DeferredAck wraps, recorded; the rest of MqttClient is not used. */
class FakeClient extends EventEmitter {
  connected = true;
  sent: Packet[] = [];
  _sendPacket(packet: Packet, cb?: () => void): void {
    this.sent.push(packet);
    cb?.();
  }
  handleMessage(_packet: IPublishPacket, cb: () => void): void {
    cb();
  }
  /** What MQTT.js's publish handler does for QoS 1 (handlers/publish.js, case 1). */
  deliver(messageId: number, payload = 'x'): Promise<void> {
    const packet = { cmd: 'publish', qos: 1, messageId, topic: 't', payload: Buffer.from(payload), dup: false, retain: false } as IPublishPacket;
    return new Promise((resolve) => this.handleMessage(packet, () => this._sendPacket({ cmd: 'puback', messageId } as Packet, () => resolve())));
  }
  pubacks(): number[] {
    return this.sent.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId);
  }
}

function setup(maxInflightBytes = 1_000_000, maxInflightMessages = 1_000) {
  const client = new FakeClient();
  const received: InboundMessage[] = [];
  const ack = new DeferredAck(client as unknown as MqttClient, { maxInflightBytes, maxInflightMessages, onMessage: (m) => received.push(m) });
  client.emit('connect');
  return { client, received, ack };
}

describe('DeferredAck', () => {
  it('holds each PUBACK until its message completes and sends them in arrival order', async () => {
    const { client, received } = setup();
    await client.deliver(11);
    await client.deliver(12);
    await client.deliver(13);
    expect(client.pubacks()).toEqual([]);
    received[1]!.complete(); // 12 done first: must wait for 11 [MQTT-4.6.0-2]
    expect(client.pubacks()).toEqual([]);
    received[0]!.complete();
    expect(client.pubacks()).toEqual([11, 12]);
    received[2]!.complete();
    expect(client.pubacks()).toEqual([11, 12, 13]);
  });

  it('drops PUBACKs of a closed connection and acks the redelivery on the new one', async () => {
    const { client, received } = setup();
    await client.deliver(5);
    client.connected = false;
    client.emit('close');
    received[0]!.complete();
    expect(client.pubacks()).toEqual([]);
    client.connected = true;
    client.emit('connect');
    await client.deliver(5); // the broker resends with the same id on session resume
    received[1]!.complete();
    expect(client.pubacks()).toEqual([5]);
  });

  it('withholds the read callback while in-flight bytes exceed the budget', async () => {
    const { client, received, ack } = setup(10);
    await client.deliver(1, '123456'); // 6 bytes: under budget
    let secondRead = false;
    const second = client.deliver(2, '1234567').then(() => (secondRead = true)); // 13 bytes: over
    await new Promise((r) => setImmediate(r));
    expect(secondRead).toBe(false);
    expect(ack.inflightBytes).toBe(13);
    received[0]!.complete(); // 7 bytes left: under budget again
    await second;
    expect(secondRead).toBe(true);
    received[1]!.complete();
    expect(client.pubacks()).toEqual([1, 2]);
    expect(ack.inflightMessages).toBe(0);
  });

  it('withholds the read callback at the in-flight message bound, whatever the broker sends', async () => {
    // Mosquitto 2.0.11 exceeds Receive Maximum while acknowledgements flow; this bound holds anyway.
    const { client, received, ack } = setup(1_000_000, 2);
    await client.deliver(1);
    let secondRead = false;
    const second = client.deliver(2).then(() => (secondRead = true)); // the 2nd reaches the bound
    await new Promise((r) => setImmediate(r));
    expect(secondRead).toBe(false);
    expect(ack.inflightMessages).toBe(2);
    received[0]!.complete();
    await second;
    expect(secondRead).toBe(true);
    received[1]!.complete();
    expect(client.pubacks()).toEqual([1, 2]);
    expect(ack.inflightMessages).toBe(0);
  });

  it('after pause, new messages are neither processed nor acknowledged', async () => {
    const { client, received, ack } = setup();
    await client.deliver(1);
    ack.pause();
    await client.deliver(2);
    expect(received.length).toBe(1);
    received[0]!.complete();
    expect(client.pubacks()).toEqual([1]);
  });
});

/**
 * The local-broker source on a real Mosquitto: a message whose parser throws (a decoder bug) is
 * counted and kept like any undecodable message and acknowledged, so it is neither lost silently
 * nor redelivered forever; a permanent outbox failure is logged and leaves the message with the
 * broker (redelivered to the persistent session after a reconnect).
 */
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../gateway/clock.ts';
import { MqttSource } from '../../../gateway/sources/mqtt-source.ts';
import type { AcceptOutcome, MqttParseFn, ReadingSink } from '../../../gateway/sources/source.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';
import { sleep, waitFor } from '../../integration/gateway-helpers.ts';

class RecordingSink implements ReadingSink {
  readonly accepted: unknown[] = [];
  readonly failed: { code: string; detail: string }[] = [];
  constructor(private readonly acceptFn: (raws: readonly unknown[]) => Promise<void> = () => Promise.resolve()) {}
  async accept(_source: string, raws: readonly unknown[]): Promise<AcceptOutcome> {
    await this.acceptFn(raws);
    this.accepted.push(...raws);
    return { accepted: raws.length, rejected: 0 };
  }
  messageFailed(_source: string, code: string, detail: string): void {
    this.failed.push({ code, detail });
  }
}

/** A pino logger whose JSON lines land in `lines`. */
function capturingLogger(lines: { level: number; msg: string }[]) {
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  return pino({ level: 'info' }, stream);
}

describe('MqttSource', () => {
  let broker: MosquittoHandle;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  const publish = async (topic: string, payloads: string[]): Promise<void> => {
    const producer = await mqtt.connectAsync(broker.url, { clientId: `producer-${topic.replace(/\W/g, '')}` });
    for (const p of payloads) await producer.publishAsync(topic, p, { qos: 1 });
    await producer.endAsync();
  };

  it('counts a message whose parser throws, acknowledges it, and goes on with the next', async () => {
    const seen: string[] = [];
    const parse: MqttParseFn = (_t, payload) => {
      const text = payload.toString('utf8');
      seen.push(text);
      if (text === 'boom') throw new TypeError("Cannot read properties of undefined (reading 'x')");
      return { ok: true, readings: [text] };
    };
    const make = () =>
      new MqttSource({ name: 'lns', url: broker.url, clientId: 'src-throws', topics: ['t/throws'], parse, clock: systemClock, logger: pino({ level: 'silent' }) });
    const sink = new RecordingSink();
    const first = make();
    await first.start(sink);
    await publish('t/throws', ['before', 'boom', 'after']);
    await waitFor('the message after the bad one', () => sink.accepted.includes('after'), 10_000);
    expect(sink.accepted).toEqual(['before', 'after']);
    expect(sink.failed).toEqual([{ code: 'E_SOURCE_PARSER_FAILED', detail: expect.stringContaining('reading') as unknown as string }]);
    await first.stop();

    // Same client id, persistent session: an un-acked message would come back now.
    const second = make();
    await second.start(sink);
    await publish('t/throws', ['later']);
    await waitFor('a message after the reconnect', () => sink.accepted.includes('later'), 10_000);
    await second.stop();
    expect(seen.filter((s) => s === 'boom')).toHaveLength(1);
    expect(sink.accepted).toEqual(['before', 'after', 'later']);
  });

  it('logs a permanent outbox failure and leaves the message with the broker for the next session', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = capturingLogger(lines);
    const parse: MqttParseFn = (_t, payload) => ({ ok: true, readings: [payload.toString('utf8')] });
    const make = () => new MqttSource({ name: 'lns', url: broker.url, clientId: 'src-ioerr', topics: ['t/ioerr'], parse, clock: systemClock, logger });
    let failing = true;
    const sink = new RecordingSink(() => (failing ? Promise.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })) : Promise.resolve()));
    const first = make();
    await first.start(sink);
    await publish('t/ioerr', ['r1']);
    await waitFor('the failure logged', () => lines.some((l) => l.level >= 50 && /not stored/.test(l.msg)), 10_000);
    await sleep(200);
    expect(sink.accepted).toEqual([]);
    await first.stop();

    failing = false;
    const second = make();
    await second.start(sink);
    await waitFor('the held message redelivered', () => sink.accepted.includes('r1'), 10_000);
    await second.stop();
    expect(sink.accepted).toEqual(['r1']);
  });
});

import { describe, expect, it } from 'vitest';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { Batcher } from '../../ingest/batcher.ts';
import { DeadLetterSink } from '../../ingest/dead-letter.ts';
import { DeviceDirectory } from '../../ingest/control/device-directory.ts';
import { MessagePipeline, type MessagePipelineOptions } from '../../ingest/message-pipeline.ts';
import { createIngestMetrics } from '../../ingest/metrics.ts';
import type { PointWriter, WriteOutcome } from '../../ingest/point-writer.ts';

/** Accepts every line at once and keeps them, in memory. */
class MemoryWriter implements PointWriter {
  lines: string[] = [];
  async write(lines: readonly string[]): Promise<WriteOutcome> {
    this.lines.push(...lines);
    return { rejected: [] };
  }
  async close(): Promise<void> {}
}

const NOW = Date.parse('2026-11-24T10:00:00.000Z');
/** Deeper than V8's recursive JSON.stringify allows; JSON.parse (iterative) accepts it. */
const DEEP = '['.repeat(200_000) + ']'.repeat(200_000);

function setup(extra: Partial<MessagePipelineOptions> = {}) {
  const writer = new MemoryWriter();
  const published: { topic: string; payload: string }[] = [];
  const metrics = createIngestMetrics({ defaultMetrics: false, inflight: () => ({ messages: 0, bytes: 0 }) });
  const batcher = new Batcher({ writer, maxLines: 1000, maxBytes: 1e7, flushMs: 10, concurrency: 1, now: () => NOW, onRejected: async () => {} });
  const deadLetters = new DeadLetterSink({ instance: 'i1', maxChars: 256, now: () => NOW, publish: (topic, payload) => published.push({ topic, payload }) });
  const pipeline = new MessagePipeline({ batcher, deadLetters, metrics, now: () => NOW, maxMessageBytes: 2 * 1024 * 1024, maxAgeMs: 30 * 86_400_000, ...extra });
  return { writer, published, batcher, pipeline };
}

describe('MessagePipeline on hostile input', () => {
  it('dead-letters a deeply nested reading and still stores the good reading of the same envelope', async () => {
    const { writer, published, batcher, pipeline } = setup();
    const payload =
      `{"v":1,"torg":"tofte","gateway":"gw-1","sentAt":"2026-11-24T09:59:59Z","seq":7,"readings":[` +
      `{"kind":"door","device":"d1","time":"2026-11-24T09:59:00Z","openings":4},` +
      `{"kind":"door","device":"d2","time":"2026-11-24T09:59:00Z","x":${DEEP}}]}`;
    let completions = 0;
    expect(() => pipeline.handle({ topic: topics.readings('tofte', 'gw-1'), payload: Buffer.from(payload), complete: () => completions++ })).not.toThrow();
    await batcher.flush();
    expect(completions).toBe(1);
    // 2026-11-24T09:59:00Z = 1795514340000 ms
    expect(writer.lines).toContain('door,device=d1,torg=tofte openings=4i 1795514340000');
    const dl = writer.lines.filter((l) => l.startsWith('deadletter,'));
    expect(dl.length).toBe(1);
    expect(dl[0]).toContain('reason=E_READING_INVALID');
    expect(dl[0]).toContain(',seq=7i,index=1i ');
    expect(published.map((p) => p.topic)).toEqual([topics.deadLetter('E_READING_INVALID')]);
  });

  it('dead-letters an envelope whose schema version is deeply nested', async () => {
    const { writer, published, batcher, pipeline } = setup();
    const payload = `{"v":${DEEP},"torg":"tofte","gateway":"gw-1"}`;
    let completions = 0;
    expect(() => pipeline.handle({ topic: topics.readings('tofte', 'gw-1'), payload: Buffer.from(payload), complete: () => completions++ })).not.toThrow();
    await batcher.flush();
    expect(completions).toBe(1);
    expect(writer.lines.length).toBe(1);
    expect(writer.lines[0]).toContain('reason=E_SCHEMA_VERSION');
    expect(published.map((p) => p.topic)).toEqual([topics.deadLetter('E_SCHEMA_VERSION')]);
  });

  it('keeps the whole message as a dead letter when processing fails half-way, instead of acknowledging half of it', async () => {
    const { writer, published, batcher, pipeline } = setup();
    // A fault injected after the first reading's line: the second line add throws.
    const realAdd = batcher.add.bind(batcher);
    let adds = 0;
    batcher.add = (line, owner) => {
      if (++adds === 2) throw new TypeError('injected fault');
      realAdd(line, owner);
    };
    const payload =
      `{"v":1,"torg":"tofte","gateway":"gw-1","sentAt":"2026-11-24T09:59:59Z","seq":8,"readings":[` +
      `{"kind":"door","device":"d1","time":"2026-11-24T09:59:00Z","openings":4},` +
      `{"kind":"door","device":"d2","time":"2026-11-24T09:59:00Z","openings":9}]}`;
    let completions = 0;
    expect(() => pipeline.handle({ topic: topics.readings('tofte', 'gw-1'), payload: Buffer.from(payload), complete: () => completions++ })).not.toThrow();
    await batcher.flush();
    expect(completions).toBe(1);
    expect(writer.lines).toContain('door,device=d1,torg=tofte openings=4i 1795514340000');
    const dl = writer.lines.filter((l) => l.startsWith('deadletter,'));
    expect(dl.length).toBe(1);
    expect(dl[0]).toContain('reason=E_INGEST_INTERNAL');
    // The whole original message is in the dead letter, so d2's reading is not lost.
    expect(published.map((p) => p.topic)).toEqual([topics.deadLetter('E_INGEST_INTERNAL')]);
    expect(published[0]!.payload).toContain('"openings\\":9');
  });
});


describe('MessagePipeline with the registry directory', () => {
  // 2026-11-24T09:59:00Z = 1795514340000 ms (as above)
  const TIME = '2026-11-24T09:59:00Z';
  const TIME_MS = 1795514340000;
  const door = (device: string, openings: number) => ({ kind: 'door', device, time: TIME, openings });
  function directory(): DeviceDirectory {
    const d = new DeviceDirectory();
    d.set('active-1', { s: 'active', t: 'tofte' });
    d.set('pending-1', { s: 'pending', t: 'tofte' });
    d.set('gone-1', { s: 'decommissioned', t: 'tofte' });
    d.set('heggedal-1', { s: 'active', t: 'heggedal' });
    return d;
  }
  function send(pipeline: MessagePipeline, readings: unknown[]): void {
    const payload = JSON.stringify({ v: 1, torg: 'tofte', gateway: 'gw-1', sentAt: '2026-11-24T09:59:59Z', seq: 3, readings });
    pipeline.handle({ topic: topics.readings('tofte', 'gw-1'), payload: Buffer.from(payload), complete: () => {} });
  }

  it('stores active as before, pending with pending=true, and dead-letters unknown, decommissioned and spoofed readings with their envelope index', async () => {
    const seen: string[] = [];
    const { writer, published, batcher, pipeline } = setup({ devices: directory(), onAccepted: (torg, gw, device, t) => seen.push(`${torg}/${gw}/${device}@${t}`) });
    // Index 1 is invalid (no kind); the check must still report the original indices of the others.
    send(pipeline, [door('active-1', 1), { device: 'x' }, door('pending-1', 2), door('nobody', 3), door('gone-1', 4), door('heggedal-1', 5)]);
    await batcher.flush();
    const points = writer.lines.filter((l) => l.startsWith('door,'));
    expect(points).toEqual([`door,device=active-1,torg=tofte openings=1i ${TIME_MS}`, `door,device=pending-1,torg=tofte openings=2i,pending=true ${TIME_MS}`]);
    expect(seen).toEqual([`tofte/gw-1/active-1@${TIME_MS}`, `tofte/gw-1/pending-1@${TIME_MS}`]);
    const dl = writer.lines.filter((l) => l.startsWith('deadletter,'));
    const byReason = (reason: string) => dl.filter((l) => l.includes(`reason=${reason},`));
    expect(byReason('E_READING_INVALID')[0]).toContain(',index=1i ');
    expect(byReason('E_DEVICE_UNKNOWN')).toHaveLength(1);
    expect(byReason('E_DEVICE_UNKNOWN')[0]).toContain(',index=3i ');
    expect(byReason('E_DEVICE_DECOMMISSIONED')[0]).toContain(',index=4i ');
    expect(byReason('E_DEVICE_SPOOFED')[0]).toContain(',index=5i ');
    expect(byReason('E_DEVICE_SPOOFED')[0]).toContain('belongs to torg heggedal');
    expect(dl).toHaveLength(4);
    expect(published.map((p) => p.topic).sort()).toEqual(
      ['E_DEVICE_DECOMMISSIONED', 'E_DEVICE_SPOOFED', 'E_DEVICE_UNKNOWN', 'E_READING_INVALID'].map((r) => topics.deadLetter(r)).sort(),
    );
    const spoofed = JSON.parse(published.find((p) => p.topic === topics.deadLetter('E_DEVICE_SPOOFED'))!.payload) as { payload: string; envelope: unknown };
    expect(JSON.parse(spoofed.payload)).toMatchObject({ kind: 'door', device: 'heggedal-1', openings: 5 });
    expect(spoofed.envelope).toEqual({ seq: 3, sentAt: '2026-11-24T09:59:59Z', index: 5 });
  });

  it('a pending device assigned to another torg than the one announcing it is spoofed, and a change of status applies to the next message', async () => {
    const devices = directory();
    devices.set('moved', { s: 'pending', t: 'heggedal' });
    const { writer, batcher, pipeline } = setup({ devices });
    send(pipeline, [door('moved', 1)]);
    devices.set('moved', { s: 'active', t: 'tofte' });
    send(pipeline, [door('moved', 2)]);
    await batcher.flush();
    expect(writer.lines.filter((l) => l.startsWith('door,'))).toEqual([`door,device=moved,torg=tofte openings=2i ${TIME_MS}`]);
    expect(writer.lines.filter((l) => l.includes('reason=E_DEVICE_SPOOFED,'))).toHaveLength(1);
  });

  it('without a directory, unknown devices are stored exactly as before', async () => {
    const { writer, batcher, pipeline } = setup();
    send(pipeline, [door('nobody', 3)]);
    await batcher.flush();
    expect(writer.lines).toEqual([`door,device=nobody,torg=tofte openings=3i ${TIME_MS}`]);
  });
});

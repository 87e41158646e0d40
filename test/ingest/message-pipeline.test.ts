import { describe, expect, it } from 'vitest';
import { topics } from '../../devices/contract/mqtt-topics.ts';
import { Batcher } from '../../ingest/batcher.ts';
import { DeadLetterSink } from '../../ingest/dead-letter.ts';
import { MessagePipeline } from '../../ingest/message-pipeline.ts';
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

function setup() {
  const writer = new MemoryWriter();
  const published: { topic: string; payload: string }[] = [];
  const metrics = createIngestMetrics({ defaultMetrics: false, inflight: () => ({ messages: 0, bytes: 0 }) });
  const batcher = new Batcher({ writer, maxLines: 1000, maxBytes: 1e7, flushMs: 10, concurrency: 1, now: () => NOW, onRejected: async () => {} });
  const deadLetters = new DeadLetterSink({ instance: 'i1', maxChars: 256, now: () => NOW, publish: (topic, payload) => published.push({ topic, payload }) });
  const pipeline = new MessagePipeline({ batcher, deadLetters, metrics, now: () => NOW, maxMessageBytes: 2 * 1024 * 1024, maxAgeMs: 30 * 86_400_000 });
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


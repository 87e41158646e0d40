import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCsv, parseHeader } from '../../cli/import-csv.ts';
import type { PointWriter, WriteOutcome } from '../../ingest/point-writer.ts';

/** In-memory PointWriter: records each write (unit level; the InfluxDB path is test/integration/cli-import). */
class RecordingWriter implements PointWriter {
  writes: string[][] = [];
  async write(lines: readonly string[]): Promise<WriteOutcome> {
    this.writes.push([...lines]);
    return { rejected: [] };
  }
  async close(): Promise<void> {}
}

const NOW = Date.parse('2025-11-04T00:00:00Z');

describe('importCsv', () => {
  it('writes the valid rows as line protocol in batches of batchSize', async () => {
    const w = new RecordingWriter();
    const s = await importCsv(createReadStream(fileURLToPath(new URL('../fixtures/csv/import-mixed.csv', import.meta.url))), w, {
      torg: 'asker-sentrum',
      now: NOW,
      maxAgeMs: 30 * 86_400_000,
      batchSize: 4,
    });
    expect(s).toMatchObject({ rows: 19, accepted: 9, rejected: 10 });
    expect(w.writes.map((b) => b.length)).toEqual([4, 4, 1]);
    // 2025-11-03T09:00:00Z = 1762160400 s.
    expect(w.writes[0]![0]).toBe(
      'counter,device=24e1240000000001,line=line-1,torg=asker-sentrum periodIn=5i,periodOut=3i,periodSeconds=600i,totalIn=65534i,totalOut=1200i 1762160400000',
    );
    // Row 5: presence at 09:10 (+600 s) without count.
    expect(w.writes[0]![3]).toBe('presence,device=24e1240000000002,torg=asker-sentrum occupied=false 1762161000000');
  });

  it('age limit: with 30 days from 2026-01-01 every fixture row is too old', async () => {
    const w = new RecordingWriter();
    const s = await importCsv(Readable.from('time,device,kind,co2\n2025-11-03T09:00:00.000Z,a1,climate,500\n'), w, {
      torg: 't',
      now: Date.parse('2026-01-01T00:00:00Z'),
      maxAgeMs: 30 * 86_400_000,
      batchSize: 10,
    });
    expect(s.rejectedByReason).toEqual({ E_READING_TIME_TOO_OLD: 1 });
    expect(s.firstRejected).toEqual([{ line: 2, reason: 'E_READING_TIME_TOO_OLD', detail: expect.any(String) }]);
    expect(w.writes).toEqual([]);
  });
});

describe('parseHeader', () => {
  it('accepts contract field names in any order and refuses unknown or missing columns', () => {
    expect(parseHeader(['kind', 'time', 'device', 'co2'])).toEqual(['kind', 'time', 'device', 'co2']);
    expect(() => parseHeader(['time', 'device', 'kind', 'CO2'])).toThrow(/unknown column\(s\) CO2/);
    expect(() => parseHeader(['time', 'kind', 'co2'])).toThrow(/missing column\(s\) device/);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTorgConfig } from '../../../devices/torg/torg-config.schema.ts';

type RawTorg = { id: string; entrances: { id: string; name: string; lines: string[] }[] };
const raw = JSON.parse(readFileSync(new URL('../../../config/torg.asker.sample.json', import.meta.url), 'utf8')) as { torg: RawTorg[] };

describe('torg config: ids within a torg are unique', () => {
  it('two entrances with one id are refused, naming the key', () => {
    // An entrance id is the device role key (simulator DevEUIs, counter assignment); two entrances
    // sharing it would silently merge their counts.
    const bad = structuredClone(raw);
    const heggedal = bad.torg.find((x) => x.id === 'heggedal')!;
    const first = heggedal.entrances[0]!;
    heggedal.entrances.push({ ...first, name: 'Kopi' });
    expect(() => parseTorgConfig(bad)).toThrow(
      new RegExp(`E_CONFIG_INVALID.*torg\\[heggedal\\]\\.entrances\\[${first.id}\\]\\.id: duplicate entrance id "${first.id}"`),
    );
  });

  it('one counting line named twice in an entrance is refused', () => {
    const bad = structuredClone(raw);
    const heggedal = bad.torg.find((x) => x.id === 'heggedal')!;
    const first = heggedal.entrances[0]!;
    first.lines = ['line-1', 'line-1'];
    // The line name is the InfluxDB `line` tag: two lines of one name would be one series.
    expect(() => parseTorgConfig(bad)).toThrow(
      new RegExp(`torg\\[heggedal\\]\\.entrances\\[${first.id}\\]\\.lines\\[1\\]: duplicate line "line-1"`),
    );
  });

  it('the sample config passes', () => {
    expect(parseTorgConfig(raw).torg).toHaveLength(7);
  });
});

/**
 * The simulator's installer tags and the stack's assignment rules (config/assignment-rules.stack.json)
 * together place every simulated device where the torg model has it, as the control plane would on
 * the device's birth (the gateway passes the LNS tags on as the birth's `labels`).
 */
import { describe, expect, it } from 'vitest';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { loadAssignmentRules, matchAssignmentRule } from '../../../ingest/control/assignment-rules.ts';
import { installerTags } from '../../../simulator/lorawan/lns-publisher.ts';
import { buildInventory } from '../../../simulator/model.ts';

const root = new URL('../../../', import.meta.url).pathname;
const torgConfig = loadTorgConfig(`${root}config/torg.asker.sample.json`);
const rules = loadAssignmentRules(`${root}config/assignment-rules.stack.json`);
const torg = (id: string) => torgConfig.torg.find((t) => t.id === id)!;

describe('installer tags → stack assignment rules', () => {
  it('royken (sample config: entrance hovedinngang with line-1 and line-2; zone mote-2): tags by hand', () => {
    const inv = buildInventory(torg('royken'));
    const counter = inv.find((d) => d.role === 'counter')!;
    const door = inv.find((d) => d.role === 'door')!;
    const climate = inv.find((d) => d.role === 'climate' && d.zone === 'mote-2')!;
    expect(installerTags(counter, torg('royken'))).toEqual({ entrance: 'hovedinngang', line: 'line-1' });
    expect(installerTags(door, torg('royken'))).toEqual({ entrance: 'hovedinngang', line: 'line-1' });
    expect(installerTags(climate, torg('royken'))).toEqual({ zone: 'mote-2' });
  });

  it('every device of every torg matches a rule that places it where the torg model has it', () => {
    let n = 0;
    for (const t of torgConfig.torg) {
      for (const d of buildInventory(t)) {
        const m = matchAssignmentRule(rules, { torg: t.id, gateway: `gw-${t.id}`, source: 'chirpstack', model: d.model, labels: { model: d.model, torg: t.id, ...installerTags(d, t) } });
        const want = d.zone !== undefined ? { type: 'zone', zone: d.zone } : { type: 'entrance', entrance: d.entrance, line: t.entrances.find((e) => e.id === d.entrance)!.lines[0] };
        expect(m?.place, `${t.id} ${d.role} ${d.id}`).toEqual(want);
        n++;
      }
    }
    // 7 torg: (entrances × 2 + zones × 2) devices = 94, as the stack's simulator announces.
    expect(n).toBe(94);
  });

  it('a device without installer tags stays pending (no rule matches)', () => {
    expect(matchAssignmentRule(rules, { torg: 'tofte', gateway: 'gw-tofte', source: 'chirpstack', model: 'milesight-am319', labels: { model: 'milesight-am319', torg: 'tofte' } })).toBeNull();
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findModel, lorawanModels, modelIds } from '../../../devices/models/index.ts';

const root = new URL('../../../devices/models/', import.meta.url).pathname;

describe('device model registry', () => {
  it('holds every model the gateway issue names, each declared completely', () => {
    // Issue 3's list: Milesight VS133/VS135/VS121/VS350/WS301/EM300-MCS/AM103/AM307/AM319/EM500-CO2;
    // Elsys ERS/ERS CO2/ERS Eye/EMS Door; Dragino LDS02; Browan TBDW100/TBMS100/TBHV110; Parametric PCR2;
    // IMBuildings people counter.
    const names = lorawanModels.map((m) => `${m.vendor} ${m.model}`.toLowerCase());
    for (const want of ['vs133', 'vs135', 'vs121', 'vs350', 'ws301', 'em300-mcs', 'am103', 'am307', 'am319', 'em500-co2', 'ers', 'ers co2', 'ers eye', 'ems door', 'lds02', 'tbdw100', 'tbms100', 'tbhv110', 'pcr2', 'people counter']) {
      expect(names.some((n) => n.includes(want)), want).toBe(true);
    }
    for (const m of lorawanModels) {
      expect(m.kinds.length, m.id).toBeGreaterThan(0);
      expect(m.docs.length, m.id).toBeGreaterThan(0);
      expect(findModel(m.id)).toBe(m);
    }
    expect(new Set(modelIds()).size).toBe(lorawanModels.length);
  });

  it('has a golden payload file with at least one case beside every model', () => {
    const goldens = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.golden.json'));
    expect(goldens.length).toBeGreaterThanOrEqual(lorawanModels.length);
    for (const g of goldens) {
      const doc = JSON.parse(readFileSync(join(root, g), 'utf8')) as { source?: string; cases?: unknown[] };
      expect(doc.source, g).toBeTruthy();
      expect(doc.cases?.length, g).toBeGreaterThan(0);
    }
  });
});

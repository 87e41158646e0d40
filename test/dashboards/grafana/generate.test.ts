import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PROVISIONING_DIR, renderProvisioning } from '../../../dashboards/grafana/generate.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const GENERATE = join(ROOT, 'dashboards', 'grafana', 'generate.ts');

describe('committed Grafana provisioning', () => {
  it('equals a fresh in-memory generation (run `npm run grafana:generate` after changing dashboards/grafana)', () => {
    const files = renderProvisioning();
    // 8 dashboards, the dashboard provider, the datasource.
    expect(files.size).toBe(10);
    for (const [relative, content] of files) {
      expect(readFileSync(join(PROVISIONING_DIR, relative), 'utf8'), relative).toBe(content);
    }
  });
});

interface Panel {
  title: string;
  targets: { query: string }[];
  fieldConfig: { defaults: { thresholds?: { steps: { value: number | null }[] } } };
}

function skalering(dir: string): Panel[] {
  return (JSON.parse(readFileSync(join(dir, 'dashboards', 'skalering.json'), 'utf8')) as { panels: Panel[] }).panels;
}

function thresholdValues(panels: Panel[], title: string): (number | null)[] {
  const panel = panels.find((p) => p.title === title);
  if (panel === undefined) throw new Error(`no panel ${title}`);
  return (panel.fieldConfig.defaults.thresholds?.steps ?? []).map((s) => s.value);
}

describe('skalering thresholds come from the rules file', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'itorg-grafana-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the committed dashboard draws the sample rules (config/skalering.sample.json)', () => {
    const rules = JSON.parse(readFileSync(join(ROOT, 'config', 'skalering.sample.json'), 'utf8')) as {
      scaleUp: { utilisationAbove: number; peakShareAbove: number };
      scaleDown: { utilisationBelow: number };
      extendMeraapent: { above: number };
    };
    const panels = skalering(PROVISIONING_DIR);
    expect(thresholdValues(panels, 'Utnyttelse per modul per uke')).toEqual([null, rules.scaleDown.utilisationBelow, rules.scaleUp.utilisationAbove]);
    expect(thresholdValues(panels, 'Toppbelegg ÷ kapasitet per sone per uke')).toEqual([null, rules.scaleUp.peakShareAbove]);
    expect(thresholdValues(panels, 'Meråpent: snittbelegg per time')).toEqual([null, rules.extendMeraapent.above]);
  });

  it('`generate.ts --skalering-rules <file> --out <dir>` uses a deployment’s own rules', () => {
    const rulesFile = join(tmp, 'skalering.json');
    writeFileSync(
      rulesFile,
      JSON.stringify({
        version: 'asker-2027.1',
        windowWeeks: 6,
        split: 'staffed',
        scaleUp: { utilisationAbove: 0.7, peakShareAbove: 0.95, minWeeks: 3 },
        scaleDown: { utilisationBelow: 0.15, minWeeks: 5 },
        extendMeraapent: { metric: 'visits', above: 12, minWeeks: 3 },
        convert: { ghostShareAbove: 0.3, minWeeks: 4 },
        dimensioning: { percentile: 0.9, weeks: 6 },
      }),
    );
    const out = join(tmp, 'out');
    execFileSync(TSX, [GENERATE, '--skalering-rules', rulesFile, '--out', out], { cwd: ROOT, stdio: 'pipe' });
    const panels = skalering(out);
    expect(thresholdValues(panels, 'Utnyttelse per modul per uke')).toEqual([null, 0.15, 0.7]);
    expect(thresholdValues(panels, 'Toppbelegg ÷ kapasitet per sone per uke')).toEqual([null, 0.95]);
    expect(thresholdValues(panels, 'Meråpent: besøk per time')).toEqual([null, 12]);
    expect(panels.find((p) => p.title === 'Meråpent: besøk per time')?.targets[0]?.query).toContain('SELECT sum("visits") AS "verdi"');
    expect(panels.find((p) => p.title === 'Utnyttelse per modul per uke')?.targets[0]?.query).toContain(`"split" = 'staffed'`);
    const board = JSON.parse(readFileSync(join(out, 'dashboards', 'skalering.json'), 'utf8')) as { time: { from: string; to: string } };
    expect(board.time).toEqual({ from: 'now-6w/w', to: 'now-1w/w' });
    // The other dashboards do not depend on the rules.
    expect(readFileSync(join(out, 'dashboards', 'rooms.json'), 'utf8')).toBe(readFileSync(join(PROVISIONING_DIR, 'dashboards', 'rooms.json'), 'utf8'));
  });

  it('refuses a rules file with a bad key, naming it', () => {
    const rulesFile = join(tmp, 'bad.json');
    const sample = JSON.parse(readFileSync(join(ROOT, 'config', 'skalering.sample.json'), 'utf8')) as { windowWeeks: number; scaleUp: Record<string, unknown> };
    writeFileSync(rulesFile, JSON.stringify({ ...sample, scaleUp: { ...sample.scaleUp, minWeeks: sample.windowWeeks + 1 } }));
    let stderr = '';
    try {
      execFileSync(TSX, [GENERATE, '--skalering-rules', rulesFile, '--out', join(tmp, 'bad-out')], { cwd: ROOT, stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr?: unknown }).stderr);
    }
    expect(stderr).toContain('E_CONFIG_INVALID');
    expect(stderr).toContain('scaleUp.minWeeks');
  });
});

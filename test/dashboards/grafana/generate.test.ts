import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROVISIONING_DIR, renderProvisioning } from '../../../dashboards/grafana/generate.ts';

describe('committed Grafana provisioning', () => {
  it('equals a fresh in-memory generation (run `npm run grafana:generate` after changing dashboards/grafana)', () => {
    const files = renderProvisioning();
    expect(files.size).toBe(7);
    for (const [relative, content] of files) {
      expect(readFileSync(join(PROVISIONING_DIR, relative), 'utf8'), relative).toBe(content);
    }
  });
});

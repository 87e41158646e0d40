/**
 * Reading a PDF back in the report tests: poppler-utils' `pdftotext -layout`, `pdfinfo`, `pdftoppm`
 * (Debian poppler-utils). Chromium and poppler come from scripts/install-deps.sh --report; like the
 * live page's end-to-end test, a machine without them installs them here (as root, as CI runs) rather
 * than skipping, so a run with TEST_NO_BROWSER=1 still tests the report.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';

export function ensureReportTools(): void {
  if (existsSync(CHROMIUM) && existsSync('/usr/bin/pdftotext') && existsSync('/usr/bin/pdftoppm')) return;
  execFileSync('bash', [join(ROOT, 'scripts/install-deps.sh'), '--report', '--no-npm'], { stdio: 'inherit', timeout: 600_000 });
}

/** The text of a PDF file as `pdftotext -layout` lays it out (UTF-8). */
export function pdfText(file: string): string {
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
}

export function pdfPages(file: string): number {
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  const m = /^Pages:\s+(\d+)$/m.exec(info);
  if (!m) throw new Error(`pdfinfo ${file}: no page count in\n${info}`);
  return Number(m[1]);
}

/** Every page as PNG at `dpi` into `dir` with `prefix`; the files written, in page order. */
export function pdfToPngs(file: string, dir: string, prefix: string, dpi = 60): string[] {
  execFileSync('pdftoppm', ['-png', '-r', String(dpi), file, join(dir, prefix)]);
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${prefix}-`) && f.endsWith('.png'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * renderReportPdf through Debian's real Chromium, read back with poppler (pdftotext, pdfinfo): the
 * text is there, the page breaks made pages, the footer numbers them, nothing was fetched over the
 * network, and a missing Chromium is a non-retriable E_REPORT_BROWSER_MISSING.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlatformError } from '../../../devices/contract/errors.ts';
import { renderReportPdf } from '../../../dashboards/report/render-pdf.ts';
import { CHROMIUM, ensureReportTools, pdfPages, pdfText } from './pdf-tools.ts';

let tmp: string;
let server: Server;
let port: number;
let requests = 0;

beforeAll(async () => {
  ensureReportTools();
  tmp = mkdtempSync(join(tmpdir(), 'render-pdf-'));
  server = createServer((_req, res) => {
    requests++;
    res.end('x');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  port = typeof a === 'object' && a !== null ? a.port : 0;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const page = (title: string, body: string, last = false) =>
  `<section style="${last ? '' : 'break-after: page;'}"><h1>${title}</h1><p>${body}</p></section>`;

describe('renderReportPdf (real Chromium, poppler)', () => {
  it('prints three A4 pages with their text, Norwegian letters and numbered footers', async () => {
    const html = `<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>Månedsrapport</title>
      <style>@page { size: A4; } body { font-family: sans-serif; }</style></head><body>
      ${page('Sammendrag oktober 2026', 'Besøk: 12&#x202F;345 (+4,2&nbsp;%) på Blåstjerna og Ærøy')}
      ${page('Heggedal innbyggertorg', 'Utnyttelse møterom 37&nbsp;%')}
      ${page('Datakvalitet', `Forkastede målinger: 7 <img src="http://127.0.0.1:${port}/tracker.png" alt="">`, true)}
      </body></html>`;
    const pdf = await renderReportPdf(html, { chromiumPath: CHROMIUM });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const file = join(tmp, 'small.pdf');
    writeFileSync(file, pdf);
    expect(pdfPages(file)).toBe(3);
    const text = pdfText(file);
    expect(text).toContain('Sammendrag oktober 2026');
    expect(text).toContain('Blåstjerna og Ærøy');
    expect(text).toContain('Utnyttelse møterom 37');
    expect(text).toContain('Forkastede målinger: 7');
    // pdftotext separates pages with a form feed; each page's footer carries "n / 3" (pdftotext may drop the spaces of the small footer).
    const pages = text.split('\f').filter((p) => p.trim() !== '');
    expect(pages).toHaveLength(3);
    pages.forEach((p, i) => expect(p).toMatch(new RegExp(`\\b${i + 1}\\s*/\\s*3\\b`)));
    expect(pages[1]).toContain('Heggedal innbyggertorg');
    // The image's URL was refused inside Chromium: the server never saw a request.
    expect(requests).toBe(0);
  });

  it('a missing Chromium is E_REPORT_BROWSER_MISSING, not retriable', async () => {
    const err = await renderReportPdf('<p>x</p>', { chromiumPath: join(tmp, 'no-chromium') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe('E_REPORT_BROWSER_MISSING');
    expect((err as PlatformError).retriable).toBe(false);
  });

  it('a file that is not a browser fails to launch as E_REPORT_RENDER_FAILED, retriable', async () => {
    const fake = join(tmp, 'not-a-browser');
    writeFileSync(fake, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const err = await renderReportPdf('<p>x</p>', { chromiumPath: fake, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe('E_REPORT_RENDER_FAILED');
    expect((err as PlatformError).retriable).toBe(true);
  });
});

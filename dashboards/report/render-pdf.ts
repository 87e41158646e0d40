/**
 * The monthly report's HTML (render-html.ts) printed to PDF by Chromium (issue 7: "Chromium's print via
 * playwright-core; no hand-drawn PDF"). One browser per render, closed in `finally`, so a crashed or
 * hung render leaves no process behind and renders never share state.
 *
 * The page is a trusted, self-contained document (inline CSS, inline SVG charts), yet it is printed
 * with JavaScript off and every network request refused: nothing in a report needs either, and a
 * torg or room name that slipped through escaping could then not make the service fetch a URL.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { PlatformError } from '../../devices/contract/errors.ts';

/** Debian's `chromium` package (scripts/install-deps.sh --report). */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Page numbers in the bottom margin. Chromium fills `pageNumber` / `totalPages` (Playwright docs,
 * page.pdf `headerTemplate`); page styles do not reach the template, so its style is inline, and an
 * explicit font size is needed because the template's default is too small to read.
 */
const FOOTER = '<div style="font-size:8pt;font-family:sans-serif;width:100%;text-align:center;color:#555"><span class="pageNumber"></span> / <span class="totalPages"></span></div>';
/** An empty header: without one Chromium prints the date and document title at the top. */
const HEADER = '<span></span>';

export interface RenderPdfOptions {
  /** Default /usr/bin/chromium (INGEST_CHROMIUM_PATH). */
  chromiumPath?: string;
  /** Launch + layout + print, at most; default 60 s. */
  timeoutMs?: number;
}

export async function renderReportPdf(html: string, opts: RenderPdfOptions = {}): Promise<Buffer> {
  const executablePath = opts.chromiumPath ?? DEFAULT_CHROMIUM_PATH;
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!existsSync(executablePath)) throw new PlatformError('E_REPORT_BROWSER_MISSING', executablePath);
  let browser;
  try {
    // --no-sandbox: the service and CI run as root, where Chromium refuses to start with its sandbox
    // ("Running as root without --no-sandbox is not supported", crbug.com/638180). The page is our own
    // document with scripts off and the network refused, which is what the sandbox would guard against.
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], timeout });
  } catch (err) {
    throw new PlatformError('E_REPORT_RENDER_FAILED', `could not start ${executablePath}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const context = await browser.newContext({ javaScriptEnabled: false });
    await context.route('**/*', (route) => route.abort('blockedbyclient'));
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await page.setContent(html, { waitUntil: 'load', timeout });
    // page.pdf prints with CSS print media (Playwright docs, page.pdf), so the document's @page rules
    // and page breaks apply.
    return await page.pdf({
      format: 'A4',
      printBackground: true,
      displayHeaderFooter: true,
      headerTemplate: HEADER,
      footerTemplate: FOOTER,
      // Room for the footer; a document's own @page margin takes precedence in Chromium.
      margin: { top: '12mm', bottom: '16mm', left: '12mm', right: '12mm' },
      // Headings as PDF bookmarks, and a tagged (structured) PDF that screen readers can follow: public
      // bodies in Norway must publish accessible documents (forskrift om universell utforming av IKT).
      outline: true,
      tagged: true,
    });
  } catch (err) {
    if (err instanceof PlatformError) throw err;
    throw new PlatformError('E_REPORT_RENDER_FAILED', (err as Error).message, { cause: err });
  } finally {
    await browser.close().catch(() => undefined);
  }
}

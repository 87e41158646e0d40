/**
 * Serves the live page (`/`, assets under `/assets/`), the citizens' widget (`/widget.js`) and its
 * demo page (`/widget-demo.html`) on the API's express app, through `createApiApp({ mount })`.
 *
 * Assets (assets.ts): compiled in memory from the TypeScript sources when esbuild is installed (dev,
 * tests: always the current source), otherwise read from dist/live-web/ written by `npm run build`
 * (production installs without devDependencies). Built once per process and cached.
 *
 * Headers: a strict Content-Security-Policy without 'unsafe-inline' (the page has no inline script
 * or style; zod runs jitless so it never probes `new Function`), ETag revalidation, and CORS only
 * where a third-party page needs it (the widget script and the public busy endpoint, which send and
 * read no cookies).
 */
import type express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { buildLiveAssets, readLiveAssets, type Asset, type LiveAssets } from './assets.ts';

/** CSP Level 3; `frame-ancestors 'none'` instead of X-Frame-Options (CSP3 §6.4.2). */
export const LIVE_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface LivePageOptions {
  /** Prebuilt assets (tests, or a caller that built them already); default: load as described above. */
  assets?: LiveAssets | Promise<LiveAssets>;
  logger?: Logger;
}

let cached: Promise<LiveAssets> | null = null;

/** esbuild when installed, else dist/live-web; the first call's result serves the whole process. */
export function loadLiveAssets(): Promise<LiveAssets> {
  cached ??= buildLiveAssets().catch((err: unknown) => {
    const built = readLiveAssets();
    if (built) return built;
    throw new Error(`live page: cannot build (${err instanceof Error ? err.message : String(err)}) and no dist/live-web; run npm run build`);
  });
  return cached;
}

function send(req: Request, res: Response, a: Asset, extra: Record<string, string>): void {
  const gz = a.gzip !== null && req.acceptsEncodings('gzip', 'identity') === 'gzip' ? a.gzip : null;
  const etag = gz?.etag ?? a.etag;
  res.set({ 'Content-Type': a.contentType, 'Cache-Control': a.cacheControl, ETag: etag, 'Referrer-Policy': 'no-referrer', ...extra });
  if (a.gzip !== null) res.set('Vary', 'Accept-Encoding');
  // If-None-Match is a list of entity tags or `*` (RFC 9110 §13.1.2).
  const inm = req.get('if-none-match');
  if (inm !== undefined && (inm.trim() === '*' || inm.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag))) {
    res.status(304).end();
    return;
  }
  if (gz) res.set('Content-Encoding', 'gzip');
  res.status(200).send(gz ? gz.body : a.body);
}

export function mountLivePage(app: express.Express, opts: LivePageOptions = {}): void {
  const assets = Promise.resolve(opts.assets ?? loadLiveAssets());
  // Surface a build failure in the log at start rather than on the first visitor.
  assets.catch((err: unknown) => opts.logger?.error({ err }, 'live page assets unavailable'));

  const serve = (path: string, extra: Record<string, string>) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const a = (await assets).get(path);
      if (!a) return next();
      send(req, res, a, extra);
    } catch (err) {
      next(err);
    }
  };

  const pageHeaders = { 'Content-Security-Policy': LIVE_PAGE_CSP };
  app.get('/', serve('/', pageHeaders));
  app.get('/index.html', serve('/', pageHeaders));
  app.get('/widget-demo.html', serve('/widget-demo.html', pageHeaders));
  app.get('/assets/live.js', serve('/assets/live.js', {}));
  app.get('/assets/live.css', serve('/assets/live.css', {}));
  app.get('/assets/widget-demo.css', serve('/assets/widget-demo.css', {}));
  app.get('/assets/icon.svg', serve('/assets/icon.svg', {}));
  // Browsers ask for /favicon.ico regardless of <link rel="icon"> on some paths (e.g. the widget demo).
  app.get('/favicon.ico', serve('/assets/icon.svg', {}));
  // Loaded by <script src> from any municipality page: CORS lets `crossorigin` embeds work too.
  app.get('/widget.js', serve('/widget.js', { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' }));
  // The widget fetches the public busy endpoint from the embedding page's origin. Those routes are
  // public, read no cookie (the widget sends none), and answer only coarse bands.
  app.use('/api/v1/public', (req: Request, res: Response, next: NextFunction) => {
    res.set('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res.set({ 'Access-Control-Allow-Methods': 'GET', 'Access-Control-Allow-Headers': 'accept', 'Access-Control-Max-Age': '86400' });
      res.status(204).end();
      return;
    }
    next();
  });
}

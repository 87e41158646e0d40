/**
 * The live page's and the widget's files: two esbuild bundles (client/main.ts as an ES module,
 * widget/widget.ts as a classic script, because `document.currentScript` — which tells the widget
 * which server it came from — is null in module scripts) plus the static HTML/CSS.
 *
 * Choice (issue 5 "small, well-kept front-end approach"): plain TypeScript compiled by esbuild, which
 * the repo already has; no UI framework or chart library (the chart is one SVG path, format.ts).
 *
 * Two ways to get the files, one code path:
 * - `npm run build` runs this file as a script and writes dist/live-web/ (production installs may
 *   omit devDependencies, esbuild among them);
 * - when dist/live-web/ is missing (development, tests), serve.ts builds in memory at start, once
 *   (~0.3 s, measured on this 2-core machine), and caches the result for the process lifetime.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { BuildOptions, Plugin } from 'esbuild';
import { z } from 'zod';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The project root: the nearest folder up with a package.json (this file also runs compiled, from dist/dashboards/live/web). */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return join(HERE, '..', '..', '..');
  }
}
export const DIST_DIR = join(projectRoot(HERE), 'dist', 'live-web');

export interface Asset {
  /** URL path, e.g. `/assets/live.js`. */
  path: string;
  contentType: string;
  body: Buffer;
  /** Strong validator from the content (RFC 9110 §8.8.3). */
  etag: string;
  cacheControl: string;
  /** Gzip of `body` when it is worth it (text, > 1 KiB); its own ETag, since it is another representation. */
  gzip: { body: Buffer; etag: string } | null;
}
export type LiveAssets = ReadonlyMap<string, Asset>;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Cache policy: the page's own files revalidate every load (`no-cache` + ETag → cheap 304s), so a
 * deploy is seen at once without hashed names. The widget loads on third-party pages many times a
 * day: it may be cached 5 minutes without asking.
 */
function cacheFor(path: string): string {
  if (path === '/widget.js') return 'public, max-age=300';
  return 'no-cache';
}

function asset(path: string, body: Buffer): Asset {
  const ext = path.slice(path.lastIndexOf('.'));
  const contentType = CONTENT_TYPES[ext];
  if (contentType === undefined) throw new Error(`live page: no content type for ${path}`);
  const tag = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  // Compressed once here instead of per request: live.js is 214 KiB, 62 KiB gzipped (measured).
  const gzip = body.byteLength > 1024 ? { body: gzipSync(body, { level: 9 }), etag: `"${tag}-gz"` } : null;
  return { path, contentType, body, etag: `"${tag}"`, cacheControl: cacheFor(path), gzip };
}

/** URL path → file in static/. */
const STATIC_FILES: Record<string, string> = {
  '/': 'index.html',
  '/widget-demo.html': 'widget-demo.html',
  '/assets/live.css': 'live.css',
  '/assets/widget-demo.css': 'widget-demo.css',
  '/assets/icon.svg': 'icon.svg',
};

/**
 * zod 4 re-exports every locale as a namespace (`export * as locales` in zod/v4/classic/external.js),
 * which esbuild keeps whole: 264 KiB of the 475 KiB page bundle (measured with esbuild's metafile).
 * The page uses zod's default English messages only, so the namespace is resolved to English alone.
 */
const zodOneLocale: Plugin = {
  name: 'zod-one-locale',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-locale' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locale' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, loader: 'js', resolveDir: dirname(args.path) }));
  },
};

export async function buildLiveAssets(opts: { minify?: boolean } = {}): Promise<LiveAssets> {
  const { build } = await import('esbuild');
  const common: BuildOptions = {
    bundle: true,
    platform: 'browser',
    // Wall screens and tablets in the torg run evergreen browsers; ES2020 keeps Safari 14+.
    target: 'es2020',
    plugins: [zodOneLocale],
    minify: opts.minify ?? true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  };
  const [page, widget] = await Promise.all([
    build({ ...common, entryPoints: [join(HERE, 'client', 'main.ts')], format: 'esm' }),
    build({ ...common, entryPoints: [join(HERE, 'widget', 'widget.ts')], format: 'iife' }),
  ]);
  const pageJs = page.outputFiles?.[0];
  const widgetJs = widget.outputFiles?.[0];
  if (pageJs === undefined || widgetJs === undefined) throw new Error('live page: esbuild produced no output');
  const out = new Map<string, Asset>();
  out.set('/assets/live.js', asset('/assets/live.js', Buffer.from(pageJs.contents)));
  out.set('/widget.js', asset('/widget.js', Buffer.from(widgetJs.contents)));
  for (const [path, file] of Object.entries(STATIC_FILES)) {
    const servedAs = path === '/' ? '/index.html' : path;
    out.set(path, { ...asset(servedAs, readFileSync(join(HERE, 'static', file))), path });
  }
  return out;
}

const manifestSchema = z.object({ files: z.array(z.object({ path: z.string().startsWith('/'), file: z.string().regex(/^[\w.-]+$/) })) });

/** Writes the assets to `dir` with a manifest (URL path → file), atomically per file. */
export function writeLiveAssets(assets: LiveAssets, dir = DIST_DIR): void {
  mkdirSync(dir, { recursive: true });
  const files: { path: string; file: string }[] = [];
  for (const a of assets.values()) {
    const file = a.path === '/' ? 'index.html' : a.path.slice(1).replaceAll('/', '__');
    const tmp = join(dir, `${file}.${process.pid}.tmp`);
    writeFileSync(tmp, a.body);
    renameSync(tmp, join(dir, file));
    files.push({ path: a.path, file });
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ files }, null, 2));
}

/** The built files from `dir`, or null when there is no build there. */
export function readLiveAssets(dir = DIST_DIR): LiveAssets | null {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return null;
  const manifest = manifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  const present = new Set(readdirSync(dir));
  const out = new Map<string, Asset>();
  for (const { path, file } of manifest.files) {
    if (!present.has(file)) throw new Error(`live page: ${join(dir, file)} listed in the manifest is missing; run npm run build`);
    const servedAs = path === '/' ? '/index.html' : path;
    out.set(path, { ...asset(servedAs, readFileSync(join(dir, file))), path });
  }
  return out;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const assets = await buildLiveAssets();
  writeLiveAssets(assets);
  for (const a of assets.values()) console.log(`${a.path}: ${(a.body.byteLength / 1024).toFixed(1)} KiB`);
}

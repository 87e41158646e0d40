#!/usr/bin/env node
/**
 * Builds lib/innbyggertorg.cjs, the CommonJS bundle of the platform's TypeScript that the Node-RED
 * nodes require(). Node-RED loads node files with require() and cannot load .ts, so the nodes get
 * one bundled file; the TypeScript stays the single source (device models, contract, outbox, uplink).
 *
 * Run by `npm run build:node-red`, by the tests before they load a flow, and by embed.ts before it
 * starts Node-RED, so a fresh clone never runs a stale or missing bundle.
 *
 * npm packages stay external and resolve from node_modules (they are this package's dependencies):
 * better-sqlite3 is a native addon, pino loads transport files by path, and zod alone would be
 * ~850 KiB of the bundle (measured with esbuild's metafile) for code that is installed anyway.
 */
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const BUNDLE_PATH = join(here, 'lib', 'innbyggertorg.cjs');

/** Builds the bundle; resolves with its path and size. Safe to run concurrently (atomic rename). */
export async function buildNodeRedBundle() {
  const result = await build({
    entryPoints: [join(here, 'bundle', 'index.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['better-sqlite3', 'mqtt', 'pino', 'prom-client', 'zod'],
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error('esbuild produced no output');
  mkdirSync(dirname(BUNDLE_PATH), { recursive: true });
  // Several test workers may build at once: each writes its own temp file and renames it into place.
  const tmp = `${BUNDLE_PATH}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, BUNDLE_PATH);
  return { path: BUNDLE_PATH, bytes: file.contents.byteLength };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { path, bytes } = await buildNodeRedBundle();
  console.log(`${path}: ${(bytes / 1024).toFixed(0)} KiB`);
}

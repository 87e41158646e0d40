/**
 * The ingest service's process entry: `node dist/ingest/main.js` (dev: `npx tsx ingest/main.ts`),
 * config from INGEST_* variables (ingest/config.ts). It runs the composition root, ingest/service.ts.
 * `startIngest` (the writer alone) is re-exported for in-process use by tests and the benchmark.
 */
import { pathToFileURL } from 'node:url';
import { loadIngestConfig, type IngestConfig } from './config.ts';
import { startService } from './service.ts';

export { startIngest, type IngestDeps, type IngestHandle } from './writer.ts';

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let config: IngestConfig;
  try {
    config = loadIngestConfig(process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  let handle: Awaited<ReturnType<typeof startService>>;
  try {
    handle = await startService(config);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    // EX_CONFIG (sysexits(3)) for a configuration the service refuses, as the gateway does.
    process.exit((err as { code?: unknown }).code === 'E_CONFIG_INVALID' ? 78 : 1);
  }
  const onSignal = (signal: string) => {
    handle.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed after ${signal}: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}

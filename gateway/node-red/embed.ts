/**
 * Node-RED inside the gateway process, so an integrator can add a local source as a flow without
 * writing code (issue 3). The gateway's composition root calls startEmbeddedNodeRed() when its
 * config enables Node-RED, handing over its already-open outbox and its uplink state: the flow's
 * "to platform" nodes then append to that outbox (one writer per SQLite file) instead of opening
 * their own, and the config node's broker settings are not used.
 *
 * Embedding follows Node-RED's guide (https://nodered.org/docs/user-guide/runtime/embedding):
 * RED.init(server, settings), mount RED.httpAdmin, RED.start(); RED.stop() on shutdown. The editor
 * and admin API listen on loopback only; put adminAuth in the options to require a login.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { UplinkState } from '../metrics.ts';
import type { ClockPlausibility } from '../normalize.ts';
import type { Outbox } from '../outbox/outbox.ts';

/** The package folder: Node-RED loads it as a module through its package.json "node-red" section. */
const PACKAGE_DIR = dirname(fileURLToPath(import.meta.url));

/** The part of Node-RED's embedding API used here (node-red ships no type declarations). */
interface NodeRedRuntime {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: express.Express;
  httpNode: express.Express;
}

export interface EmbeddedNodeRedOptions {
  /** Node-RED's user directory (flows, credentials, .config files). */
  userDir: string;
  /** Flow file name inside userDir; default flows.json. */
  flowFile?: string;
  /** Loopback port for the editor and admin API; 0 picks a free one. */
  httpPort: number;
  outbox: Outbox;
  uplinkState: () => UplinkState;
  clock?: Clock;
  limits?: ClockPlausibility;
  logger: Logger;
  /** Key that encrypts flows_cred.json; without it Node-RED generates one into userDir/.config.runtime.json. */
  credentialSecret?: string;
  /** Node-RED adminAuth (https://nodered.org/docs/user-guide/runtime/securing-node-red). */
  adminAuth?: Record<string, unknown>;
}

export interface EmbeddedNodeRed {
  /** Loopback URL of the editor and admin API. */
  url: string;
  port: number;
  /** Stops the flows and the HTTP server. Leaves the gateway's outbox open: it is the gateway's. */
  stop(): Promise<void>;
}

/** Node-RED's numeric log levels (@node-red/util/lib/log.js) → pino. */
function forwardLog(logger: Logger, entry: { level: number; msg: unknown; type?: string; id?: string }): void {
  const fields = { nodeType: entry.type, nodeId: entry.id };
  const text = entry.msg instanceof Error ? entry.msg.message : typeof entry.msg === 'string' ? entry.msg : JSON.stringify(entry.msg);
  if (entry.level <= 20) logger.error(fields, text);
  else if (entry.level <= 30) logger.warn(fields, text);
  else if (entry.level <= 40) logger.info(fields, text);
  else if (entry.level <= 60) logger.debug(fields, text);
}

/**
 * The nodes load lib/innbyggertorg.cjs, built by `npm run build` (or `npm run build:node-red`);
 * building is the build step's job, not start-up's: a production install has no esbuild.
 */
function requireBundle(): void {
  const bundle = join(PACKAGE_DIR, 'lib', 'innbyggertorg.cjs');
  if (!existsSync(bundle)) {
    throw new Error(`node-red: ${bundle} is missing; run \`npm run build:node-red\` (part of \`npm run build\`)`);
  }
}

export async function startEmbeddedNodeRed(opts: EmbeddedNodeRedOptions): Promise<EmbeddedNodeRed> {
  requireBundle();
  const RED = createRequire(import.meta.url)('node-red') as NodeRedRuntime;
  const app = express();
  const server = createServer(app);
  const settings: Record<string, unknown> = {
    userDir: opts.userDir,
    flowFile: opts.flowFile ?? 'flows.json',
    nodesDir: [PACKAGE_DIR],
    httpAdminRoot: '/',
    httpNodeRoot: '/api',
    uiHost: '127.0.0.1',
    // The palette stays as shipped: installing modules at run time would change the gateway unseen.
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    functionGlobalContext: {},
    logging: {
      pino: {
        level: 'info',
        metrics: false,
        audit: false,
        handler: () => (entry: { level: number; msg: unknown; type?: string; id?: string }) => forwardLog(opts.logger, entry),
      },
    },
    innbyggertorgGateway: {
      outbox: opts.outbox,
      uplinkState: opts.uplinkState,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
    },
    ...(opts.credentialSecret !== undefined ? { credentialSecret: opts.credentialSecret } : {}),
    ...(opts.adminAuth !== undefined ? { adminAuth: opts.adminAuth } : {}),
  };
  RED.init(server, settings);
  app.use('/', RED.httpAdmin);
  app.use('/api', RED.httpNode);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.httpPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  try {
    await RED.start();
  } catch (err) {
    server.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/`;
  opts.logger.info({ url, userDir: opts.userDir }, 'node-red: started');
  let stopped = false;
  return {
    url,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await RED.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      opts.logger.info('node-red: stopped');
    },
  };
}

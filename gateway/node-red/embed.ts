/**
 * Node-RED inside the gateway process, so an integrator can add a local source as a flow without
 * writing code (issue 3). The gateway's composition root calls startEmbeddedNodeRed() when its
 * config enables Node-RED, handing over its already-open outbox and its uplink state: the flow's
 * "to platform" nodes then append to that outbox (one writer per SQLite file) instead of opening
 * their own, and the config node's broker settings are not used.
 *
 * Embedding follows Node-RED's guide (https://nodered.org/docs/user-guide/runtime/embedding):
 * RED.init(server, settings), mount RED.httpAdmin and RED.httpNode, RED.start(); RED.stop() on
 * shutdown. The editor, admin API and http-in endpoints listen on loopback unless `host` says
 * otherwise, and any other host needs adminAuth (gateway/node-red/node-red-settings.ts).
 *
 * The root app is Express 4 from node-red's own dependency tree, not the gateway's Express 5: the
 * core `http in` node walks its root app's `_router.stack` (@node-red/nodes/core/network/21-httpin.js),
 * an Express 4 internal that Express 5 renamed (`app.router`), so under an Express 5 parent it threw
 * "Cannot read properties of undefined (reading 'stack')" and no http-in route was registered.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { PlatformError } from '../../devices/contract/errors.ts';
import type { Clock } from '../clock.ts';
import type { UplinkState } from '../metrics.ts';
import type { ClockPlausibility } from '../normalize.ts';
import type { Outbox } from '../outbox/outbox.ts';
import { isLoopbackHost, NODE_RED_CREDENTIAL_SECRET_ENV, NODE_RED_DEFAULT_HOST, unsafeHostProblem } from './node-red-settings.ts';

/** The package folder: Node-RED loads it as a module through its package.json "node-red" section. */
const PACKAGE_DIR = dirname(fileURLToPath(import.meta.url));

/** The part of Node-RED's embedding API used here (node-red ships no type declarations). */
interface NodeRedRuntime {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: RequestListener;
  httpNode: RequestListener;
}

/** The part of an Express 4 application used here. */
type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
interface Express4App extends RequestListener {
  use(path: string, ...handlers: (RequestListener | Middleware)[]): unknown;
}

/**
 * Basic auth in front of the http-in endpoints for Node-RED's `httpNodeAuth`. Node-RED applies that
 * setting in its launcher (node-red/red.js basicAuthMiddleware), not in the runtime an embedder
 * starts, so the embedder must. Same behaviour: OPTIONS passes (CORS pre-flight), anything else
 * needs the user and a password matching the bcrypt hash (bcryptjs, as node-red resolves it), else
 * 401 with a Basic challenge; the last accepted password is remembered so that each request does not
 * pay for a bcrypt comparison.
 */
function basicAuth(nodeRedRequire: NodeJS.Require, auth: { user: string; pass: string }): Middleware {
  const bcrypt = createRequire(nodeRedRequire.resolve('node-red'))('bcryptjs') as { compareSync(password: string, hash: string): boolean };
  const digest = (x: string): Buffer => createHash('sha256').update(x, 'utf8').digest();
  const same = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));
  let accepted: string | undefined;
  return (req, res, next) => {
    if (req.method === 'OPTIONS') return next();
    // RFC 7617 §2: "Basic" base64(user-id ":" password); the user id cannot contain a colon.
    const m = /^basic +([A-Za-z0-9+/=]+) *$/i.exec(req.headers.authorization ?? '');
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const user = colon >= 0 ? decoded.slice(0, colon) : '';
    const password = colon >= 0 ? decoded.slice(colon + 1) : '';
    const ok = m !== null && colon >= 0 && same(user, auth.user) && ((accepted !== undefined && same(password, accepted)) || bcrypt.compareSync(password, auth.pass));
    if (!ok) {
      res.statusCode = 401;
      res.setHeader('WWW-Authenticate', 'Basic realm="Authorization Required"');
      res.end('Unauthorized');
      return;
    }
    accepted = password;
    next();
  };
}

/** Express as node-red itself resolves it (its package.json pins ^4), whatever the gateway uses. */
function nodeRedExpress(nodeRedRequire: NodeJS.Require): () => Express4App {
  const redRequire = createRequire(nodeRedRequire.resolve('node-red'));
  return redRequire('express') as () => Express4App;
}

export interface EmbeddedNodeRedOptions {
  /** Node-RED's user directory (flows, credentials, .config files). */
  userDir: string;
  /** Flow file name inside userDir; default flows.json. */
  flowFile?: string;
  /** Port of the editor, admin API and http-in endpoints; 0 picks a free one. */
  httpPort: number;
  /** Listen address; default 127.0.0.1. Anything but loopback is refused without adminAuth. */
  host?: string;
  outbox: Outbox;
  uplinkState: () => UplinkState;
  clock?: Clock;
  limits?: ClockPlausibility;
  logger: Logger;
  /** Key that encrypts flows_cred.json; without it Node-RED generates one into userDir/.config.runtime.json. */
  credentialSecret?: string;
  /** Node-RED adminAuth (https://nodered.org/docs/user-guide/runtime/securing-node-red). */
  adminAuth?: Record<string, unknown>;
  /** Basic auth for the http-in endpoints under /api (Node-RED's `httpNodeAuth`: user and bcrypt hash). */
  httpNodeAuth?: { user: string; pass: string };
}

export interface EmbeddedNodeRed {
  /** URL of the editor and admin API (loopback when listening on all addresses). */
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

/** Host part of the editor URL: a wildcard listener is reached on loopback; IPv6 goes in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export async function startEmbeddedNodeRed(opts: EmbeddedNodeRedOptions): Promise<EmbeddedNodeRed> {
  const host = opts.host ?? NODE_RED_DEFAULT_HOST;
  const unsafe = unsafeHostProblem(host, opts.adminAuth);
  if (unsafe !== undefined) throw new PlatformError('E_CONFIG_INVALID', unsafe);
  requireBundle();
  const localRequire = createRequire(import.meta.url);
  const RED = localRequire('node-red') as NodeRedRuntime;
  const app = nodeRedExpress(localRequire)();
  const server = createServer(app);
  const settings: Record<string, unknown> = {
    userDir: opts.userDir,
    flowFile: opts.flowFile ?? 'flows.json',
    nodesDir: [PACKAGE_DIR],
    httpAdminRoot: '/',
    httpNodeRoot: '/api',
    uiHost: host,
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
  if (opts.credentialSecret === undefined) {
    opts.logger.warn(
      { userDir: opts.userDir },
      `node-red: no credentialSecret (${NODE_RED_CREDENTIAL_SECRET_ENV}); flow credentials are encrypted with a key Node-RED generates into userDir/.config.runtime.json, next to them`,
    );
  }
  RED.init(server, settings);
  app.use('/', RED.httpAdmin);
  if (opts.httpNodeAuth !== undefined) app.use('/api', basicAuth(localRequire, opts.httpNodeAuth), RED.httpNode);
  else {
    app.use('/api', RED.httpNode);
    if (!isLoopbackHost(host)) {
      opts.logger.warn({ host }, 'node-red: no httpNodeAuth, so http-in endpoints under /api answer anyone who reaches this address; set httpNodeAuth to require a login');
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // net.Server.listen takes a bare IPv6 address, not the bracketed URL form.
    server.listen(opts.httpPort, host.replace(/^\[(.*)\]$/, '$1'), () => {
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
  const url = `http://${urlHost(host)}:${port}/`;
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

/**
 * Writes one gateway config per torg for the local stack (scripts/stack.sh): gateway `gw-<torg>`,
 * relaying to the central broker, with its outbox under <out-dir>/<torg>/, HTTP on a port of its
 * own, and one source on the site broker where the LoRaWAN simulator (simulator/lorawan/) plays
 * the torg's ChirpStack: `application/<torg>/device/+/event/up`.
 *
 *   tsx scripts/gateway-configs.ts [--torg-config F] [--out-dir D] [--central-url U] [--site-url U]
 *                                  [--http-port-base N] [--report-interval S] [--no-devices] [--torg ids...]
 *                                  [--dev-mode | --bootstrap-username U]   (password: env GATEWAY_BOOTSTRAP_PASSWORD)
 *
 * `devices` lists the simulator's inventory (DevEUI → model, and the counters' reporting interval,
 * which must equal the simulator's --step). With --no-devices it stays empty and the gateway takes
 * both from the LNS device tags the simulator sets (gateway/sources/model-resolver.ts).
 * Security (issue 4): with `provisioning` the gateway has no MQTT credentials of its own; it logs in
 * as the shared bootstrap user, asks for its credentials with the torg's provisioning key (env
 * GATEWAY_PROVISIONING_KEY, given by scripts/stack.sh at spawn) and keeps them in its data dir
 * (<out-dir>/<torg>/credentials.json). `devMode` instead lets it run against an anonymous broker.
 * The files hold the bootstrap password, so they are written mode 0600.
 * Prints one line per gateway: `<torg>\t<config file>\t<http port>`.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { PlatformError } from '../devices/contract/errors.ts';
import { loadTorgConfig, type Torg, type TorgConfig } from '../devices/torg/torg-config.schema.ts';
import { parseGatewayConfig, type GatewayConfig, type GatewayConfigInput } from '../gateway/config.ts';
import { chirpstackUpTopic } from '../simulator/lorawan/chirpstack-event.ts';
import { buildInventory } from '../simulator/model.ts';

export interface GatewayConfigsOptions {
  outDir: string;
  centralUrl: string;
  siteUrl: string;
  /** Gateway i (0-based, in torg config order) listens on httpPortBase + i. */
  httpPortBase: number;
  httpHost: string;
  /** The simulator's step: the counters' reporting interval. */
  reportIntervalSeconds: number;
  /** false: leave `devices` empty, models and intervals come from the LNS tags. */
  devices: boolean;
  torg?: readonly string[] | undefined;
  logLevel?: GatewayConfig['logLevel'];
  /** The shared bootstrap user of the central broker; the key comes from GATEWAY_PROVISIONING_KEY. */
  provisioning?: { bootstrapUsername: string; bootstrapPassword: string } | undefined;
  /** Anonymous central broker (development stack, STACK_SECURITY=off). */
  devMode?: boolean | undefined;
}

export interface GeneratedGatewayConfig {
  torg: string;
  file: string;
  httpPort: number;
  config: GatewayConfig;
}

export function gatewayConfigFor(torg: Torg, index: number, o: GatewayConfigsOptions): GatewayConfig {
  const outDir = resolve(o.outDir);
  const devices: NonNullable<GatewayConfigInput['devices']> = {};
  if (o.devices) {
    for (const d of buildInventory(torg)) {
      devices[d.id] = { model: d.model, ...(d.role === 'counter' ? { reportIntervalSeconds: o.reportIntervalSeconds } : {}) };
    }
  }
  const input: GatewayConfigInput = {
    gateway: `gw-${torg.id}`,
    torg: torg.id,
    central: { url: o.centralUrl },
    outbox: { path: join(outDir, torg.id, 'outbox.db') },
    http: { host: o.httpHost, port: o.httpPortBase + index },
    devices,
    sources: [{ type: 'mqtt', name: 'site-lns', url: o.siteUrl, topics: [chirpstackUpTopic(torg.id, '+')], format: 'chirpstack-v4' }],
    logLevel: o.logLevel ?? 'info',
    ...(o.provisioning !== undefined ? { provisioning: { ...o.provisioning } } : {}),
    ...(o.devMode === true ? { devMode: true } : {}),
  };
  // The same validation the gateway runs at start-up: a bad option fails here, naming the key.
  return parseGatewayConfig(input);
}

export function buildGatewayConfigs(torgConfig: TorgConfig, o: GatewayConfigsOptions): GeneratedGatewayConfig[] {
  const unknown = (o.torg ?? []).filter((id) => !torgConfig.torg.some((t) => t.id === id));
  if (unknown.length > 0) throw new PlatformError('E_CONFIG_INVALID', `--torg: unknown torg ${unknown.join(', ')}`);
  const out: GeneratedGatewayConfig[] = [];
  torgConfig.torg.forEach((t, i) => {
    if (o.torg !== undefined && !o.torg.includes(t.id)) return;
    const config = gatewayConfigFor(t, i, o);
    out.push({ torg: t.id, file: join(resolve(o.outDir), `${t.id}.json`), httpPort: config.http.port, config });
  });
  return out;
}

export function writeGatewayConfigs(generated: readonly GeneratedGatewayConfig[]): void {
  for (const g of generated) {
    mkdirSync(join(g.file, '..'), { recursive: true });
    writeFileSync(`${g.file}.tmp`, `${JSON.stringify(g.config, null, 2)}\n`, { mode: 0o600 });
    // rename(2) is atomic: a gateway starting meanwhile never reads half a file.
    renameSync(`${g.file}.tmp`, g.file);
  }
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new InvalidArgumentError('must be a TCP port');
  return n;
}
function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function main(): void {
  const program = new Command('gateway-configs')
    .description('Skriver én gateway-konfigurasjon per torg / writes one gateway config per torg for the local stack')
    .option('--torg-config <file>', 'torg config', 'config/torg.asker.sample.json')
    .option('--out-dir <dir>', 'where <torg>.json and <torg>/outbox.db go', '.data/gateways')
    .option('--central-url <url>', 'central broker', 'mqtt://127.0.0.1:1883')
    .option('--site-url <url>', 'site (LNS) broker', 'mqtt://127.0.0.1:1884')
    .option('--http-port-base <port>', 'HTTP port of the first gateway', port, 9470)
    .option('--http-host <host>', 'HTTP listen address', '127.0.0.1')
    .option('--report-interval <seconds>', 'counters\' reporting interval = the simulator\'s --step', positiveInt, 60)
    .option('--no-devices', 'no per-device config: models and intervals from the LNS tags')
    .option('--torg <ids...>', 'only these torg')
    .option('--dev-mode', 'anonymous central broker (development only)')
    .option('--bootstrap-username <user>', 'provision with this bootstrap user; its password from env GATEWAY_BOOTSTRAP_PASSWORD');
  program.parse();
  const o = program.opts<{
    torgConfig: string;
    outDir: string;
    centralUrl: string;
    siteUrl: string;
    httpPortBase: number;
    httpHost: string;
    reportInterval: number;
    devices: boolean;
    torg?: string[];
    devMode?: boolean;
    bootstrapUsername?: string;
  }>();
  let provisioning: GatewayConfigsOptions['provisioning'];
  if (o.bootstrapUsername !== undefined) {
    // Not an option: argv is readable by every local user (/proc/<pid>/cmdline).
    const password = process.env['GATEWAY_BOOTSTRAP_PASSWORD'];
    if (!password) throw new PlatformError('E_CONFIG_INVALID', 'GATEWAY_BOOTSTRAP_PASSWORD: required with --bootstrap-username');
    provisioning = { bootstrapUsername: o.bootstrapUsername, bootstrapPassword: password };
  }
  const generated = buildGatewayConfigs(loadTorgConfig(o.torgConfig), {
    outDir: o.outDir,
    centralUrl: o.centralUrl,
    siteUrl: o.siteUrl,
    httpPortBase: o.httpPortBase,
    httpHost: o.httpHost,
    reportIntervalSeconds: o.reportInterval,
    devices: o.devices,
    torg: o.torg,
    provisioning,
    devMode: o.devMode,
  });
  writeGatewayConfigs(generated);
  for (const g of generated) process.stdout.write(`${g.torg}\t${g.file}\t${g.httpPort}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

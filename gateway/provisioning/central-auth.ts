/**
 * Which credentials the uplink uses, decided once at start-up (issue 4, Security):
 * 1. `central.username`/`password` from the config file;
 * 2. else the credentials a previous provisioning stored in `{dataDir}/credentials.json`;
 * 3. else, with a provisioning key (`provisioning.key` or GATEWAY_PROVISIONING_KEY), the bootstrap:
 *    credentials are requested, stored, and used;
 * 4. else anonymous, in development mode only; outside it the gateway refuses to start
 *    (E_CONFIG_INVALID naming what is missing).
 */
import type { Logger } from 'pino';
import { PlatformError } from '../../devices/contract/errors.ts';
import { provisioningKeySchema } from '../../devices/contract/provisioning.schema.ts';
import { PROVISIONING_KEY_ENV, type GatewayConfig } from '../config.ts';
import { bootstrapProvisioning, type BootstrapOptions, type ProvisionGrant } from './bootstrap.ts';
import { readCredentials, writeCredentials } from './credentials-file.ts';

export interface CentralAuth {
  username?: string;
  password?: string;
  origin: 'config' | 'stored' | 'provisioned' | 'anonymous-dev';
}

export interface ResolveAuthDeps {
  dataDir: string;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /** The bootstrap (injected so tests can count calls; defaults to the MQTT one). */
  bootstrap?: (o: BootstrapOptions) => Promise<ProvisionGrant>;
  ca?: string | Buffer;
}

export async function resolveCentralAuth(config: GatewayConfig, deps: ResolveAuthDeps): Promise<CentralAuth> {
  const c = config.central;
  if (c.username !== undefined) {
    return { username: c.username, ...(c.password !== undefined ? { password: c.password } : {}), origin: 'config' };
  }
  const stored = readCredentials(deps.dataDir);
  if (stored !== null) {
    if (stored.torg !== config.torg || stored.gateway !== config.gateway) {
      throw new PlatformError('E_CONFIG_INVALID', `credentials.json in ${deps.dataDir} belongs to ${stored.torg}/${stored.gateway}, not ${config.torg}/${config.gateway}`);
    }
    return { username: stored.username, password: stored.password, origin: 'stored' };
  }
  const envKey = deps.env[PROVISIONING_KEY_ENV];
  let key = config.provisioning?.key;
  if (key === undefined && envKey !== undefined && envKey !== '') {
    const parsed = provisioningKeySchema.safeParse(envKey);
    if (!parsed.success) throw new PlatformError('E_CONFIG_INVALID', `${PROVISIONING_KEY_ENV}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    key = parsed.data;
  }
  if (key !== undefined) {
    const p = config.provisioning;
    if (p === undefined) {
      throw new PlatformError('E_CONFIG_INVALID', `a provisioning key is set (${PROVISIONING_KEY_ENV}) but provisioning.bootstrapUsername/bootstrapPassword are missing`);
    }
    const grant = await (deps.bootstrap ?? bootstrapProvisioning)({
      url: c.url,
      torg: config.torg,
      gateway: config.gateway,
      key,
      username: p.bootstrapUsername,
      password: p.bootstrapPassword,
      timeoutMs: p.timeoutMs,
      retry: p.retry,
      logger: deps.logger,
      agent: `itorg-gateway node/${process.versions.node}`,
      ...(deps.ca !== undefined ? { ca: deps.ca } : {}),
    });
    writeCredentials(deps.dataDir, {
      v: 1,
      torg: config.torg,
      gateway: config.gateway,
      username: grant.mqtt.username,
      password: grant.mqtt.password,
      issuedAt: grant.issuedAt,
      config: grant.config,
    });
    deps.logger.info({ username: grant.mqtt.username, dataDir: deps.dataDir }, 'broker credentials stored');
    return { username: grant.mqtt.username, password: grant.mqtt.password, origin: 'provisioned' };
  }
  if (config.devMode) {
    deps.logger.warn('development mode: connecting to the central broker without credentials');
    return { origin: 'anonymous-dev' };
  }
  throw new PlatformError(
    'E_CONFIG_INVALID',
    `no MQTT credentials (central.username/central.password, or credentials.json in ${deps.dataDir}) and no provisioning key (provisioning.key or ${PROVISIONING_KEY_ENV}); set devMode: true only for development`,
  );
}

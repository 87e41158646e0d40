/**
 * What the deploy tests share: running deploy/init-secrets.sh and `cli broker init` the way the compose
 * services do, reading the .env they produce, and turning deploy/mosquitto/mosquitto.conf into a config
 * the test helper's Mosquitto can load (container paths and the port rewritten, nothing else).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { runCli } from '../support/cli.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY = join(REPO, 'deploy');
export const PROD_MOSQUITTO_CONF = join(DEPLOY, 'mosquitto/mosquitto.conf');
export const DEV_MOSQUITTO_TEMPLATE = join(REPO, 'config/mosquitto/mosquitto.conf');

export function run(cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: REPO, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

export async function mustRun(cmd: string, args: readonly string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** KEY=VALUE lines as init-secrets.sh writes them (no quoting: values are base64url). */
export function readEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export function need(env: Readonly<Record<string, string | undefined>>, key: string): string {
  const v = env[key];
  if (v === undefined || v === '') throw new Error(`${key} is missing`);
  return v;
}

/** `init-secrets.sh files --dir DIR [--host H]...`; returns the .env it wrote. */
export async function initSecrets(dir: string, hosts: readonly string[] = []): Promise<Record<string, string>> {
  await mustRun('bash', [join(DEPLOY, 'init-secrets.sh'), 'files', '--dir', dir, ...hosts.flatMap((h) => ['--host', h])]);
  return readEnvFile(join(dir, '.env'));
}

const BROKER_USER_VARS = [
  'INGEST_MQTT_USERNAME',
  'INGEST_MQTT_PASSWORD',
  'INGEST_BROKER_ADMIN_USERNAME',
  'INGEST_BROKER_ADMIN_PASSWORD',
  'INGEST_BROKER_BOOTSTRAP_USERNAME',
  'INGEST_BROKER_BOOTSTRAP_PASSWORD',
] as const;

/** `cli broker init`, with the passwords in its environment as the compose service passes them. */
export async function brokerInit(env: Readonly<Record<string, string>>, db: string, authDir: string): Promise<void> {
  const saved = new Map(BROKER_USER_VARS.map((k) => [k, process.env[k]]));
  for (const k of BROKER_USER_VARS) process.env[k] = need(env, k);
  try {
    const r = await runCli(['broker', 'init', '--db', db, '--dir', authDir]);
    if (r.code !== 0) throw new Error(`broker init exited ${r.code}: ${r.stderr}`);
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export interface ConfLine {
  key: string;
  value: string;
}

/** mosquitto.conf(5): one option per line, `#` starts a comment line. */
export function parseConf(text: string): ConfLine[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const space = l.indexOf(' ');
      return space < 0 ? { key: l, value: '' } : { key: l.slice(0, space), value: l.slice(space + 1).trim() };
    });
}

export function valuesOf(lines: readonly ConfLine[], key: string): string[] {
  return lines.filter((l) => l.key === key).map((l) => l.value);
}

/**
 * The production config as extra lines for test/support/services.ts startMosquitto: container paths
 * rewritten to `paths`, the listener to `tlsPort` on loopback. Options the helper's base config
 * already sets are left to it (Mosquitto refuses a second value of some, "Duplicate … value"), except
 * `listener` (a second listener is the point) and `allow_anonymous` (a later line wins).
 */
export function productionBrokerExtraConfig(tlsPort: number, paths: { certs: string; auth: string; run: string }): string {
  const prod = parseConf(readFileSync(PROD_MOSQUITTO_CONF, 'utf8'));
  const helperKeys = new Set(parseConf(readFileSync(DEV_MOSQUITTO_TEMPLATE, 'utf8')).map((l) => l.key));
  const lines = prod
    .filter((l) => l.key === 'listener' || l.key === 'allow_anonymous' || !helperKeys.has(l.key))
    .map((l) => {
      const value =
        l.key === 'listener'
          ? `${tlsPort} 127.0.0.1`
          : l.value.replace('/mosquitto/certs/', `${paths.certs}/`).replace('/mosquitto/auth/', `${paths.auth}/`).replace('/mosquitto/run/', `${paths.run}/`);
      return `${l.key} ${value}`;
    });
  const text = lines.join('\n');
  if (text.includes('/mosquitto/')) throw new Error(`a container path was not rewritten:\n${text}`);
  return text;
}

// --- Compose interpolation (https://docs.docker.com/reference/compose-file/interpolation/) -----------------

export class MissingVariable extends Error {}

/**
 * `$$` → `$`; `${V}`, `$V`; `${V:-d}`/`${V-d}` default when unset-or-empty/unset; `${V:?e}`/`${V?e}`
 * required. Stricter than Compose in one way: an unset `${V}` without a default throws (Compose warns
 * and substitutes ""), so the file cannot lean on a variable nobody sets.
 */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
    if (match === '$$') return '$';
    const name = braced ?? bare!;
    const value = env[name];
    const missing = value === undefined || (colon === ':' && value === '');
    if (op === '-') return missing ? arg! : value!;
    if (op === '?') {
      if (missing) throw new MissingVariable(`${name}: ${arg}`);
      return value!;
    }
    if (value === undefined) throw new MissingVariable(`${name} is used without a default`);
    return value;
  });
}

/** Variable references in a text, with how each is used. */
export function references(text: string): { name: string; op: string }[] {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?[^}]*\}/g)].map((m) => ({ name: m[1]!, op: m[2] ?? '' }));
}

/** Every string value of a parsed YAML tree (Compose interpolates values, not comments or keys). */
export function strings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node !== null && typeof node === 'object') return Object.values(node).flatMap(strings);
  return [];
}

export function mapStrings(node: unknown, f: (s: string) => string): unknown {
  if (typeof node === 'string') return f(node);
  if (Array.isArray(node)) return node.map((n) => mapStrings(n, f));
  if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, mapStrings(v, f)]));
  return node;
}

// Merge keys (`<<`) are YAML 1.1; Compose resolves them.
export const COMPOSE_TEXT = readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8');
export const RAW_TREE: unknown = parseYaml(COMPOSE_TEXT, { merge: true });
export const REFERENCES = strings(RAW_TREE).flatMap(references);

// --- The compose model, as much of it as is checked -----------------------------------------------------------

export const serviceSchema = z.looseObject({
  image: z.string().optional(),
  build: z.looseObject({ context: z.string(), dockerfile: z.string(), target: z.string() }).optional(),
  container_name: z.string().optional(),
  pid: z.string().optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).default({}),
  volumes: z.array(z.string()).default([]),
  ports: z.array(z.string()).default([]),
  restart: z.string().optional(),
  profiles: z.array(z.string()).optional(),
  healthcheck: z.looseObject({ test: z.array(z.string()) }).optional(),
  configs: z.array(z.looseObject({ source: z.string(), target: z.string() })).default([]),
  deploy: z.looseObject({ resources: z.looseObject({ limits: z.looseObject({ memory: z.string(), cpus: z.string() }) }) }).optional(),
});
export const composeSchema = z.looseObject({
  services: z.record(z.string(), serviceSchema),
  volumes: z.record(z.string(), z.null()),
  configs: z.record(z.string(), z.looseObject({ content: z.string() })).default({}),
});
export type Compose = z.infer<typeof composeSchema>;
export type Service = z.infer<typeof serviceSchema>;

export function service(c: Compose, name: string): Service {
  const s = c.services[name];
  if (s === undefined) throw new Error(`service ${name} missing`);
  return s;
}

/** Short volume syntax `source:target[:mode]` (no Windows paths here). */
export function mounts(s: Service): { source: string; target: string; readOnly: boolean }[] {
  return s.volumes.map((v) => {
    const [source, target, mode] = v.split(':');
    if (source === undefined || target === undefined) throw new Error(`bad volume ${v}`);
    return { source, target, readOnly: mode === 'ro' };
  });
}

export function mountAt(s: Service, target: string): { source: string; target: string; readOnly: boolean } {
  const m = mounts(s).find((x) => x.target === target);
  if (m === undefined) throw new Error(`nothing mounted at ${target}`);
  return m;
}


/** The compose file as Compose sees it with this .env: values interpolated, then validated. */
export function loadCompose(dotenv: Readonly<Record<string, string>>): Compose {
  return composeSchema.parse(mapStrings(RAW_TREE, (v) => interpolate(v, dotenv)));
}

/**
 * `broker init`: the central broker's password and ACL files before Mosquitto first starts (issue 4
 * "Security"). With `allow_anonymous false` the broker refuses every client until those files exist,
 * and the service that otherwise writes them (ingest/service.ts, BrokerAuthSync) must itself log in
 * to that broker: so an installation (and scripts/stack.sh) stores the service users in the registry
 * and writes the files once, here, with no broker to reload. The service rewrites the same files from
 * the same store at start and on every provisioning.
 *
 * The passwords come from the environment the service reads (INGEST_MQTT_*, INGEST_BROKER_ADMIN_*,
 * INGEST_BROKER_BOOTSTRAP_*), never from argv, which other users can read in /proc/<pid>/cmdline.
 * stdout: the config lines that switch authentication on (securityConfigLines), for the broker's
 * extra config. Exit codes: 0 written, 2 usage error (a variable missing), 1 failure.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { securityConfigLines } from '../ingest/broker-acl/mosquitto-acl.ts';
import { ingestEnvSchema } from '../ingest/config.ts';
import { BrokerAuthSync, SqliteBrokerCredentialStore, type ServiceRole } from '../ingest/provisioning/broker-credentials.ts';

export interface BrokerCliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  lang: () => 'nb' | 'en';
  setExit: (code: number) => void;
  now: () => number;
}

export const BROKER_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const TEXT = {
  nb: {
    missing: (names: string) => `mangler miljøvariabler: ${names}`,
    written: (n: number, dir: string) => `Skrev passwd og acl for ${n} brukere i ${dir}`,
  },
  en: {
    missing: (names: string) => `missing environment variables: ${names}`,
    written: (n: number, dir: string) => `Wrote passwd and acl for ${n} users to ${dir}`,
  },
} as const;

const secret = z.string().min(1);
/**
 * The variables the service reads (ingest/config.ts), all required here, with the service's bootstrap
 * default, so the users written here are the ones the service logs in with. A password that
 * mosquitto_passwd cannot take is refused by it (writeBrokerAuthFiles reports its stderr).
 */
const envSchema = z.object({
  INGEST_MQTT_USERNAME: secret,
  INGEST_MQTT_PASSWORD: secret,
  INGEST_BROKER_ADMIN_USERNAME: secret,
  INGEST_BROKER_ADMIN_PASSWORD: secret,
  INGEST_BROKER_BOOTSTRAP_USERNAME: ingestEnvSchema.shape.INGEST_BROKER_BOOTSTRAP_USERNAME,
  INGEST_BROKER_BOOTSTRAP_PASSWORD: secret,
});

/** The service users from the environment; the names of the missing or empty variables otherwise. */
export function serviceUsersFromEnv(env: Record<string, string | undefined>): { role: ServiceRole; username: string; password: string }[] | { missing: string[] } {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('INGEST_') && v !== undefined && v !== ''));
  const r = envSchema.safeParse(present);
  if (!r.success) return { missing: [...new Set(r.error.issues.map((i) => i.path.join('.')))].sort() };
  const e = r.data;
  return [
    { role: 'ingest', username: e.INGEST_MQTT_USERNAME, password: e.INGEST_MQTT_PASSWORD },
    { role: 'admin', username: e.INGEST_BROKER_ADMIN_USERNAME, password: e.INGEST_BROKER_ADMIN_PASSWORD },
    { role: 'bootstrap', username: e.INGEST_BROKER_BOOTSTRAP_USERNAME, password: e.INGEST_BROKER_BOOTSTRAP_PASSWORD },
  ];
}

/** Stores the service users in the registry file and writes `passwd`/`acl` into `dir`; returns the config lines. */
export async function initBrokerAuth(opts: {
  db: string;
  dir: string;
  users: readonly { role: ServiceRole; username: string; password: string }[];
  now: () => number;
  mosquittoPasswd?: string;
}): Promise<{ config: string; users: number }> {
  mkdirSync(dirname(resolve(opts.db)), { recursive: true });
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const store = new SqliteBrokerCredentialStore({ path: opts.db, now: opts.now, ...(opts.mosquittoPasswd !== undefined ? { mosquittoPasswd: opts.mosquittoPasswd } : {}) });
  try {
    for (const u of opts.users) await store.setService(u);
    // No reload: the broker is not running yet (or, on a re-run, the service's own sync signals it).
    const sync = new BrokerAuthSync({ store, dir: opts.dir, reload: { none: true }, ...(opts.mosquittoPasswd !== undefined ? { mosquittoPasswd: opts.mosquittoPasswd } : {}) });
    const files = await sync.sync();
    const users = (await store.principals()).length;
    return { config: securityConfigLines(files), users };
  } finally {
    await store.close();
  }
}

export function addBrokerCommands(program: Command, io: BrokerCliIo): void {
  const t = () => TEXT[io.lang()];
  const broker = program.command('broker').description('sentral MQTT-megler: brukere og tilgang / central MQTT broker: users and access');
  broker
    .command('init')
    .description(
      'lagre tjenestebrukerne i registeret og skriv passwd/acl før megleren starter / store the service users in the registry and write passwd/acl before the broker starts',
    )
    .requiredOption('--db <file>', 'the registry SQLite file the service uses (INGEST_REGISTRY_PATH)')
    .requiredOption('--dir <dir>', 'directory of passwd and acl (INGEST_BROKER_AUTH_DIR)')
    .addHelpText(
      'after',
      '\nPasswords from env INGEST_MQTT_USERNAME/PASSWORD, INGEST_BROKER_ADMIN_USERNAME/PASSWORD, INGEST_BROKER_BOOTSTRAP_USERNAME/PASSWORD.\nPrints the Mosquitto config lines that switch authentication on.\nExit codes: 0 ok, 1 failed, 2 usage error.',
    )
    .action(async (o: { db: string; dir: string }) => {
      const users = serviceUsersFromEnv(io.env);
      if ('missing' in users) {
        io.stderr(`${t().missing(users.missing.join(', '))}\n`);
        io.setExit(BROKER_EXIT.usage);
        return;
      }
      const dir = resolve(o.dir);
      const r = await initBrokerAuth({ db: resolve(o.db), dir, users, now: io.now });
      io.stdout(`${r.config}\n`);
      io.stderr(`${t().written(r.users, dir)}\n`);
      io.setExit(BROKER_EXIT.ok);
    });
}

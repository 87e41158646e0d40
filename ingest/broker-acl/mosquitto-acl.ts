/**
 * Mosquitto 2.0 authentication and authorisation from a list of principals (issue 4, "Security"):
 * the `acl_file`, the `password_file` and the config lines that switch them on.
 *
 * Who may do what (topics from devices/contract/mqtt-topics.ts):
 *   gateway  writes only the topics a gateway produces under its own itorg/v1/{torg}/{gateway}/ and
 *            reads only its own config subtree (plus the ingest's online state, so it re-sends its
 *            births when an ingest starts).
 *   ingest   reads what gateways produce (readings, state, inventory, device births) under every torg
 *            and writes dead letters and its own online state.
 *   admin    reads and writes everything, $SYS included.
 *   anonymous nothing: `allow_anonymous false`, and no ACL line before the first `user` line (such
 *            lines would apply to anonymous clients, mosquitto.conf(5), "acl_file").
 *
 * The registry is the source of principals; this module only renders them.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';
import { TOPIC_ROOT, topics } from '../../devices/contract/mqtt-topics.ts';
import { slugSchema } from '../../devices/contract/reading.schema.ts';

/**
 * Usernames go verbatim into `user <name>` ACL lines and `name:hash` password lines, so they exclude
 * whitespace (it would end the ACL token), ':' (the password-file separator) and MQTT wildcards.
 */
const usernameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1–64 characters: letters, digits, ".", "_", "-", starting with a letter or digit');

/**
 * A line break would start a new password-file entry. ':' is refused because a password containing
 * one, hashed with `mosquitto_passwd -U`, was then refused at CONNECT by Mosquitto 2.0.11 (measured
 * in test/ingest/broker-acl). 12 characters is a floor for generated secrets.
 */
const passwordSchema = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(256)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  .refine((p) => !/[\u0000-\u001f\u007f:]/.test(p), 'must not contain ":", control characters or line breaks');

const gatewayPrincipalSchema = z
  .object({ role: z.literal('gateway'), username: usernameSchema, password: passwordSchema, torg: slugSchema, gateway: slugSchema })
  .strict();
const servicePrincipalSchema = z
  .object({ role: z.enum(['ingest', 'admin']), username: usernameSchema, password: passwordSchema })
  .strict();

export const principalSchema = z.discriminatedUnion('role', [gatewayPrincipalSchema, servicePrincipalSchema]);
export type Principal = z.infer<typeof principalSchema>;

export const principalsSchema = z.array(principalSchema).superRefine((list, ctx) => {
  const users = new Set<string>();
  const gateways = new Set<string>();
  list.forEach((p, i) => {
    if (users.has(p.username)) ctx.addIssue({ code: 'custom', path: [i, 'username'], message: `duplicate username "${p.username}"` });
    users.add(p.username);
    if (p.role === 'gateway') {
      const key = `${p.torg}/${p.gateway}`;
      // Two users for one gateway would both be allowed to speak for it.
      if (gateways.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'gateway'], message: `gateway ${key} has more than one user` });
      gateways.add(key);
    }
  });
});

function parsePrincipals(input: readonly Principal[]): Principal[] {
  const r = principalsSchema.safeParse(input);
  if (r.success) return r.data;
  // Never echo the input: it holds passwords.
  const detail = r.error.issues.slice(0, 10).map((i) => `principals[${i.path.join('].')}: ${i.message}`).join('; ');
  throw new PlatformError('E_CONFIG_INVALID', `broker principals: ${detail}`);
}

type Access = 'read' | 'write' | 'readwrite';
interface Rule {
  access: Access;
  topic: string;
}

/**
 * A gateway's rights are listed topic by topic rather than as `write {prefix}/#` minus the config
 * subtree: an ACL `deny` line refuses every kind of access to its topic (mosquitto.conf(5),
 * "acl_file"), so denying `config/#` would also stop the gateway reading its config. Listing is also
 * least privilege: a new gateway topic must be added here on purpose.
 */
export function gatewayRules(torg: string, gateway: string): Rule[] {
  return [
    { access: 'write', topic: topics.readings(torg, gateway) },
    { access: 'write', topic: topics.gatewayState(torg, gateway) },
    { access: 'write', topic: topics.inventory(torg, gateway) },
    { access: 'write', topic: topics.deviceBirth(torg, gateway, '+') },
    // `config/#` also matches `config` itself, the parent level [MQTT-4.7.1-2].
    { access: 'read', topic: `${topics.gatewayConfig(torg, gateway)}/#` },
    { access: 'read', topic: topics.ingestState('+') },
  ];
}

/**
 * Shared subscriptions (`$share/{group}/{filter}`, [MQTT-4.8.2]) need no rules of their own:
 * Mosquitto checks a shared subscription against its filter with the `$share/{group}/` prefix
 * removed, and every delivered message against the message's topic (test/ingest/broker-acl proves
 * it against a real broker).
 */
export function ingestRules(): Rule[] {
  return [
    { access: 'read', topic: topics.readings('+', '+') },
    { access: 'read', topic: topics.gatewayState('+', '+') },
    { access: 'read', topic: topics.inventory('+', '+') },
    { access: 'read', topic: topics.deviceBirth('+', '+', '+') },
    { access: 'write', topic: topics.deadLetter('+') },
    // Read as well: an ingest instance sees the others' online state.
    { access: 'readwrite', topic: topics.ingestState('+') },
  ];
}

export function adminRules(): Rule[] {
  // `#` does not match topics starting with `$` [MQTT-4.7.2-1], so $SYS is granted separately.
  return [
    { access: 'readwrite', topic: `${TOPIC_ROOT.split('/')[0]}/#` },
    { access: 'read', topic: '$SYS/#' },
  ];
}

function rulesOf(p: Principal): Rule[] {
  if (p.role === 'gateway') return gatewayRules(p.torg, p.gateway);
  return p.role === 'ingest' ? ingestRules() : adminRules();
}

/** The `acl_file` content, one `user` block per principal, in input order. */
export function renderAclFile(input: readonly Principal[]): string {
  const principals = parsePrincipals(input);
  const out = [
    '# Generated by ingest/broker-acl/mosquitto-acl.ts from the registry. Do not edit by hand.',
    '# No rule precedes the first "user" line: anonymous clients get no access.',
  ];
  for (const p of principals) {
    const who = p.role === 'gateway' ? `gateway ${p.torg}/${p.gateway}` : p.role;
    out.push('', `# ${who}`, `user ${p.username}`, ...rulesOf(p).map((r) => `topic ${r.access} ${r.topic}`));
  }
  return `${out.join('\n')}\n`;
}

/** The lines that switch authentication on; appended after the base config (config/mosquitto/mosquitto.conf). */
export function securityConfigLines(files: { passwordFile: string; aclFile: string }): string {
  return ['allow_anonymous false', `password_file ${files.passwordFile}`, `acl_file ${files.aclFile}`].join('\n');
}

export const MOSQUITTO_PASSWD_DEFAULT = '/usr/bin/mosquitto_passwd';

function run(bin: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error) reject(new PlatformError('E_CONFIG_INVALID', `${bin} ${args[0] ?? ''} failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve();
    });
  });
}

/**
 * The `password_file` content, hashed by Debian's `mosquitto_passwd` itself so the format is exactly
 * the broker's (Mosquitto 2.0: `$7$` = PBKDF2-SHA512 with 101 iterations and a random salt,
 * mosquitto_passwd(1)). The plaintext goes through a 0600 file in a private temp dir and `-U`
 * (hash every entry in place) rather than `-b user password`, which would put every password on a
 * command line visible in `ps`. The temp dir is removed whatever happens.
 */
export async function renderPasswordFile(input: readonly Principal[], opts: { mosquittoPasswd?: string } = {}): Promise<string> {
  const principals = parsePrincipals(input);
  const dir = await mkdtemp(join(tmpdir(), 'itorg-passwd-'));
  try {
    const file = join(dir, 'passwd');
    await writeFile(file, principals.map((p) => `${p.username}:${p.password}\n`).join(''), { mode: 0o600 });
    await run(opts.mosquittoPasswd ?? MOSQUITTO_PASSWD_DEFAULT, ['-U', file]);
    const hashed = await readFile(file, 'utf8');
    const lines = hashed.split('\n').filter((l) => l.length > 0);
    // A plaintext line left behind would be a clear-text password in the broker's file.
    if (lines.length !== principals.length || !lines.every((l) => /^[^:]+:\$[67]\$/.test(l))) {
      throw new PlatformError('E_CONFIG_INVALID', 'mosquitto_passwd -U did not hash every entry');
    }
    return `${lines.join('\n')}\n`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes `passwd` (0600) and `acl` into `dir`; returns their paths and the config lines to append. */
export async function writeBrokerAuthFiles(
  dir: string,
  principals: readonly Principal[],
  opts: { mosquittoPasswd?: string } = {},
): Promise<{ passwordFile: string; aclFile: string; config: string }> {
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  const acl = renderAclFile(principals);
  const passwd = await renderPasswordFile(principals, opts);
  await writeFile(passwordFile, passwd, { mode: 0o600 });
  // writeFile's mode applies only when it creates the file; an existing file keeps its old mode.
  await chmod(passwordFile, 0o600);
  await writeFile(aclFile, acl, { mode: 0o644 });
  return { passwordFile, aclFile, config: securityConfigLines({ passwordFile, aclFile }) };
}

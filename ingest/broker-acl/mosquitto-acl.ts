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
 *   bootstrap the user shared by gateways that are not yet provisioned: it may write only its own
 *            provisioning request topic and read only its own response topic, both keyed by the
 *            MQTT client id (`%c` in a `pattern` line, mosquitto.conf(5) "acl_file"), so one
 *            unprovisioned gateway cannot read the credentials issued to another (see bootstrapRules).
 *   anonymous nothing: `allow_anonymous false`, and no ACL line before the first `user` line (such
 *            lines would apply to anonymous clients, mosquitto.conf(5), "acl_file").
 *
 * The registry is the source of principals; this module only renders them. Principals come either
 * with a plaintext password (hashed here by `mosquitto_passwd`) or with a stored hash
 * (ingest/provisioning/broker-credentials.ts keeps only hashes at rest).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

/**
 * One `password_file` line as `mosquitto_passwd` writes it for Mosquitto 2.0: `$7$` (PBKDF2-SHA512)
 * or `$6$` (salted SHA-512, the 1.x format 2.0 still reads), base64 fields only, so a stored hash
 * cannot smuggle a ':' or a line break into the file.
 */
export const passwordHashSchema = z.string().regex(/^\$(?:7\$\d{1,7}\$|6\$)[A-Za-z0-9+/=]{1,200}\$[A-Za-z0-9+/=]{1,200}$/, 'must be a mosquitto_passwd hash ($7$… or $6$…)');

const gatewayPrincipalSchema = z
  .object({ role: z.literal('gateway'), username: usernameSchema, password: passwordSchema, torg: slugSchema, gateway: slugSchema })
  .strict();
const servicePrincipalSchema = z
  .object({ role: z.enum(['ingest', 'admin', 'bootstrap']), username: usernameSchema, password: passwordSchema })
  .strict();

export const principalSchema = z.discriminatedUnion('role', [gatewayPrincipalSchema, servicePrincipalSchema]);
export type Principal = z.infer<typeof principalSchema>;

/** A principal whose password is already hashed (what broker-credentials.ts stores). */
export const hashedPrincipalSchema = z.discriminatedUnion('role', [
  gatewayPrincipalSchema.omit({ password: true }).extend({ hash: passwordHashSchema }).strict(),
  servicePrincipalSchema.omit({ password: true }).extend({ hash: passwordHashSchema }).strict(),
]);
export type HashedPrincipal = z.infer<typeof hashedPrincipalSchema>;

type AnyPrincipal = Principal | HashedPrincipal;

const anyPrincipalSchema = z.union([principalSchema, hashedPrincipalSchema]);

export const principalsSchema = z.array(anyPrincipalSchema).superRefine((list, ctx) => {
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

function parsePrincipals(input: readonly AnyPrincipal[]): AnyPrincipal[] {
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
    // Writer-only instances check readings against the control plane's retained directory (issue 4).
    { access: 'read', topic: topics.registryDirectory() },
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

/**
 * The provisioning RPC's topics, keyed by the client id: `%c` in a `pattern` line is replaced by the
 * connecting client's id (mosquitto.conf(5), "acl_file"). Pattern lines apply to every user, whatever
 * `user` line precedes them (same page; measured on 2.0.11 in test/ingest/provisioning): so any
 * authenticated user may use the RPC under its own client id. That grants nothing the shared
 * bootstrap password does not already grant, and the RPC itself demands a provisioning key.
 * Mosquitto denies pattern access to a client id containing '+' or '#' (src/security_default.c;
 * test/ingest/provisioning: client id '#' receives nothing), so an id cannot widen a pattern; an id with '/' only yields deeper topics, which the provisioning
 * service (subscribed to `request/+`) never reads.
 */
export function bootstrapRules(): Rule[] {
  return [
    { access: 'write', topic: topics.provisionRequest('%c') },
    { access: 'read', topic: topics.provisionResponse('%c') },
  ];
}

function rulesOf(p: AnyPrincipal): Rule[] {
  if (p.role === 'gateway') return gatewayRules(p.torg, p.gateway);
  if (p.role === 'bootstrap') return [];
  return p.role === 'ingest' ? ingestRules() : adminRules();
}

/**
 * The `acl_file` content, one `user` block per principal, in input order. The bootstrap user's
 * block is empty and the provisioning patterns come last, once, because they are global (see
 * bootstrapRules); they are rendered only when a bootstrap user exists.
 */
export function renderAclFile(input: readonly AnyPrincipal[]): string {
  const principals = parsePrincipals(input);
  const out = [
    '# Generated by ingest/broker-acl/mosquitto-acl.ts from the registry. Do not edit by hand.',
    '# No rule precedes the first "user" line: anonymous clients get no access.',
  ];
  for (const p of principals) {
    const who = p.role === 'gateway' ? `gateway ${p.torg}/${p.gateway}` : p.role;
    out.push('', `# ${who}`, `user ${p.username}`, ...rulesOf(p).map((r) => `topic ${r.access} ${r.topic}`));
  }
  if (principals.some((p) => p.role === 'bootstrap')) {
    out.push('', '# provisioning RPC, every user under its own client id (pattern lines are global)', ...bootstrapRules().map((r) => `pattern ${r.access} ${r.topic}`));
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
 * Hashes passwords with Debian's `mosquitto_passwd` itself so the format is exactly the broker's
 * (Mosquitto 2.0: `$7$` = PBKDF2-SHA512 with 101 iterations and a random salt, mosquitto_passwd(1)).
 * The plaintext goes through a 0600 file in a private temp dir and `-U` (hash every entry in place)
 * rather than `-b user password`, which would put every password on a command line visible in `ps`.
 * The temp dir is removed whatever happens. Returns username → hash, in input order.
 */
export async function hashPasswords(
  entries: readonly { username: string; password: string }[],
  opts: { mosquittoPasswd?: string } = {},
): Promise<Map<string, string>> {
  const parsed = z.array(z.object({ username: usernameSchema, password: passwordSchema })).safeParse(entries);
  if (!parsed.success) {
    const detail = parsed.error.issues.slice(0, 10).map((i) => `entries[${i.path.join('].')}: ${i.message}`).join('; ');
    throw new PlatformError('E_CONFIG_INVALID', `broker passwords: ${detail}`);
  }
  if (parsed.data.length === 0) return new Map();
  const dir = await mkdtemp(join(tmpdir(), 'itorg-passwd-'));
  try {
    const file = join(dir, 'passwd');
    await writeFile(file, parsed.data.map((p) => `${p.username}:${p.password}\n`).join(''), { mode: 0o600 });
    await run(opts.mosquittoPasswd ?? MOSQUITTO_PASSWD_DEFAULT, ['-U', file]);
    const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.length > 0);
    const out = new Map<string, string>();
    for (const line of lines) {
      const sep = line.indexOf(':');
      const hash = line.slice(sep + 1);
      // A plaintext line left behind would be a clear-text password in the broker's file.
      if (sep <= 0 || !passwordHashSchema.safeParse(hash).success) throw new PlatformError('E_CONFIG_INVALID', 'mosquitto_passwd -U did not hash every entry');
      out.set(line.slice(0, sep), hash);
    }
    if (out.size !== parsed.data.length) throw new PlatformError('E_CONFIG_INVALID', 'mosquitto_passwd -U did not hash every entry');
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The `password_file` content for principals with plaintext passwords (hashed by hashPasswords). */
export async function renderPasswordFile(input: readonly Principal[], opts: { mosquittoPasswd?: string } = {}): Promise<string> {
  const principals = parsePrincipals(input) as Principal[];
  const hashes = await hashPasswords(principals, opts);
  return renderHashedPasswordFile(principals.map((p) => ({ username: p.username, hash: hashes.get(p.username)! })));
}

/** The `password_file` content from stored hashes; no plaintext involved. */
export function renderHashedPasswordFile(entries: readonly { username: string; hash: string }[]): string {
  const parsed = z.array(z.object({ username: usernameSchema, hash: passwordHashSchema })).safeParse(entries);
  if (!parsed.success) throw new PlatformError('E_CONFIG_INVALID', `broker password hashes: ${parsed.error.issues.slice(0, 5).map((i) => i.path.join('.')).join(', ')} invalid`);
  return parsed.data.map((e) => `${e.username}:${e.hash}\n`).join('');
}

/**
 * Replaces `file` atomically: a temp file in the same directory, then rename(2), so the broker
 * reading on SIGHUP sees either the old or the new file, never a half-written one (POSIX rename).
 */
async function replaceFile(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, { mode });
    // writeFile's mode is filtered by the umask; chmod sets it exactly.
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

export interface BrokerAuthFiles {
  passwordFile: string;
  aclFile: string;
  /** The config lines to append to the base config. */
  config: string;
}

/** Writes `passwd` (0600) and `acl` into `dir`, each replaced atomically. */
export async function writeBrokerAuthFiles(dir: string, principals: readonly AnyPrincipal[], opts: { mosquittoPasswd?: string } = {}): Promise<BrokerAuthFiles> {
  const parsed = parsePrincipals(principals);
  const plain = parsed.filter((p): p is Principal => 'password' in p);
  const hashes = await hashPasswords(plain, opts);
  const passwd = renderHashedPasswordFile(parsed.map((p) => ({ username: p.username, hash: 'hash' in p ? p.hash : hashes.get(p.username)! })));
  const acl = renderAclFile(parsed);
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  // Password file first: a SIGHUP from elsewhere (logrotate) between the renames then sees a new user
  // without rules, which has no access.
  await replaceFile(passwordFile, passwd, 0o600);
  await replaceFile(aclFile, acl, 0o644);
  return { passwordFile, aclFile, config: securityConfigLines({ passwordFile, aclFile }) };
}

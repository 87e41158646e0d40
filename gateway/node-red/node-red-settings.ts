/**
 * The gateway config's settings for the embedded Node-RED (listen host, adminAuth, credentialSecret)
 * and their translation into Node-RED's own settings. gateway/config.ts embeds the schemas in its
 * `nodered` source; gateway/main.ts turns a parsed source into options for startEmbeddedNodeRed().
 *
 * Node-RED's security model (https://nodered.org/docs/user-guide/runtime/securing-node-red): without
 * adminAuth anyone who reaches the editor can deploy a flow, and a flow can run arbitrary code
 * (function and exec nodes). Loopback-only is therefore the default, and any other listen address
 * is refused unless adminAuth is configured.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';

/** Environment variable that may hold the credential secret, so it need not be written in the config file. */
export const NODE_RED_CREDENTIAL_SECRET_ENV = 'GATEWAY_NODE_RED_CREDENTIAL_SECRET';

/** Node-RED's default listen host for the embedded editor: the container's or box's loopback. */
export const NODE_RED_DEFAULT_HOST = '127.0.0.1';

/** True when `host` only accepts connections from the same machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  const family = isIP(bare);
  // RFC 1122 §3.2.1.3: all of 127.0.0.0/8 is loopback; RFC 4291 §2.5.3: ::1 is the IPv6 one.
  if (family === 4) return bare.startsWith('127.');
  if (family === 6) {
    // The WHATWG URL parser writes an IPv6 address in its canonical short form (::1, ::ffff:7f00:1).
    const canonical = new URL(`http://[${bare}]/`).hostname;
    return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:/.test(canonical);
  }
  return false;
}

/**
 * bcrypt as Node-RED checks it (bcryptjs.compare in @node-red/editor-api/lib/auth/users.js): the
 * modular-crypt form $2a$/$2b$/$2y$, two-digit cost, 22 salt + 31 hash characters.
 */
const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export const nodeRedAdminAuthSchema = z
  .object({
    users: z
      .array(
        z
          .object({
            username: z.string().min(1),
            /** bcrypt hash of the password: `npx node-red admin hash-pw` prints one. Never the password itself. */
            passwordHash: z.string().regex(BCRYPT_HASH, 'must be a bcrypt hash ($2b$10$…); make one with `npx node-red admin hash-pw`'),
            /** Node-RED permission scope: "*" full access, "read" view only. */
            permissions: z.enum(['*', 'read']).default('*'),
          })
          .strict(),
      )
      .min(1),
    /** Lifetime of an editor login; Node-RED's default is 7 days. */
    sessionExpirySeconds: z.number().int().min(60).optional(),
  })
  .strict();

export type NodeRedAdminAuthConfig = z.infer<typeof nodeRedAdminAuthSchema>;

/**
 * Login for the flows' http-in endpoints under /api (Node-RED's `httpNodeAuth`): adminAuth guards the
 * editor only, and an http-in flow that feeds the outbox would otherwise take readings from anyone
 * who reaches the port.
 */
export const nodeRedHttpNodeAuthSchema = z
  .object({
    username: z.string().min(1).regex(/^[^:]*$/, 'must not contain ":" (RFC 7617 §2)'),
    passwordHash: z.string().regex(BCRYPT_HASH, 'must be a bcrypt hash ($2b$10$…); make one with `npx node-red admin hash-pw`'),
  })
  .strict();
export type NodeRedHttpNodeAuthConfig = z.infer<typeof nodeRedHttpNodeAuthSchema>;

/**
 * Node-RED hashes any string into its AES key (sha256, @node-red/runtime/lib/nodes/credentials.js);
 * the minimum only keeps a guessable word out.
 */
export const credentialSecretSchema = z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 32`)');

/** Node-RED's `adminAuth` setting for the configured users (type "credentials"). */
export function toNodeRedAdminAuth(auth: NodeRedAdminAuthConfig): Record<string, unknown> {
  return {
    type: 'credentials',
    users: auth.users.map((u) => ({ username: u.username, password: u.passwordHash, permissions: u.permissions })),
    ...(auth.sessionExpirySeconds !== undefined ? { sessionExpiryTime: auth.sessionExpirySeconds } : {}),
  };
}

/** The config's credentialSecret, else GATEWAY_NODE_RED_CREDENTIAL_SECRET; both set and different is an error. */
export function resolveCredentialSecret(configured: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const raw = env[NODE_RED_CREDENTIAL_SECRET_ENV];
  // Compose's `${VAR:-}` passes an unset variable as the empty string.
  if (raw === undefined || raw === '') return configured;
  const parsed = credentialSecretSchema.safeParse(raw);
  if (!parsed.success) throw new PlatformError('E_CONFIG_INVALID', `${NODE_RED_CREDENTIAL_SECRET_ENV}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  if (configured !== undefined && configured !== parsed.data) {
    throw new PlatformError('E_CONFIG_INVALID', `credentialSecret is set both in the config file and in ${NODE_RED_CREDENTIAL_SECRET_ENV}, with different values; keep one`);
  }
  return parsed.data;
}

/** The config error for a non-loopback listen host without adminAuth, or undefined when the pair is safe. */
export function unsafeHostProblem(host: string, adminAuth: unknown): string | undefined {
  if (isLoopbackHost(host) || adminAuth !== undefined) return undefined;
  return `Node-RED would listen on ${host} without adminAuth, so anyone on that network could deploy flows that run code; set adminAuth or keep host 127.0.0.1`;
}

/** The part of a parsed `nodered` source that becomes startEmbeddedNodeRed() options. */
export interface NodeRedSourceSettings {
  host?: string | undefined;
  adminAuth?: NodeRedAdminAuthConfig | undefined;
  httpNodeAuth?: NodeRedHttpNodeAuthConfig | undefined;
  credentialSecret?: string | undefined;
}

export function embeddedNodeRedSecurity(
  source: NodeRedSourceSettings,
  env: Readonly<Record<string, string | undefined>>,
): { host?: string; adminAuth?: Record<string, unknown>; httpNodeAuth?: { user: string; pass: string }; credentialSecret?: string } {
  const credentialSecret = resolveCredentialSecret(source.credentialSecret, env);
  return {
    ...(source.host !== undefined ? { host: source.host } : {}),
    ...(source.adminAuth !== undefined ? { adminAuth: toNodeRedAdminAuth(source.adminAuth) } : {}),
    ...(source.httpNodeAuth !== undefined ? { httpNodeAuth: { user: source.httpNodeAuth.username, pass: source.httpNodeAuth.passwordHash } } : {}),
    ...(credentialSecret !== undefined ? { credentialSecret } : {}),
  };
}

/**
 * Operations through the HTTP API (issue 4 "CLI"): devices (list, pending, assign, decommission),
 * provisioning keys (list, create, rotate, disable) and API tokens (list, create, revoke), plus
 * `tokens bootstrap`, which writes the first admin token straight into the SQLite file of a fresh
 * install (there is no token yet to call the API with). Paths and bodies: the agreed route table
 * (ingest/api: registry, provisioning and core routes).
 *
 * The API token comes from `--token` or, preferably, ITORG_API_TOKEN (an argument is visible in the
 * process list and shell history); it is never printed, not even as a default in `--help`.
 *
 * Exit codes: 0 ok, 1 the API refused (its code and message are printed), 2 usage error,
 * 3 the API could not be reached.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { ROLES } from '../ingest/api/route.ts';
import { SqliteTokenStore } from '../ingest/api/token-store.ts';
import { slugSchema } from '../devices/contract/reading.schema.ts';
import { API_EXIT, API_EXIT_HELP as EXIT_HELP, UnexpectedAnswer, apiCommand, runApiCall, type ApiClient, type Lang } from './api-client.ts';
import { isoSeconds, renderTable, type Column } from './table.ts';

export { API_EXIT };
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';
const DEVICE_STATUSES = ['pending', 'active', 'decommissioned'] as const;

export interface ApiCliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Readonly<Record<string, string | undefined>>;
  lang(): Lang;
  setExit(code: number): void;
  now(): number;
  fetch?: typeof fetch;
}

const TEXT = {
  nb: {
    assigned: (d: string, t: string, p: string) => `Enhet ${d} tilordnet ${t} ${p}`,
    decommissioned: (d: string) => `Enhet ${d} tatt ut av drift`,
    keyCreated: (t: string, id: string) => `Ny provisjoneringsnøkkel for ${t} (id ${id}). Den vises bare nå; oppbevar den trygt.`,
    keysDisabled: (ids: string) => `Deaktiverte nøkler: ${ids}`,
    keyDisabled: (id: string) => `Nøkkel ${id} deaktivert`,
    tokenCreated: (n: string, r: string, id: string) => `Nytt API-token "${n}" (${r}, id ${id}). Det vises bare nå; oppbevar det trygt.`,
    tokenRevoked: (id: string) => `Token ${id} trukket tilbake`,
    bootstrapExists: (n: number) => `databasen har allerede ${n} aktivt admin-token; bruk «tokens create», eller --force`,
    bootstrapNoDir: (d: string) => `mappen ${d} finnes ikke`,
    none: '(ingen)',
    h: { id: 'id', torg: 'torg', gateway: 'gateway', model: 'modell', status: 'status', place: 'plassering', liveness: 'tilstand', lastSeen: 'sist sett', name: 'navn', role: 'rolle', created: 'opprettet', expires: 'utløper', revoked: 'trukket', lastUsed: 'sist brukt', disabled: 'deaktivert' },
  },
  en: {
    assigned: (d: string, t: string, p: string) => `Device ${d} assigned to ${t} ${p}`,
    decommissioned: (d: string) => `Device ${d} decommissioned`,
    keyCreated: (t: string, id: string) => `New provisioning key for ${t} (id ${id}). It is shown only now; keep it safe.`,
    keysDisabled: (ids: string) => `Disabled keys: ${ids}`,
    keyDisabled: (id: string) => `Key ${id} disabled`,
    tokenCreated: (n: string, r: string, id: string) => `New API token "${n}" (${r}, id ${id}). It is shown only now; keep it safe.`,
    tokenRevoked: (id: string) => `Token ${id} revoked`,
    bootstrapExists: (n: number) => `the database already has ${n} active admin token(s); use "tokens create", or --force`,
    bootstrapNoDir: (d: string) => `the folder ${d} does not exist`,
    none: '(none)',
    h: { id: 'id', torg: 'torg', gateway: 'gateway', model: 'model', status: 'status', place: 'place', liveness: 'liveness', lastSeen: 'last seen', name: 'name', role: 'role', created: 'created', expires: 'expires', revoked: 'revoked', lastUsed: 'last used', disabled: 'disabled' },
  },
} as const;

// ---------------------------------------------------------------------------------------------
// Answers. Loose where the routes may add fields; the table shows what it knows.

const placeSchema = z.union([
  z.looseObject({ type: z.literal('zone'), zone: z.string() }),
  z.looseObject({ type: z.literal('entrance'), entrance: z.string(), line: z.string() }),
]);
const deviceRowSchema = z.looseObject({
  id: z.string(),
  torg: z.string().optional(),
  gateway: z.string().optional(),
  model: z.string().optional(),
  status: z.string().optional(),
  lastSeenAt: z.number().nullable().optional(),
  place: placeSchema.nullable().optional(),
  assignment: z.looseObject({ place: placeSchema.nullable().optional() }).nullable().optional(),
  liveness: z.union([z.string(), z.looseObject({ state: z.string().optional(), lastSeenAt: z.number().nullable().optional() })]).nullable().optional(),
  state: z.string().optional(),
});
type DeviceRow = z.infer<typeof deviceRowSchema>;
const keyRecordSchema = z.looseObject({ id: z.string(), torg: z.string(), status: z.string(), createdAt: z.number(), disabledAt: z.number().nullable().optional() });
type KeyRow = z.infer<typeof keyRecordSchema>;
const keyCreatedSchema = z.looseObject({ key: z.string(), record: keyRecordSchema, disabled: z.array(z.string()).optional() });
const tokenRowSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  role: z.string(),
  createdAt: z.number(),
  expiresAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
  lastUsedAt: z.number().nullable(),
});
type TokenRow = z.infer<typeof tokenRowSchema>;
const tokenCreatedSchema = z.object({ token: z.string(), record: tokenRowSchema });


/** The rows of a list answer: the array itself, `body[key]`, or the one array the object holds. */
function rowsOf<T>(body: unknown, key: string, schema: z.ZodType<T>): T[] {
  let list: unknown = body;
  if (!Array.isArray(body) && body !== null && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    const arrays = Object.values(o).filter(Array.isArray);
    list = Array.isArray(o[key]) ? o[key] : arrays.length === 1 ? arrays[0] : undefined;
  }
  return parseAnswer(list, z.array(schema), key);
}
function parseAnswer<T>(body: unknown, schema: z.ZodType<T>, what: string): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new UnexpectedAnswer(`${what}: ${r.error.issues[0]?.path.join('.') ?? ''} ${r.error.issues[0]?.message ?? ''}`);
  return r.data;
}

function placeText(p: z.infer<typeof placeSchema> | null | undefined): string {
  if (!p) return '-';
  return p.type === 'zone' ? `zone:${p.zone}` : `entrance:${p.entrance}/${p.line}`;
}

// ---------------------------------------------------------------------------------------------
// Option parsers (a bad value is a usage error, exit 2)

function slug(v: string): string {
  const r = slugSchema.safeParse(v);
  if (!r.success) throw new InvalidArgumentError(r.error.issues[0]?.message ?? 'invalid id');
  return v;
}
/** An instant with an explicit offset: "08:00" alone would be UTC to the API and local time to a person in Asker. */
function isoInstant(v: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) throw new InvalidArgumentError('ISO 8601 with offset, e.g. 2026-11-24T09:00:00+01:00 or 2026-11-24T08:00:00Z');
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('not a valid instant');
  return ms;
}
function tokenId(v: string): string {
  if (!/^[a-z2-7]{12}$/.test(v)) throw new InvalidArgumentError('12 characters a-z, 2-7 (the id column of "tokens list")');
  return v;
}

// ---------------------------------------------------------------------------------------------

interface ApiOpts {
  api: string;
  token?: string;
  json?: boolean;
}

export function addApiCommands(program: Command, io: ApiCliIo): void {
  const t = () => TEXT[io.lang()];
  const out = (s: string) => io.stdout(s.endsWith('\n') ? s : `${s}\n`);
  const err = (s: string) => io.stderr(s.endsWith('\n') ? s : `${s}\n`);

  const group = (name: string, description: string) => apiCommand(program, io, name, description).addHelpText('after', EXIT_HELP);

  const apiOptions = (cmd: Command) =>
    cmd
      .addOption(new Option('--api <url>', 'API base URL (env ITORG_API_URL)').default(io.env['ITORG_API_URL'] ?? DEFAULT_API_URL))
      // No default shown: help output must never contain the token.
      .addOption(new Option('--token <token>', 'API token (prefer env ITORG_API_TOKEN)'))
      .option('--json', 'the API answer as JSON, for scripts')
      .addHelpText('after', EXIT_HELP);

  /** Runs one API command: client, errors → exit codes. */
  const run =
    <A extends unknown[]>(body: (client: ApiClient, o: ApiOpts, ...args: A) => Promise<void>) =>
    async (...args: [...A, ApiOpts, Command]) => {
      const command = args[args.length - 1] as Command;
      const o = command.opts<ApiOpts>();
      await runApiCall(io, command, o, (client) => body(client, o, ...(args.slice(0, -2) as A)), '(body)');
    };

  const printJson = (v: unknown) => out(JSON.stringify(v, null, 2));

  // ----- devices
  const devices = group('devices', 'enheter i registeret / devices in the registry');
  const deviceColumns = (): Column<DeviceRow>[] => {
    const h = t().h;
    return [
      { header: h.id, value: (d) => d.id },
      { header: h.torg, value: (d) => d.torg ?? '-' },
      { header: h.gateway, value: (d) => d.gateway ?? '-' },
      { header: h.model, value: (d) => d.model ?? '-' },
      { header: h.status, value: (d) => d.status ?? '-' },
      { header: h.place, value: (d) => placeText(d.assignment?.place ?? d.place) },
      { header: h.liveness, value: (d) => (typeof d.liveness === 'string' ? d.liveness : (d.liveness?.state ?? d.state ?? '-')) },
      { header: h.lastSeen, value: (d) => isoSeconds(d.lastSeenAt ?? (typeof d.liveness === 'object' ? d.liveness?.lastSeenAt : null)) },
    ];
  };
  const listDevices = async (client: ApiClient, o: ApiOpts, query: { torg?: string; status?: string }) => {
    const body = await client.request('GET', '/api/v1/devices', { query });
    const rows = rowsOf(body, 'devices', deviceRowSchema);
    if (o.json) printJson(body);
    else out(rows.length === 0 ? t().none : renderTable(rows, deviceColumns()));
  };

  const devList: Command = apiOptions(devices.command('list').description('list enheter / list devices'))
    .option('--torg <id>', 'torg id', slug)
    .addOption(new Option('--status <status>', 'status').choices(DEVICE_STATUSES))
    .action(run(async (client, o) => {
      const q = devList.opts<{ torg?: string; status?: string }>();
      await listDevices(client, o, { torg: q.torg, status: q.status });
    }));

  const devPending: Command = apiOptions(devices.command('pending').description('enheter som venter på tilordning / devices waiting to be assigned'))
    .option('--torg <id>', 'torg id', slug)
    .action(run(async (client, o) => {
      await listDevices(client, o, { torg: devPending.opts<{ torg?: string }>().torg, status: 'pending' });
    }));

  const devAssign: Command = apiOptions(devices.command('assign').description('tilordne en enhet til en sone eller tellelinje / assign a device to a zone or counting line'))
    .argument('<device>', 'device id (hardware id)')
    .requiredOption('--torg <id>', 'torg id', slug)
    .addOption(new Option('--zone <zone>', 'zone id').argParser(slug).conflicts(['entrance', 'line']))
    .addOption(new Option('--entrance <entrance>', 'entrance id').argParser(slug))
    .addOption(new Option('--line <line>', 'counting line id').argParser(slug))
    .option('--at <iso>', 'when it was placed there (ISO 8601 with offset); default now', isoInstant)
    .option('--move-torg', 'flytt enheten fra sitt torg til --torg / move the device from its torg to --torg')
    .action(run(async (client, o, device: string) => {
      const a = devAssign.opts<{ torg: string; zone?: string; entrance?: string; line?: string; at?: number; moveTorg?: boolean }>();
      let place: { type: 'zone'; zone: string } | { type: 'entrance'; entrance: string; line: string };
      if (a.zone !== undefined) place = { type: 'zone', zone: a.zone };
      else if (a.entrance !== undefined && a.line !== undefined) place = { type: 'entrance', entrance: a.entrance, line: a.line };
      else {
        devAssign.error('--zone <zone> or --entrance <entrance> --line <line> is required', { exitCode: API_EXIT.usage, code: 'itorg.place' });
        return;
      }
      const body = await client.request('POST', `/api/v1/devices/${encodeURIComponent(device)}/assign`, {
        body: { torg: a.torg, place, ...(a.at !== undefined ? { at: a.at } : {}), ...(a.moveTorg === true ? { moveTorg: true } : {}) },
      });
      if (o.json) printJson(body);
      else out(t().assigned(device, a.torg, placeText(place)));
    }));

  const devDecommission: Command = apiOptions(devices.command('decommission').description('ta en enhet ut av drift / decommission a device'))
    .argument('<device>', 'device id (hardware id)')
    .option('--at <iso>', 'when (ISO 8601 with offset); default now', isoInstant)
    .action(run(async (client, o, device: string) => {
      const at = devDecommission.opts<{ at?: number }>().at;
      const body = await client.request('POST', `/api/v1/devices/${encodeURIComponent(device)}/decommission`, { body: at !== undefined ? { at } : {} });
      if (o.json) printJson(body);
      else out(t().decommissioned(device));
    }));

  // ----- provisioning keys
  const keys = group('keys', 'provisjoneringsnøkler per torg / per-torg provisioning keys');
  const keyColumns = (): Column<KeyRow>[] => {
    const h = t().h;
    return [
      { header: h.id, value: (k) => k.id },
      { header: h.torg, value: (k) => k.torg },
      { header: h.status, value: (k) => k.status },
      { header: h.created, value: (k) => isoSeconds(k.createdAt) },
      { header: h.disabled, value: (k) => isoSeconds(k.disabledAt) },
    ];
  };
  const keysList: Command = apiOptions(keys.command('list').description('list nøkler (aldri hemmeligheten) / list keys (never the secret)'))
    .option('--torg <id>', 'torg id', slug)
    .action(run(async (client, o) => {
      const body = await client.request('GET', '/api/v1/provisioning-keys', { query: { torg: keysList.opts<{ torg?: string }>().torg } });
      const rows = rowsOf(body, 'keys', keyRecordSchema);
      if (o.json) printJson(body);
      else out(rows.length === 0 ? t().none : renderTable(rows, keyColumns()));
    }));

  /** The secret alone on stdout (so `$(…)` captures it); the explanation on stderr. */
  const printKey = (o: ApiOpts, body: unknown) => {
    const k = parseAnswer(body, keyCreatedSchema, 'key');
    if (o.json) return printJson(body);
    out(k.key);
    err(t().keyCreated(k.record.torg, k.record.id));
    if (k.disabled !== undefined && k.disabled.length > 0) err(t().keysDisabled(k.disabled.join(', ')));
  };
  const keysCreate: Command = apiOptions(keys.command('create').description('ny nøkkel for et torg / new key for a torg'))
    .requiredOption('--torg <id>', 'torg id', slug)
    .action(run(async (client, o) => {
      printKey(o, await client.request('POST', '/api/v1/provisioning-keys', { body: { torg: keysCreate.opts<{ torg: string }>().torg } }));
    }));
  const keysRotate: Command = apiOptions(keys.command('rotate').description('ny nøkkel; torgets andre aktive nøkler deaktiveres / new key; the torg’s other active keys are disabled'))
    .requiredOption('--torg <id>', 'torg id', slug)
    .action(run(async (client, o) => {
      printKey(o, await client.request('POST', '/api/v1/provisioning-keys/rotate', { body: { torg: keysRotate.opts<{ torg: string }>().torg } }));
    }));
  apiOptions(keys.command('disable').description('deaktiver en nøkkel / disable a key'))
    .argument('<id>', 'key id (the id column of "keys list")', tokenId)
    .action(run(async (client, o, id: string) => {
      const body = await client.request('POST', `/api/v1/provisioning-keys/${encodeURIComponent(id)}/disable`);
      const rec = parseAnswer(body, keyRecordSchema, 'key');
      if (o.json) printJson(body);
      else out(t().keyDisabled(rec.id));
    }));

  // ----- API tokens
  const tokens = group('tokens', 'API-tokener / API tokens');
  const tokenColumns = (): Column<TokenRow>[] => {
    const h = t().h;
    return [
      { header: h.id, value: (r) => r.id },
      { header: h.name, value: (r) => r.name },
      { header: h.role, value: (r) => r.role },
      { header: h.created, value: (r) => isoSeconds(r.createdAt) },
      { header: h.expires, value: (r) => isoSeconds(r.expiresAt) },
      { header: h.revoked, value: (r) => isoSeconds(r.revokedAt) },
      { header: h.lastUsed, value: (r) => isoSeconds(r.lastUsedAt) },
    ];
  };
  const printToken = (o: ApiOpts, body: unknown) => {
    const c = parseAnswer(body, tokenCreatedSchema, 'token');
    if (o.json) return printJson(body);
    out(c.token);
    err(t().tokenCreated(c.record.name, c.record.role, c.record.id));
  };
  apiOptions(tokens.command('list').description('list tokener (aldri hemmeligheten) / list tokens (never the secret)')).action(
    run(async (client, o) => {
      const body = await client.request('GET', '/api/v1/tokens');
      const rows = rowsOf(body, 'tokens', tokenRowSchema);
      if (o.json) printJson(body);
      else out(rows.length === 0 ? t().none : renderTable(rows, tokenColumns()));
    }),
  );
  const tokCreate: Command = apiOptions(tokens.command('create').description('nytt token; vises bare én gang / new token; shown once'))
    .requiredOption('--name <name>', 'who or what uses it (e.g. "skjerm resepsjon")')
    .addOption(new Option('--role <role>', 'role').choices(ROLES).makeOptionMandatory())
    .option('--expires <iso>', 'expiry (ISO 8601 with offset); default none', isoInstant)
    .action(run(async (client, o) => {
      const c = tokCreate.opts<{ name: string; role: string; expires?: number }>();
      printToken(o, await client.request('POST', '/api/v1/tokens', { body: { name: c.name, role: c.role, ...(c.expires !== undefined ? { expiresAt: c.expires } : {}) } }));
    }));
  apiOptions(tokens.command('revoke').description('trekk tilbake et token / revoke a token'))
    .argument('<id>', 'token id (the id column of "tokens list")', tokenId)
    .action(run(async (client, o, id: string) => {
      const body = await client.request('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
      if (o.json) printJson(body);
      else out(t().tokenRevoked(id));
    }));

  const tokBootstrap: Command = tokens
    .command('bootstrap')
    .description('første admin-token rett i SQLite-filen (ny installasjon) / first admin token directly in the SQLite file (fresh install)')
    .requiredOption('--db <file>', 'the registry SQLite file the API uses')
    .requiredOption('--name <name>', 'who holds it')
    .option('--force', 'even when the file already has an active admin token')
    .option('--json', 'token and record as JSON')
    .addHelpText('after', EXIT_HELP)
    .action(async (o: { db: string; name: string; force?: boolean; json?: boolean }) => {
      const path = resolve(o.db);
      if (!existsSync(dirname(path))) {
        tokBootstrap.error(t().bootstrapNoDir(dirname(path)), { exitCode: API_EXIT.usage, code: 'itorg.noDir' });
        return;
      }
      const store = new SqliteTokenStore({ path, now: io.now });
      try {
        const now = io.now();
        const admins = (await store.list()).filter((r) => r.role === 'admin' && r.revokedAt === null && (r.expiresAt === null || r.expiresAt > now));
        if (admins.length > 0 && !o.force) {
          err(t().bootstrapExists(admins.length));
          io.setExit(API_EXIT.refused);
          return;
        }
        const created = await store.create({ name: o.name, role: 'admin' });
        if (o.json) printJson(created);
        else {
          out(created.token);
          err(t().tokenCreated(created.record.name, created.record.role, created.record.id));
        }
        io.setExit(API_EXIT.ok);
      } finally {
        await store.close();
      }
    });
}

/**
 * `innbyggertorg`: the command line (npm run cli -- <command>). Composition root: parses options,
 * builds the concrete InfluxDB writer / MQTT client and hands them to the commands.
 *
 * Exit codes of import, publish, decode, simulate: 0 everything accepted, 2 some rows/lines
 * rejected, 1 the command failed. Of the API commands (devices, keys, tokens; cli/api-commands.ts):
 * 0 ok, 1 the API refused, 2 usage error, 3 the API could not be reached.
 * Texts are Norwegian bokmål by default; `--lang en` (or env ITORG_LANG=en) for English.
 */
import { createReadStream, statSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import mqtt from 'mqtt';
import pino from 'pino';
import { z } from 'zod';
import { PlatformError } from '../devices/contract/errors.ts';
import { INFLUX_DB_DEFAULT, RP_RAW } from '../devices/contract/influx-layout.ts';
import { MAX_READINGS_PER_ENVELOPE, slugSchema } from '../devices/contract/reading.schema.ts';
import { DEFAULT_MAX_AGE_MS } from '../devices/contract/validate.ts';
import { InfluxWriter } from '../ingest/influx-writer.ts';
import { EnvelopePublisher } from '../simulator/envelope-publisher.ts';
import { addSimulatorOptions, processDeps, runSimulator, type SimulatorOptions } from '../simulator/main.ts';
import { addApiCommands, type ApiCliIo } from './api-commands.ts';
import { addBrokerCommands } from './broker-commands.ts';
import { addMetricsCommands } from './metrics-commands.ts';
import { addReportCommands } from './report-commands.ts';
import { DECODE_ENVELOPES, runDecode, type DecodeEnvelope } from './decode.ts';
import { importCsv, type ImportSummary } from './import-csv.ts';
import { publishJsonLines } from './publish-stdin.ts';

type Lang = 'nb' | 'en';
const TEXT = {
  nb: {
    imported: (s: ImportSummary) => `Importert: ${s.rows} rader, ${s.accepted} godtatt, ${s.rejected} avvist`,
    published: (v: number, b: number, e: number) => `Publisert: ${v} målinger i ${e} konvolutter, ${b} linjer avvist`,
    reason: 'avvist etter årsak',
    firstRejected: 'første avviste rader',
    line: 'linje',
    failed: 'Feilet',
  },
  en: {
    imported: (s: ImportSummary) => `Imported: ${s.rows} rows, ${s.accepted} accepted, ${s.rejected} rejected`,
    published: (v: number, b: number, e: number) => `Published: ${v} readings in ${e} envelopes, ${b} lines rejected`,
    reason: 'rejected by reason',
    firstRejected: 'first rejected rows',
    line: 'line',
    failed: 'Failed',
  },
} as const;

function slug(v: string): string {
  const r = slugSchema.safeParse(v);
  if (!r.success) throw new InvalidArgumentError(r.error.issues[0]?.message ?? 'invalid id');
  return v;
}
function positiveInt(max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`must be an integer 1..${max}`);
    return n;
  };
}

const showDatabases = z.object({
  results: z.array(z.object({ series: z.array(z.object({ values: z.array(z.array(z.unknown())).optional() })).optional(), error: z.string().optional() })),
});

/** Fails fast when InfluxDB is down or the database is missing: the writer would retry forever. */
async function checkInflux(url: string, db: string): Promise<void> {
  let body: unknown;
  try {
    const res = await fetch(new URL(`query?q=${encodeURIComponent('SHOW DATABASES')}`, url.endsWith('/') ? url : `${url}/`), {
      signal: AbortSignal.timeout(10_000),
    });
    body = await res.json();
  } catch (err) {
    throw new PlatformError('E_INFLUX_UNAVAILABLE', `${url}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = showDatabases.safeParse(body);
  if (!parsed.success) throw new PlatformError('E_INFLUX_UNAVAILABLE', `${url}: unexpected answer to SHOW DATABASES`);
  const names = parsed.data.results.flatMap((r) => r.series ?? []).flatMap((s) => s.values ?? []).map((v) => v[0]);
  if (!names.includes(db)) throw new PlatformError('E_CONFIG_INVALID', `database "${db}" does not exist on ${url} (have: ${names.join(', ')})`);
}

interface GlobalOpts {
  lang: Lang;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('innbyggertorg')
    .description('Sensorplattform for innbyggertorgene / sensor platform for the innbyggertorg')
    .addOption(new Option('--lang <lang>', 'språk / language').choices(['nb', 'en']).default(process.env['ITORG_LANG'] === 'en' ? 'en' : 'nb'))
    .showHelpAfterError();
  const t = () => TEXT[program.opts<GlobalOpts>().lang];
  const log = (s: string) => process.stderr.write(`${s}\n`);

  program
    .command('import')
    .description('importer historiske målinger fra CSV til InfluxDB / import historical readings from CSV')
    .argument('<file>', 'CSV: time,device,kind,<contract fields>')
    .requiredOption('--torg <id>', 'torg id', slug)
    .requiredOption('--gateway <id>', 'gateway id the readings came through', slug)
    .option('--influx-url <url>', 'InfluxDB v1 HTTP API', process.env['INFLUX_URL'] ?? 'http://localhost:8086')
    .option('--db <name>', 'database', INFLUX_DB_DEFAULT)
    .option('--rp <name>', 'retention policy', RP_RAW)
    .option('--max-age-days <n>', 'oldest accepted reading, days (historical imports; keep within the RP duration)', positiveInt(100_000), DEFAULT_MAX_AGE_MS / 86_400_000)
    .option('--batch <n>', 'points per write', positiveInt(50_000), 5000)
    .option('--max-retries <n>', 'give up after this many failed write attempts in a row', positiveInt(1000), 10)
    .action(async (file: string, o: { torg: string; gateway: string; influxUrl: string; db: string; rp: string; maxAgeDays: number; batch: number; maxRetries: number }) => {
      await checkInflux(o.influxUrl, o.db);
      let retries = 0;
      const writer: InfluxWriter = new InfluxWriter({
        url: o.influxUrl,
        db: o.db,
        rp: o.rp,
        onRetry: (info) => {
          retries++;
          log(`InfluxDB: ${info.kind} ${info.status ?? ''} ${info.message} (attempt ${info.attempt})`);
          // A CLI has a person waiting: stop after a bounded number of attempts instead of forever.
          if (retries >= o.maxRetries) void writer.close();
        },
        onAttempt: (kind) => {
          if (kind === 'ok') retries = 0;
        },
      });
      const size = statSync(file).size;
      const stream = createReadStream(file);
      const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, format: '{bar} {percentage}% | {rows} rader/rows' }) : undefined;
      bar?.start(size, 0, { rows: 0 });
      let summary: ImportSummary;
      try {
        summary = await importCsv(stream, writer, {
          torg: o.torg,
          now: Date.now(),
          maxAgeMs: o.maxAgeDays * 86_400_000,
          batchSize: o.batch,
          onProgress: (rows) => {
            if (rows % 1000 === 0) bar?.update(stream.bytesRead, { rows });
          },
        });
        bar?.update(size, { rows: summary.rows });
      } finally {
        bar?.stop();
        await writer.close();
      }
      const tx = t();
      process.stdout.write(`${tx.imported(summary)}\n`);
      if (summary.rejected > 0) {
        process.stdout.write(`${tx.reason}:\n`);
        for (const [reason, n] of Object.entries(summary.rejectedByReason)) process.stdout.write(`  ${reason}: ${n}\n`);
        process.stdout.write(`${tx.firstRejected}:\n`);
        for (const r of summary.firstRejected) process.stdout.write(`  ${tx.line} ${r.line}: ${r.reason}: ${r.detail}\n`);
      }
      setExit(summary.rejected > 0 ? 2 : 0);
    });

  program
    .command('publish')
    .description('publiser målinger (JSON-linjer på stdin) til MQTT / publish readings (JSON lines on stdin)')
    .requiredOption('--torg <id>', 'torg id', slug)
    .requiredOption('--gateway <id>', 'gateway id to publish as', slug)
    .option('--mqtt-url <url>', 'MQTT broker', process.env['SIM_MQTT_URL'] ?? 'mqtt://localhost:1883')
    .option('--batch <n>', 'readings per envelope', positiveInt(MAX_READINGS_PER_ENVELOPE), 500)
    .option('--max-age-days <n>', 'oldest accepted reading, days (the ingest refuses older ones)', positiveInt(100_000), DEFAULT_MAX_AGE_MS / 86_400_000)
    .action(async (o: { torg: string; gateway: string; mqttUrl: string; batch: number; maxAgeDays: number }) => {
      const client = await mqtt.connectAsync(o.mqttUrl, { clean: true, reconnectPeriod: 1000, connectTimeout: 10_000 }).catch((err: unknown) => {
        throw new PlatformError('E_MQTT_UNAVAILABLE', `${o.mqttUrl}: ${(err as Error).message}`, { cause: err });
      });
      const tx = t();
      try {
        const publisher = new EnvelopePublisher({ client, batchSize: o.batch, maxInFlight: 16, clock: () => Date.now(), seqStart: Date.now() });
        const s = await publishJsonLines(process.stdin, publisher, {
          torg: o.torg,
          gateway: o.gateway,
          clock: () => Date.now(),
          maxAgeMs: o.maxAgeDays * 86_400_000,
          onBadLine: (line, reason, detail) => log(`${tx.line} ${line}: ${reason}: ${detail}`),
        });
        process.stdout.write(`${tx.published(publisher.stats.readings, s.bad, publisher.stats.envelopes)}\n`);
        for (const [reason, n] of Object.entries(s.badByReason)) process.stdout.write(`  ${reason}: ${n}\n`);
        setExit(s.bad > 0 ? 2 : 0);
      } finally {
        await client.endAsync();
      }
    });

  program
    .command('decode')
    .description('dekod en nyttelast eller en melding til målinger (JSON) / decode a payload or message to readings (JSON)')
    .option('--model <id>', 'device model id (see --list-models)')
    .option('--fport <n>', 'LoRaWAN fPort of the payload', positiveInt(223))
    .option('--hex <bytes>', 'payload as hex')
    .option('--base64 <bytes>', 'payload as base64')
    .option('--device <devEui>', 'device id stamped on the readings')
    .option('--time <iso>', 'observation time stamped on the readings (default: now)')
    .addOption(new Option('--envelope <format>', 'decode a whole message instead of bytes').choices(DECODE_ENVELOPES))
    .option('--file <file>', 'the message for --envelope; - for stdin')
    .option('--secret <secret>', 'DT Data Connector signature secret')
    .option('--signature <token>', 'DT X-Dt-Signature header value')
    .option('--no-verify', 'skip DT signature verification')
    .option('--list-models', 'list device model ids with vendor, model and kinds')
    .action(async (o: { model?: string; fport?: number; hex?: string; base64?: string; device?: string; time?: string; envelope?: DecodeEnvelope; file?: string; secret?: string; signature?: string; verify: boolean; listModels?: boolean }) => {
      const code = await runDecode(o, {
        stdout: (s) => process.stdout.write(s),
        stderr: (s) => process.stderr.write(s),
        stdin: process.stdin,
        now: () => Date.now(),
        lang: program.opts<GlobalOpts>().lang,
      });
      setExit(code);
    });

  addSimulatorOptions(
    program.command('simulate').description('simuler sensorene og publiser til MQTT / simulate the sensors and publish to MQTT'),
  ).action(async (o: SimulatorOptions) => {
    await runSimulator(o, processDeps(pino({ name: 'simulator' }, pino.destination(2))));
    setExit(0);
  });

  const apiIo: ApiCliIo = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    lang: () => program.opts<GlobalOpts>().lang,
    setExit,
    now: () => Date.now(),
  };
  addApiCommands(program, apiIo);
  addBrokerCommands(program, apiIo);
  addMetricsCommands(program, apiIo);
  addReportCommands(program, apiIo);
  return program;
}

async function main(): Promise<void> {
  let code = 1;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync();
  } catch (err) {
    // The API commands' usage errors (exit 2) and help (exit 0): commander has printed the message.
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const lang: Lang = program.opts<GlobalOpts>().lang ?? 'nb';
    const retry = err instanceof PlatformError ? (err.retriable ? ' (retriable)' : '') : '';
    process.stderr.write(`${TEXT[lang].failed}: ${err instanceof Error ? err.message : String(err)}${retry}\n`);
    code = 1;
  }
  process.exitCode = code;
}

await main();

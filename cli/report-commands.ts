/**
 * `report --month 2026-10 [--out DIR] [--lang nb|en] [--format pdf,html]` (issue 7): the monthly report
 * for prosjektstyre, fetched from GET /api/v1/report and written as files. Same conventions as the
 * other API commands (cli/api-client.ts): token from ITORG_API_TOKEN (or --token), exit codes 0 ok,
 * 1 the API refused, 2 usage error, 3 the API could not be reached.
 * The PDF and HTML are read as bytes through ApiClient.requestBytes, so refusals and an unreachable
 * API are reported, with their exit codes, as for every other command.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseLocalPeriod } from '../dashboards/metrics/metrics-routes.ts';
import { previousOsloMonth } from '../dashboards/report/report-routes.ts';
import { reportFileName, writeFileAtomic } from '../dashboards/report/report-job.ts';
import { DEFAULT_API_URL, type ApiCliIo } from './api-commands.ts';
import { API_EXIT_HELP, UnexpectedAnswer, apiCommand, runApiCall, type ApiClient } from './api-client.ts';

type FileFormat = 'pdf' | 'html';
const CONTENT_TYPE: Record<FileFormat, string> = { pdf: 'application/pdf', html: 'text/html' };
/** A PDF render takes seconds on a loaded server; the other commands' 15 s would cut it off. */
const REPORT_TIMEOUT_MS = 180_000;

const TEXT = {
  nb: { wrote: (f: string) => `Skrev ${f}` },
  en: { wrote: (f: string) => `Wrote ${f}` },
} as const;

function month(v: string): string {
  if (!/^\d{4}-\d{2}$/.test(v) || parseLocalPeriod(v) === null) throw new InvalidArgumentError('a month, YYYY-MM (e.g. 2026-10)');
  return v;
}
function formats(v: string): FileFormat[] {
  const list = [...new Set(v.split(',').map((s) => s.trim()))];
  if (list.length === 0 || list.some((f) => f !== 'pdf' && f !== 'html')) throw new InvalidArgumentError('pdf, html or pdf,html');
  return list as FileFormat[];
}

/** One report file from the API as bytes (a JSON refusal or an unreachable API is thrown as for every command). */
async function fetchReport(client: ApiClient, o: { month: string; format: FileFormat; lang: 'nb' | 'en' }): Promise<Buffer> {
  const { bytes, contentType } = await client.requestBytes('api/v1/report', {
    query: { month: o.month, format: o.format, lang: o.lang },
    accept: CONTENT_TYPE[o.format],
    timeoutMs: REPORT_TIMEOUT_MS,
  });
  if (!contentType.startsWith(CONTENT_TYPE[o.format])) throw new UnexpectedAnswer(`report: ${contentType || 'no content type'} instead of ${CONTENT_TYPE[o.format]}`);
  if (o.format === 'pdf' && bytes.subarray(0, 5).toString('latin1') !== '%PDF-') throw new UnexpectedAnswer('report: the answer is not a PDF');
  return bytes;
}

export function addReportCommands(program: Command, io: ApiCliIo): void {
  const cmd: Command = apiCommand(program, io, 'report', 'månedsrapport til prosjektstyret som PDF og HTML / monthly report to the project board as PDF and HTML')
    .addOption(new Option('--api <url>', 'API base URL (env ITORG_API_URL)').default(io.env['ITORG_API_URL'] ?? DEFAULT_API_URL))
    // No default shown: help output must never contain the token.
    .addOption(new Option('--token <token>', 'API token (prefer env ITORG_API_TOKEN)'))
    .option('--month <month>', 'YYYY-MM, Oslo local month (default: the previous month)', month)
    .option('--out <dir>', 'folder for the files', '.')
    .addOption(new Option('--lang <lang>', 'report language (default: the CLI language)').choices(['nb', 'en']))
    .addOption(new Option('--format <list>', 'pdf, html or pdf,html').argParser(formats).default(['pdf', 'html'] as FileFormat[], 'pdf,html'))
    .addHelpText('after', `${API_EXIT_HELP}\nFiles: rapport-YYYY-MM.pdf / .html (English: rapport-YYYY-MM-en.pdf / .html).`);

  cmd.action(async () => {
    const o = cmd.opts<{ api: string; token?: string; month?: string; out: string; lang?: 'nb' | 'en'; format: FileFormat[] }>();
    const m = o.month ?? previousOsloMonth(io.now());
    const lang = o.lang ?? io.lang();
    await runApiCall(
      io,
      cmd,
      o,
      async (client) => {
        const dir = resolve(o.out);
        mkdirSync(dir, { recursive: true });
        for (const format of o.format) {
          const bytes = await fetchReport(client, { month: m, format, lang });
          const name = reportFileName(m, format).replace(/(\.\w+)$/, lang === 'en' ? '-en$1' : '$1');
          writeFileAtomic(dir, name, bytes);
          io.stdout(`${TEXT[io.lang()].wrote(join(dir, name))}\n`);
        }
      },
      '(query)',
    );
  });
}

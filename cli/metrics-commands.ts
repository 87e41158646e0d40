/**
 * Usage metrics, effektmål indicators, skalering recommendations and dimensioning through the HTTP API (issue 6
 * "Interfaces": CLI, CSV export of each). Same conventions as the ops commands (cli/api-commands.ts):
 * token from ITORG_API_TOKEN (or --token), `--json` for the API's answer unchanged, exit codes
 * 0 ok, 1 the API refused, 2 usage error, 3 the API could not be reached.
 *
 * `--csv` writes CSV to stdout, rendered here from the JSON answer with the same columns the API's
 * `?format=csv` uses (dashboards/metrics/csv.ts), so a file from the CLI and one downloaded from the
 * API are the same; `--excel` picks the `;`/decimal-comma dialect for Norwegian Excel.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { metricRowsToCsv, toCsv, type CsvCell, type CsvColumn, type CsvDialect } from '../dashboards/metrics/csv.ts';
import { PERIODS, SCOPES, SPLITS, type MetricRow } from '../dashboards/metrics/metric-row.schema.ts';
import { MODULE_TYPES } from '../devices/torg/torg-config.schema.ts';
import { EFFECT_TABLES, metricsResponseSchema, parseLocalPeriod } from '../dashboards/metrics/metrics-routes.ts';
import { DEFAULT_API_URL, type ApiCliIo } from './api-commands.ts';
import { API_EXIT_HELP as EXIT_HELP, UnexpectedAnswer, apiCommand, runApiCall, type ApiClient } from './api-client.ts';
import { renderTable, type Column } from './table.ts';

const TEXT = {
  nb: {
    none: '(ingen rader)',
    missing: (days: string) => `Uten lagrede timeverdier (regnes som ikke rapportert): ${days}`,
    computed: (n: number) => `Beregnet fra rådata for denne forespørselen: ${n} dager`,
    low: (th: number) => `* kompletthet under ${Math.round(th * 100)} %`,
    h: { label: 'periode', split: 'åpningstype', visits: 'besøk', avg: 'snitt', peak: 'topp', util: 'utnyttelse', used: 'i bruk', co2: 'CO2 ok', complete: 'kompletthet' },
  },
  en: {
    none: '(no rows)',
    missing: (days: string) => `No stored hours (counted as not reporting): ${days}`,
    computed: (n: number) => `Computed from raw readings for this request: ${n} days`,
    low: (th: number) => `* completeness below ${Math.round(th * 100)} %`,
    h: { label: 'period', split: 'split', visits: 'visits', avg: 'avg', peak: 'peak', util: 'utilisation', used: 'used', co2: 'CO2 ok', complete: 'completeness' },
  },
} as const;

function localPeriod(v: string): string {
  if (parseLocalPeriod(v) === null) throw new InvalidArgumentError('an Oslo local date (2026-10-20), ISO week (2026-W43) or month (2026-10)');
  return v;
}
function month(v: string): string {
  if (!/^\d{4}-\d{2}$/.test(v) || parseLocalPeriod(v) === null) throw new InvalidArgumentError('a month, YYYY-MM (e.g. 2026-10)');
  return v;
}
function percentile(v: string): number {
  const p = Number(v);
  if (v.trim() === '' || !Number.isFinite(p) || p <= 0 || p > 1) throw new InvalidArgumentError('a share in (0, 1], e.g. 0.9');
  return p;
}
function weeks(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 104) throw new InvalidArgumentError('an integer 1..104');
  return n;
}

const num = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined ? '-' : v.toFixed(digits));
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(0)} %`);

interface ApiOpts {
  api: string;
  token?: string;
  json?: boolean;
  csv?: boolean;
  excel?: boolean;
}

/** How the CLI reads a table answer (indicators, recommendations, dimensioning): defined with the routes (EFFECT_TABLES). */
export interface TableAnswer<T> {
  path: string;
  /** The rows of the answer; throws (a zod error) when the answer is not what the route serves. */
  rows: (body: unknown) => T[];
  columns: readonly CsvColumn<T>[];
}

export function addMetricsCommands(
  program: Command,
  io: ApiCliIo,
  tables: typeof EFFECT_TABLES = EFFECT_TABLES,
): void {
  const t = () => TEXT[io.lang()];
  const out = (s: string) => io.stdout(s.endsWith('\n') ? s : `${s}\n`);
  const err = (s: string) => io.stderr(s.endsWith('\n') ? s : `${s}\n`);
  const command = (name: string, description: string) =>
    apiCommand(program, io, name, description)
      .addOption(new Option('--api <url>', 'API base URL (env ITORG_API_URL)').default(io.env['ITORG_API_URL'] ?? DEFAULT_API_URL))
      // No default shown: help output must never contain the token.
      .addOption(new Option('--token <token>', 'API token (prefer env ITORG_API_TOKEN)'))
      .addOption(new Option('--json', 'the API answer as JSON, for scripts').conflicts(['csv', 'excel']))
      .option('--csv', 'CSV (RFC 4180: comma, decimal point)')
      .option('--excel', 'CSV for Norwegian Excel (semicolon, decimal comma, BOM)')
      .addHelpText('after', EXIT_HELP);

  const dialectOf = (o: ApiOpts): CsvDialect | null => (o.excel ? 'excel' : o.csv ? 'rfc4180' : null);

  const run = (cmd: Command, body: (client: ApiClient, o: ApiOpts) => Promise<void>) => async () => {
    const o = cmd.opts<ApiOpts>();
    await runApiCall(io, cmd, o, (client) => body(client, o), '(query)');
  };
  const parseAnswer = <T>(body: unknown, schema: z.ZodType<T>, what: string): T => {
    const r = schema.safeParse(body);
    if (!r.success) throw new UnexpectedAnswer(`${what}: ${r.error.issues[0]?.path.join('.') ?? ''} ${r.error.issues[0]?.message ?? ''}`);
    return r.data;
  };

  // ----- metrics
  const metrics: Command = command('metrics', 'bruksmål for et nivå og en periode (Oslo-tid) / usage metrics for a scope and period (Oslo time)')
    .addOption(new Option('--scope <scope>', 'zone, module, torg or municipality').choices(SCOPES).makeOptionMandatory())
    .option('--id <id>', 'zone id, torg/module, or torg id (not needed for municipality)')
    .addOption(new Option('--period <period>', 'rows per').choices(PERIODS).makeOptionMandatory())
    .requiredOption('--from <period>', 'first local date, ISO week or month (2026-10-20, 2026-W43, 2026-10)', localPeriod)
    .option('--to <period>', 'last (inclusive); default --from', localPeriod)
    .addOption(new Option('--split <split>', 'only this split (default all four)').choices(SPLITS));
  metrics.action(
    run(metrics, async (client, o) => {
      const m = metrics.opts<{ scope: string; id?: string; period: string; from: string; to?: string; split?: string }>();
      const body = await client.request('GET', '/api/v1/metrics', { query: { scope: m.scope, id: m.id, period: m.period, from: m.from, to: m.to, split: m.split } });
      const answer = parseAnswer(body, metricsResponseSchema, 'metrics');
      const dialect = dialectOf(o);
      if (o.json) return out(JSON.stringify(body, null, 2));
      const tx = t();
      if (answer.computedDays.length > 0) err(tx.computed(answer.computedDays.length));
      if (answer.missingDays.length > 0) err(tx.missing(answer.missingDays.join(', ')));
      if (dialect !== null) return io.stdout(metricRowsToCsv(answer.rows, dialect, io.lang()));
      if (answer.rows.length === 0) return out(tx.none);
      const h = tx.h;
      const columns: Column<MetricRow>[] = [
        { header: h.label, value: (r) => r.label },
        { header: h.split, value: (r) => r.split },
        { header: h.visits, value: (r) => (r.visits === null ? '-' : String(r.visits)) },
        { header: h.avg, value: (r) => num(r.avgOccupancy) },
        { header: h.peak, value: (r) => num(r.peakOccupancy, 0) },
        { header: h.util, value: (r) => pct(r.utilisation) },
        { header: h.used, value: (r) => pct(r.timeUsedShare) },
        { header: h.co2, value: (r) => pct(r.climate.co2Compliance) },
        { header: h.complete, value: (r) => `${pct(r.completeness)}${r.lowCompleteness ? ' *' : ''}` },
      ];
      out(renderTable(answer.rows, columns));
      if (answer.rows.some((r) => r.lowCompleteness)) out(tx.low(answer.rules.completenessThreshold));
    }),
  );

  // ----- indicators, recommendations and dimensioning: tables whose schema and columns come with their routes.
  const tableCommand = <T>(cmd: Command, answer: TableAnswer<T>, query: () => Record<string, string | undefined>) =>
    cmd.action(
      run(cmd, async (client, o) => {
        const body = await client.request('GET', answer.path, { query: query() });
        let rows: T[];
        try {
          rows = answer.rows(body);
        } catch (e) {
          throw new UnexpectedAnswer(`${cmd.name()}: ${e instanceof z.ZodError ? `${e.issues[0]?.path.join('.') ?? ''} ${e.issues[0]?.message ?? ''}` : String(e)}`);
        }
        const dialect = dialectOf(o);
        if (o.json) return out(JSON.stringify(body, null, 2));
        if (dialect !== null) return io.stdout(toCsv(rows, answer.columns, dialect, io.lang()));
        if (rows.length === 0) return out(t().none);
        // The human table is the CSV's own columns, in the reader's language.
        const lang = io.lang();
        const cell = (v: CsvCell): string => (v === null || v === undefined || v === '' ? '-' : typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : String(v));
        out(renderTable(rows, answer.columns.map((c) => ({ header: c[lang], value: (r: T) => cell(c.value(r, lang)) }))));
      }),
    );

  const indicators: Command = command('indicators', 'effektmålindikatorer for en måned / effect-goal indicators for a month').requiredOption(
    '--month <month>',
    'YYYY-MM (Oslo local month)',
    month,
  );
  tableCommand(indicators, tables.indicators, () => ({ month: indicators.opts<{ month: string }>().month }));

  const recommendations: Command = command('recommendations', 'skaleringsanbefalinger per modul og torg / skalering recommendations per module and torg').option(
    '--weeks <n>',
    'the last N complete ISO weeks (default: the rules file)',
    weeks,
  );
  tableCommand(recommendations, tables.recommendations, () => {
    const w = recommendations.opts<{ weeks?: number }>().weeks;
    return { weeks: w === undefined ? undefined : String(w) };
  });

  const dimensioning: Command = command(
    'dimensioning',
    'rom eller plasser et torg trenger ved en valgt persentil av timetoppene / rooms or seats a torg needs at a chosen percentile of peak-hour demand',
  )
    .option('--torg <id>', 'only this torg (default: every torg)')
    .addOption(new Option('--module <module>', 'only this module (default: the modules of the rules file)').choices(MODULE_TYPES))
    .option('--percentile <p>', 'share of open hours to cover, in (0, 1] (default: the rules file)', percentile)
    .option('--weeks <n>', 'the last N complete ISO weeks (default: the rules file)', weeks);
  tableCommand(dimensioning, tables.dimensioning, () => {
    const d = dimensioning.opts<{ torg?: string; module?: string; percentile?: number; weeks?: number }>();
    return { torg: d.torg, module: d.module, percentile: d.percentile === undefined ? undefined : String(d.percentile), weeks: d.weeks === undefined ? undefined : String(d.weeks) };
  });
}

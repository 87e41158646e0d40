/**
 * GET /api/v1/report (issue 7 "Monthly report"; analyst role): the month's report for prosjektstyre as
 * PDF, HTML or its data as JSON, in bokmål or English. The data comes from buildReport over the
 * functions behind the other analyst routes (build-report.ts ReportSources), so each number equals
 * the API's own for the month; the same producer feeds the monthly schedule (report-job.ts) and the
 * CLI (`report --month`), which asks this route.
 *
 * Bounded: Chromium takes a few hundred MB per render, so at most `maxConcurrentPdf` renders run at
 * once; a request over the bound is answered 503 E_API_UNAVAILABLE (retriable) at once and counted,
 * rather than queued behind renders whose clients may have given up.
 */
import { z } from 'zod';
import { DateTime } from 'luxon';
import { Counter, type Registry } from 'prom-client';
import { PlatformError } from '../../devices/contract/errors.ts';
import type { Torg } from '../../devices/torg/torg-config.schema.ts';
import { ApiError, HANDLED, defineRoute, type AnyRoute, type Lang } from '../../ingest/api/route.ts';
import { parseLocalPeriod } from '../metrics/metrics-routes.ts';
import { buildReport, type ReportSources } from './build-report.ts';
import { renderReportHtml } from './render-html.ts';
import { renderReportPdf } from './render-pdf.ts';
import { reportDataSchema, type ReportData } from './report-data.schema.ts';
import { reportFileName } from './report-job.ts';

const ZONE = 'Europe/Oslo';
export const REPORT_FORMATS = ['pdf', 'html', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const reportQuerySchema = z.object({
  month: z
    .string()
    .regex(/^\d{4}-\d{2}$/, 'a month, YYYY-MM (e.g. 2026-10)')
    .refine((s) => parseLocalPeriod(s) !== null, { message: 'a month, YYYY-MM (e.g. 2026-10)' }),
  /** Default: from the Accept header (application/pdf, text/html), else JSON. */
  format: z.enum(REPORT_FORMATS).optional(),
  lang: z.enum(['nb', 'en']).optional(),
});

export interface ReportProducerDeps {
  sources: ReportSources;
  torgs: readonly Torg[];
  municipality: string;
  /** INGEST_REPORT_MIN_COUNT. */
  minCount: number;
  /** Epoch ms: the report's generatedAt, and which months are in the future. */
  now: () => number;
  /** INGEST_CHROMIUM_PATH. */
  chromiumPath?: string;
}

/** The report of a month as data, HTML and PDF: one path for the route, the schedule and the CLI. */
export function createReportProducer(deps: ReportProducerDeps) {
  const data = (month: string): Promise<ReportData> =>
    buildReport(deps.sources, { month, torgs: deps.torgs, municipality: deps.municipality, minCount: deps.minCount, now: deps.now });
  const html = (d: ReportData, lang: Lang): string => renderReportHtml(d, { lang });
  const pdf = (htmlText: string): Promise<Buffer> => renderReportPdf(htmlText, deps.chromiumPath ? { chromiumPath: deps.chromiumPath } : {});
  return {
    data,
    html,
    pdf,
    /** Both files of the schedule, in bokmål. */
    async files(month: string): Promise<{ html: string; pdf: Buffer }> {
      const h = html(await data(month), 'nb');
      return { html: h, pdf: await pdf(h) };
    },
  };
}
export type ReportProducer = ReturnType<typeof createReportProducer>;

export interface ReportRoutesDeps extends ReportProducerDeps {
  /** PDF renders at once (default 1). */
  maxConcurrentPdf?: number;
  metricsRegistry?: Registry;
}

/** A report error as the API's answer: the code carried through, 503 either way (the service lacks something). */
function reportApiError(err: unknown): ApiError | null {
  if (!(err instanceof PlatformError)) return null;
  if (err.code === 'E_REPORT_BROWSER_MISSING')
    return new ApiError(503, err.code, { en: 'the PDF printer (Chromium) is not installed on the server; ask for format=html or json', nb: 'PDF-skriveren (Chromium) er ikke installert på serveren; be om format=html eller json' }, false);
  if (err.code === 'E_REPORT_RENDER_FAILED')
    return new ApiError(503, err.code, { en: 'printing the report to PDF failed; try again', nb: 'utskrift av rapporten til PDF feilet; prøv igjen' }, true);
  if (err.retriable) return ApiError.of('E_API_UNAVAILABLE', { code: err.code });
  return null;
}

export function reportRoutes(deps: ReportRoutesDeps): AnyRoute[] {
  const producer = createReportProducer(deps);
  const maxPdf = deps.maxConcurrentPdf ?? 1;
  let rendering = 0;
  const renders = new Counter({
    name: 'report_requests_total',
    help: 'GET /api/v1/report answers by format and outcome (busy: refused over the concurrent PDF bound)',
    labelNames: ['format', 'outcome'],
    registers: deps.metricsRegistry ? [deps.metricsRegistry] : [],
  });

  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/report',
      access: 'analyst',
      tag: 'report',
      summary:
        'Månedsrapport til prosjektstyret (PDF, HTML eller data som JSON; Oslo-tid, små tall skjult) / monthly report to the project board (PDF, HTML or its data as JSON; Oslo time, small counts suppressed)',
      query: reportQuerySchema,
      response: reportDataSchema,
      alsoProduces: ['application/pdf', 'text/html'],
      handler: async (ctx) => {
        const q = ctx.query;
        const month = parseLocalPeriod(q.month)!;
        if (month.startMs > deps.now())
          throw ApiError.of('E_API_INVALID_REQUEST', { in: 'query', issues: [{ path: 'month', message: `${q.month} has not begun (Oslo time)` }] });
        const format: ReportFormat = q.format ?? (ctx.req.accepts(['application/json', 'application/pdf', 'text/html']) === 'application/pdf' ? 'pdf' : ctx.req.accepts(['application/json', 'text/html']) === 'text/html' ? 'html' : 'json');
        if (format === 'pdf' && rendering >= maxPdf) {
          renders.inc({ format, outcome: 'busy' });
          throw ApiError.of('E_API_UNAVAILABLE', { reason: `at most ${maxPdf} report PDF renders at once` });
        }
        if (format === 'pdf') rendering++;
        try {
          const data = await producer.data(month.label);
          if (format === 'json') {
            renders.inc({ format, outcome: 'ok' });
            return data;
          }
          const html = producer.html(data, ctx.lang);
          // The English file gets its own name, so both languages can sit in one folder.
          const name = reportFileName(month.label, format).replace(/(\.\w+)$/, ctx.lang === 'en' ? '-en$1' : '$1');
          const res = ctx.res.status(200).set('Content-Language', ctx.lang === 'en' ? 'en' : 'nb');
          if (format === 'html') {
            // Self-contained: inline CSS and SVG, no scripts, no requests (render-html.ts).
            res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
            res.type('text/html; charset=utf-8').set('Content-Disposition', `inline; filename="${name}"`).send(html);
          } else {
            const pdf = await producer.pdf(html);
            res.type('application/pdf').set('Content-Disposition', `attachment; filename="${name}"`).send(pdf);
          }
          renders.inc({ format, outcome: 'ok' });
          return HANDLED;
        } catch (err) {
          renders.inc({ format, outcome: 'failed' });
          throw reportApiError(err) ?? err;
        } finally {
          if (format === 'pdf') rendering--;
        }
      },
    }),
  ];
}

/** The Oslo month before the one `nowMs` falls in, `2026-10` (the schedule's and the CLI's default). */
export function previousOsloMonth(nowMs: number): string {
  return DateTime.fromMillis(nowMs, { zone: ZONE }).startOf('month').minus({ months: 1 }).toFormat('yyyy-MM');
}

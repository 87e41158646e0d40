/**
 * The monthly report (issue 7) as one self-contained HTML document: inline CSS sized for A4 print
 * (Chromium prints it to PDF, render-pdf.ts), charts as inline SVG from Apache ECharts' server-side
 * renderer (https://echarts.apache.org/handbook/en/how-to/cross-platform/server/), no script, no
 * external resource. It only formats and draws: every number and every suppression comes computed
 * in ReportData (build-report.ts). Number formats are in README.md "Number formats" and in
 * `formatNumber`/`parseReportNumber` below, so a test reading the PDF back with pdftotext can parse
 * them.
 */
import * as echarts from 'echarts';
import { DateTime } from 'luxon';
import type { ModuleType } from '../../devices/torg/torg-config.schema.ts';
import type { IndicatorStatus } from '../indicators/indicator-engine.ts';
import type { RecommendationKind } from '../skalering/recommend.ts';
import type { ReportData, ReportRecommendation, Suppressible, TorgSection, Trend } from './report-data.schema.ts';

export type ReportLang = 'nb' | 'en';
const ZONE = 'Europe/Oslo';
/**
 * Single-quoted names: ECharts writes fontFamily unescaped into a double-quoted SVG `style`
 * attribute, where a double quote would end the attribute and break the SVG.
 */
const FONT = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif";

// ------------------------------------------------------------------------------------------------
// Numbers. nb: Intl.NumberFormat('nb-NO') — group separator U+00A0 (no-break space; some ICU versions
// U+202F), decimal comma, minus U+2212, a no-break space before `%`. en: 'en-GB' — comma groups, point
// decimals, ASCII minus. "No data" is an en dash (U+2013); a suppressed count is `<` + minCount.

const LOCALES = { nb: 'nb-NO', en: 'en-GB' } as const;

export type NumberKind = 'count' | 'decimal' | 'hours' | 'percent' | 'signedCount' | 'signedPercent' | 'signedDecimal';

const OPTIONS: Record<NumberKind, Intl.NumberFormatOptions> = {
  count: { maximumFractionDigits: 0 },
  decimal: { maximumFractionDigits: 2 },
  hours: { maximumFractionDigits: 1 },
  percent: { style: 'percent', maximumFractionDigits: 1 },
  signedCount: { maximumFractionDigits: 0, signDisplay: 'exceptZero' },
  signedPercent: { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' },
  signedDecimal: { maximumFractionDigits: 2, signDisplay: 'exceptZero' },
};
const formatters = new Map<string, Intl.NumberFormat>();

export const NO_DATA = '\u2013';

/** A number as the report prints it (README "Number formats"); null → NO_DATA. */
export function formatNumber(value: number | null, kind: NumberKind, lang: ReportLang): string {
  if (value === null) return NO_DATA;
  const key = `${lang}:${kind}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(LOCALES[lang], OPTIONS[kind]);
    formatters.set(key, f);
  }
  return f.format(value);
}

/**
 * A number printed by formatNumber back to a number (percent → share), for tests that read the
 * report's text; null for NO_DATA or a suppressed `<n`. Throws on anything else.
 */
export function parseReportNumber(text: string, lang: ReportLang): number | null {
  const t = text.trim();
  if (t === NO_DATA || t.startsWith('<')) return null;
  const percent = t.endsWith('%');
  let s = t.replace(/%$/, '').replace(/[\s\u00a0\u202f]/g, '').replace(/\u2212/g, '-');
  s = lang === 'nb' ? s.replace(/\./g, '').replace(',', '.') : s.replace(/,/g, '');
  if (!/^[+-]?\d+(\.\d+)?$/.test(s)) throw new Error(`not a report number: ${JSON.stringify(text)}`);
  const n = Number(s);
  return percent ? n / 100 : n;
}

function countText(c: Suppressible, minCount: number, lang: ReportLang): string {
  return c.suppressed ? `<${minCount}` : formatNumber(c.value, 'count', lang);
}

// ------------------------------------------------------------------------------------------------
// Words.

const T = {
  nb: {
    title: 'Månedsrapport for innbyggertorgene',
    summary: 'Sammendrag',
    generated: 'Laget',
    visits: 'Besøk',
    visitsAll: 'Besøk i måneden',
    previousMonth: 'Forrige måned',
    change: 'Endring',
    changePct: 'Endring i prosent',
    completeness: 'Kompletthet',
    lowCompleteness: 'lav kompletthet',
    indicatorStatus: 'Indikatorer mot mål',
    mainRecommendations: 'Viktigste anbefalinger',
    noRecommendations: 'Ingen anbefalinger om endring denne måneden.',
    openHours: 'Åpningstimer',
    staffed: 'Betjent',
    meraapent: 'Meråpent',
    closed: 'Stengt',
    monthHours: 'Timer i måneden',
    avgOccupancy: 'Gjennomsnittlig belegg (personer)',
    peakOccupancy: 'Høyeste belegg (personer)',
    utilisation: 'Utnyttelse',
    modules: 'Utnyttelse per modul',
    module: 'Modul',
    capacity: 'Kapasitet',
    timeUsed: 'Tid i bruk',
    climate: 'Inneklima (andel av brukt åpningstid innenfor grensen)',
    co2: 'CO₂ ≤ 1000 ppm',
    temperature: 'Temperatur',
    humidity: 'Luftfuktighet',
    ghost: 'Spøkelsesbookinger',
    noBookings: 'Ingen bookingdata for dette torget.',
    bookableZones: 'Bookbare rom',
    slots: 'Bookinger',
    ghosts: 'Spøkelsesbookinger',
    unknown: 'Ukjent tilstedeværelse',
    ghostShare: 'Andel spøkelse',
    bookedHours: 'Bookede timer',
    ghostHours: 'Spøkelsestimer',
    unbookedUse: 'Bruk uten booking (timer)',
    attendance: 'Oppmøte (personer)',
    meraapentUse: 'Meråpent',
    meraapentHours: 'Meråpne timer',
    meraapentVisits: 'Besøk i meråpen tid',
    meraapentShare: 'Andel av besøkene',
    dailyVisits: 'Besøk per dag',
    visitsPerTorg: 'Besøk per torg',
    effect: 'Effektmål',
    effectGoal: 'Effektmål',
    indicator: 'Indikator',
    scope: 'Nivå',
    value: 'Verdi',
    unit: 'Enhet',
    expected: 'Planlagt',
    status: 'Status',
    trend: 'Endring fra forrige måned',
    missing: 'Mangler',
    noIndicators: 'Ingen indikatordefinisjoner er satt opp.',
    recommendations: 'Anbefalinger',
    weeksEvaluated: 'Uker vurdert',
    recommendation: 'Anbefaling',
    weeksMet: 'Uker oppfylt',
    weeksWithData: 'Uker med data',
    rule: 'Regel',
    evidence: 'Grunnlag',
    week: 'Uke',
    met: 'Oppfylt',
    yes: 'ja',
    no: 'nei',
    torgWide: 'hele torget',
    dataQuality: 'Datakvalitet',
    torg: 'Torg',
    uptime: 'Sensoroppetid (åpen tid)',
    reportingHours: 'Timer med data',
    drift: 'Driftkorreksjoner (personer)',
    belowZero: 'lagt til under null',
    closingReset: 'fjernet ved stenging',
    deadLetters: 'Avviste målinger',
    deadLettersByCode: 'Avviste målinger per årsak',
    code: 'Årsak',
    count: 'Antall',
    unattributed: 'uten torg',
    total: 'Totalt',
    missingDays: 'Dager uten lagrede timer',
    computedDays: 'Dager beregnet for rapporten',
    none: 'ingen',
    rules: 'Regler',
    suppression: (n: number) => `Antall personer under ${n} vises som «<${n}» (personvern: små tall skjules i styrerapporter).`,
    // The metrics and bookings APIs state their rules in English (metrics-engine.ts rulesOf,
    // booking-analysis.ts); the board's report states the same rules in bokmål.
    ruleTexts: (d: ReportData): string[] => [
      'En tilstedeværelses- eller klimamåling gjelder fra sitt tidspunkt til neste måling fra samme sensor, men aldri ut over sensorens rapporteringsvindu. ' +
        'Tellinger plasseres ved slutten av telleperioden; antall personer på torget er inn − ut fra 0 ved starten av døgnet, aldri under 0, og settes til 0 ved stenging.',
      'Tid da en sensor bak et tall ikke rapporterte, holdes utenfor alle gjennomsnitt og andeler og fylles aldri; kompletthet er andelen tid som er med.',
      ...(d.rules.bookingsGhost ? ['En booking er en spøkelsesbooking når rommet ikke hadde tilstedeværelse på noe rapportert tidspunkt i den, og tilstedeværelsen var rapportert for nok av bookingen ' +
          '(andel og minutter som i bookingoppsettet); all tilstedeværelse gjør den brukt, ellers er den ukjent, aldri spøkelse. Andel spøkelsesbookinger = spøkelser ÷ bookinger som er brukt eller spøkelse.'] : []),
    ],
    versions: 'Definisjonsversjoner',
    indicatorsVersion: 'indikatorer',
    rulesVersion: 'skaleringsregler',
    page: 'Side',
  },
  en: {
    title: 'Monthly report for the innbyggertorg',
    summary: 'Summary',
    generated: 'Generated',
    visits: 'Visits',
    visitsAll: 'Visits in the month',
    previousMonth: 'Previous month',
    change: 'Change',
    changePct: 'Change in per cent',
    completeness: 'Completeness',
    lowCompleteness: 'low completeness',
    indicatorStatus: 'Indicators against target',
    mainRecommendations: 'Main recommendations',
    noRecommendations: 'No recommendations for a change this month.',
    openHours: 'Open hours',
    staffed: 'Staffed',
    meraapent: 'Self-service',
    closed: 'Closed',
    monthHours: 'Hours in the month',
    avgOccupancy: 'Average occupancy (people)',
    peakOccupancy: 'Peak occupancy (people)',
    utilisation: 'Utilisation',
    modules: 'Utilisation by module',
    module: 'Module',
    capacity: 'Capacity',
    timeUsed: 'Time used',
    climate: 'Indoor climate (share of used open time within limits)',
    co2: 'CO₂ ≤ 1000 ppm',
    temperature: 'Temperature',
    humidity: 'Humidity',
    ghost: 'Ghost bookings',
    noBookings: 'No booking data for this torg.',
    bookableZones: 'Bookable rooms',
    slots: 'Bookings',
    ghosts: 'Ghost bookings',
    unknown: 'Presence unknown',
    ghostShare: 'Ghost share',
    bookedHours: 'Booked hours',
    ghostHours: 'Ghost hours',
    unbookedUse: 'Use without booking (hours)',
    attendance: 'Attendance (people)',
    meraapentUse: 'Self-service (meråpent)',
    meraapentHours: 'Self-service hours',
    meraapentVisits: 'Visits in self-service time',
    meraapentShare: 'Share of visits',
    dailyVisits: 'Visits per day',
    visitsPerTorg: 'Visits per torg',
    effect: 'Effect goals',
    effectGoal: 'Effect goal',
    indicator: 'Indicator',
    scope: 'Scope',
    value: 'Value',
    unit: 'Unit',
    expected: 'Planned',
    status: 'Status',
    trend: 'Change from previous month',
    missing: 'Missing',
    noIndicators: 'No indicator definitions are configured.',
    recommendations: 'Recommendations',
    weeksEvaluated: 'Weeks evaluated',
    recommendation: 'Recommendation',
    weeksMet: 'Weeks met',
    weeksWithData: 'Weeks with data',
    rule: 'Rule',
    evidence: 'Evidence',
    week: 'Week',
    met: 'Met',
    yes: 'yes',
    no: 'no',
    torgWide: 'whole torg',
    dataQuality: 'Data quality',
    torg: 'Torg',
    uptime: 'Sensor uptime (open time)',
    reportingHours: 'Hours with data',
    drift: 'Drift corrections (people)',
    belowZero: 'added below zero',
    closingReset: 'removed at closing',
    deadLetters: 'Refused readings',
    deadLettersByCode: 'Refused readings by reason',
    code: 'Reason',
    count: 'Count',
    unattributed: 'no torg',
    total: 'Total',
    missingDays: 'Days without stored hours',
    computedDays: 'Days computed for the report',
    none: 'none',
    rules: 'Rules',
    suppression: (n: number) => `Counts of people below ${n} are shown as "<${n}" (privacy: small counts are suppressed in board reports).`,
    ruleTexts: (d: ReportData): string[] => [d.rules.hold, d.rules.gaps, ...(d.rules.bookingsGhost ? [d.rules.bookingsGhost] : [])],
    versions: 'Definition versions',
    indicatorsVersion: 'indicators',
    rulesVersion: 'skalering rules',
    page: 'Page',
  },
} as const;

const MODULES: Record<ModuleType, { nb: string; en: string }> = {
  innbyggerservice: { nb: 'Innbyggerservice', en: 'Citizen service' },
  møterom: { nb: 'Møterom', en: 'Meeting rooms' },
  arbeidsplasser: { nb: 'Arbeidsplasser', en: 'Workspaces' },
  arrangement: { nb: 'Arrangement', en: 'Events' },
  bibliotek: { nb: 'Bibliotek', en: 'Library' },
  'meråpent-sone': { nb: 'Meråpent sone', en: 'Self-service zone' },
};
const STATUSES: Record<IndicatorStatus, { nb: string; en: string }> = {
  'on-track': { nb: 'I rute', en: 'On track' },
  'at-risk': { nb: 'Risiko', en: 'At risk' },
  'off-track': { nb: 'Ikke i rute', en: 'Off track' },
  unknown: { nb: 'Ukjent', en: 'Unknown' },
};
const KINDS: Record<RecommendationKind, { nb: string; en: string }> = {
  'scale-up': { nb: 'Skaler opp', en: 'Scale up' },
  'scale-down': { nb: 'Skaler ned', en: 'Scale down' },
  'extend-meraapent-earlier': { nb: 'Meråpent tidligere', en: 'Self-service earlier' },
  'extend-meraapent-later': { nb: 'Meråpent lenger', en: 'Self-service later' },
  convert: { nb: 'Gjør om', en: 'Convert' },
  hold: { nb: 'Behold', en: 'Hold' },
};
const STATUS_COLOURS: Record<IndicatorStatus, string> = { 'on-track': '#2e7d32', 'at-risk': '#ef6c00', 'off-track': '#c62828', unknown: '#757575' };

// ------------------------------------------------------------------------------------------------
// HTML.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const monthName = (label: string, lang: ReportLang): string => DateTime.fromISO(`${label}-01`, { zone: ZONE }).setLocale(lang === 'nb' ? 'nb' : 'en-GB').toFormat('LLLL yyyy');

/** A table row of label and value cells; `field` names the value for tests and for machine reading. */
function kv(label: string, value: string, field: string, flag = ''): string {
  return `<tr><th scope="row">${esc(label)}</th><td class="num" data-field="${esc(field)}">${esc(value)}${flag}</td></tr>`;
}

function table(head: readonly string[], rows: readonly string[][], cls = ''): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.join('')}</tr>`).join('');
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}
const td = (s: string, num = true): string => `<td${num ? ' class="num"' : ''}>${esc(s)}</td>`;

const CSS = `
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
* { box-sizing: border-box; }
body { font-family: ${FONT}; font-size: 10pt; color: #1a1a1a; margin: 0; }
.page { break-after: page; page-break-after: always; }
.page:last-child { break-after: auto; page-break-after: auto; }
h1 { font-size: 18pt; margin: 0 0 4pt; }
h2 { font-size: 14pt; margin: 0 0 6pt; border-bottom: 1.5pt solid #00509e; padding-bottom: 2pt; }
h3 { font-size: 11pt; margin: 10pt 0 4pt; }
p.meta { color: #555; margin: 0 0 8pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; break-inside: avoid; }
th, td { border-bottom: 0.5pt solid #ccc; padding: 2pt 4pt; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.flag { color: #c62828; font-size: 8pt; }
.kpi { display: flex; gap: 12pt; margin: 6pt 0; }
.kpi > div { border: 0.5pt solid #ccc; padding: 6pt 10pt; flex: 1; }
.kpi .big { font-size: 18pt; font-weight: bold; }
.chart { break-inside: avoid; margin: 4pt 0; }
.chart svg { max-width: 100%; height: auto; }
.cols { display: flex; gap: 10pt; } .cols > div { flex: 1; }
.rec { break-inside: avoid; margin-bottom: 8pt; }
.status-on-track { color: #2e7d32; } .status-at-risk { color: #ef6c00; } .status-off-track { color: #c62828; } .status-unknown { color: #757575; }
.small { font-size: 8pt; color: #555; }
`;

// ------------------------------------------------------------------------------------------------
// Charts: ECharts SSR to SVG strings. Animation off (SSR renders the final frame only with it off).

function svgChart(option: echarts.EChartsCoreOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: FONT }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

type Datum = { value: number | null; label: string };

function barChart(title: string, categories: readonly string[], series: readonly { name: string; data: readonly Datum[]; color: string }[], opts: { width?: number; height?: number; percent?: boolean; rotateLabels?: boolean; lang: ReportLang }): string {
  const width = opts.width ?? 680;
  const height = opts.height ?? 240;
  return svgChart(
    {
      title: { text: title, left: 0, textStyle: { fontSize: 12, fontFamily: FONT } },
      legend: series.length > 1 ? { top: 0, right: 10, itemWidth: 14, itemHeight: 8, textStyle: { fontSize: 9 } } : undefined,
      grid: { left: 50, right: 10, top: opts.rotateLabels ? 50 : 36, bottom: 30 },
      xAxis: { type: 'category', data: [...categories], axisLabel: { fontSize: opts.rotateLabels ? 7 : 9, interval: 0 } },
      yAxis: {
        type: 'value',
        max: opts.percent ? 1 : undefined,
        axisLabel: { fontSize: 9, formatter: (v: number) => formatNumber(v, opts.percent ? 'percent' : 'count', opts.lang) },
      },
      series: series.map((s) => ({
        type: 'bar',
        name: s.name,
        itemStyle: { color: s.color },
        // A suppressed or missing value is drawn as no bar, labelled with its text (`<5`, `–`).
        data: s.data.map((d) => ({ value: d.value ?? 0, label: { show: true, formatter: d.label } })),
        label: opts.rotateLabels
          ? { show: true, position: 'top', fontSize: 7, rotate: 90, align: 'left', verticalAlign: 'middle', distance: 3 }
          : { show: true, position: 'top', fontSize: 9 },
      })),
    },
    width,
    height,
  );
}

// ------------------------------------------------------------------------------------------------
// Sections.

function trendCells(t: Trend, lang: ReportLang): { abs: string; rel: string } {
  return { abs: formatNumber(t.absolute, 'signedCount', lang), rel: formatNumber(t.relative, 'signedPercent', lang) };
}

function lowFlag(low: boolean, lang: ReportLang): string {
  return low ? ` <span class="flag">(${esc(T[lang].lowCompleteness)})</span>` : '';
}

function recommendationLine(r: ReportRecommendation, lang: ReportLang): string {
  const t = T[lang];
  const where = `${r.torgName} – ${r.module ? MODULES[r.module][lang] : t.torgWide}`;
  return `<li><strong>${esc(KINDS[r.kind][lang])}</strong>: ${esc(where)}. ${esc(r.message[lang])} <span class="small">(${esc(t.weeksMet)}: ${esc(formatNumber(r.weeksMet, 'count', lang))}/${esc(formatNumber(r.weeksWithData, 'count', lang))})</span></li>`;
}

function summaryPage(d: ReportData, lang: ReportLang): string {
  const t = T[lang];
  const s = d.summary;
  const tr = trendCells(s.visitsTrend, lang);
  const generated = DateTime.fromMillis(d.generatedAt, { zone: ZONE }).setLocale(lang === 'nb' ? 'nb' : 'en-GB').toFormat(lang === 'nb' ? "d. LLLL yyyy 'kl.' HH:mm" : 'd LLLL yyyy, HH:mm');
  const kpi = `<div class="kpi">
<div><div>${esc(t.visitsAll)}</div><div class="big" data-field="summary.visits">${esc(countText(s.visits, d.minCount, lang))}</div></div>
<div><div>${esc(t.previousMonth)} (${esc(monthName(d.previousMonth, lang))})</div><div class="big" data-field="summary.previousVisits">${esc(countText(s.visitsTrend.previous, d.minCount, lang))}</div></div>
<div><div>${esc(t.change)}</div><div class="big" data-field="summary.change">${esc(tr.abs)}</div><div data-field="summary.changePct">${esc(tr.rel)}</div></div>
<div><div>${esc(t.completeness)}</div><div class="big" data-field="summary.completeness">${esc(formatNumber(s.completeness, 'percent', lang))}</div>${lowFlag(s.lowCompleteness, lang)}</div>
</div>`;
  const perTorg = table(
    [t.visits, monthName(d.month, lang), monthName(d.previousMonth, lang), t.change, t.changePct, t.completeness],
    d.torgs.map((x) => {
      const c = trendCells(x.visitsTrend, lang);
      return [`<th scope="row">${esc(x.name)}</th>`, td(countText(x.visits, d.minCount, lang)), td(countText(x.visitsTrend.previous, d.minCount, lang)), td(c.abs), td(c.rel), `<td class="num">${esc(formatNumber(x.completeness, 'percent', lang))}${lowFlag(x.lowCompleteness, lang)}</td>`];
    }),
    'visits-per-torg',
  );
  const chart = barChart(
    t.visitsPerTorg,
    d.torgs.map((x) => x.name),
    [
      { name: monthName(d.previousMonth, lang), color: '#9ab7d3', data: d.torgs.map((x) => ({ value: x.visitsTrend.previous.value, label: countText(x.visitsTrend.previous, d.minCount, lang) })) },
      { name: monthName(d.month, lang), color: '#00509e', data: d.torgs.map((x) => ({ value: x.visits.value, label: countText(x.visits, d.minCount, lang) })) },
    ],
    { lang, height: 230 },
  );
  const statuses = (['on-track', 'at-risk', 'off-track', 'unknown'] as const).filter((k) => d.indicators.length > 0 || k === 'unknown');
  const statusTable = table(
    [t.status, t.count],
    statuses.map((k) => [`<th scope="row" class="status-${k}">${esc(STATUSES[k][lang])}</th>`, `<td class="num" data-field="status.${k}">${esc(formatNumber(s.indicatorStatus[k], 'count', lang))}</td>`]),
  );
  const statusChart =
    d.indicators.length === 0
      ? ''
      : `<div class="chart" data-chart="indicator-status">${svgChart(
          {
            title: { text: t.indicatorStatus, left: 0, textStyle: { fontSize: 12, fontFamily: FONT } },
            grid: { left: 80, right: 30, top: 30, bottom: 10 },
            xAxis: { type: 'value', show: false },
            yAxis: { type: 'category', inverse: true, data: statuses.map((k) => STATUSES[k][lang]), axisLabel: { fontSize: 9 } },
            series: [{ type: 'bar', data: statuses.map((k) => ({ value: s.indicatorStatus[k], itemStyle: { color: STATUS_COLOURS[k] } })), label: { show: true, position: 'right', fontSize: 9, formatter: (p: { value: number }) => formatNumber(p.value, 'count', lang) } }],
          },
          320,
          150,
        )}</div>`;
  const recs = s.mainRecommendations.length === 0 ? `<p>${esc(t.noRecommendations)}</p>` : `<ul>${s.mainRecommendations.map((r) => recommendationLine(r, lang)).join('')}</ul>`;
  return `<section class="page" data-section="summary">
<h1>${esc(t.title)} – ${esc(monthName(d.month, lang))}</h1>
<p class="meta">${esc(d.municipality)} · ${esc(t.generated)} ${esc(generated)}</p>
<h2>${esc(t.summary)}</h2>
${kpi}
${perTorg}
<div class="chart" data-chart="visits-per-torg">${chart}</div>
<h3>${esc(t.indicatorStatus)}</h3>
<div class="cols"><div>${statusTable}</div><div>${statusChart}</div></div>
<h3>${esc(t.mainRecommendations)}</h3>
${recs}
</section>`;
}

function torgPage(d: ReportData, x: TorgSection, lang: ReportLang): string {
  const t = T[lang];
  const min = d.minCount;
  const tr = trendCells(x.visitsTrend, lang);
  const figures = `<table class="figures"><tbody>
${kv(t.visitsAll, countText(x.visits, min, lang), 'visits')}
${kv(`${t.previousMonth} (${monthName(d.previousMonth, lang)})`, countText(x.visitsTrend.previous, min, lang), 'previousVisits')}
${kv(t.change, `${tr.abs} (${tr.rel})`, 'change')}
${kv(`${t.visits} – ${t.staffed.toLowerCase()}`, countText(x.visitsBySplit.staffed, min, lang), 'visits.staffed')}
${kv(`${t.visits} – ${t.meraapent.toLowerCase()}`, countText(x.visitsBySplit.meraapent, min, lang), 'visits.meraapent')}
${kv(`${t.visits} – ${t.closed.toLowerCase()}`, countText(x.visitsBySplit.closed, min, lang), 'visits.closed')}
${kv(t.avgOccupancy, formatNumber(x.avgOccupancy, 'decimal', lang), 'avgOccupancy')}
${kv(t.peakOccupancy, countText(x.peakOccupancy, min, lang), 'peakOccupancy')}
${kv(t.utilisation, formatNumber(x.utilisation, 'percent', lang), 'utilisation')}
${kv(t.completeness, formatNumber(x.completeness, 'percent', lang), 'completeness', lowFlag(x.lowCompleteness, lang))}
${kv(`${t.openHours} (${t.staffed.toLowerCase()} / ${t.meraapent.toLowerCase()})`, `${formatNumber(x.openHours.staffed, 'hours', lang)} / ${formatNumber(x.openHours.meraapent, 'hours', lang)}`, 'openHours')}
${kv(t.monthHours, formatNumber(x.openHours.month, 'hours', lang), 'monthHours')}
</tbody></table>`;
  const modules = table(
    [t.module, t.capacity, t.utilisation, t.timeUsed, t.peakOccupancy, t.completeness],
    x.modules.map((m) => [
      `<th scope="row">${esc(MODULES[m.module][lang])}</th>`,
      td(formatNumber(m.capacity, 'count', lang)),
      `<td class="num" data-field="module.${esc(m.module)}.utilisation">${esc(formatNumber(m.utilisation, 'percent', lang))}</td>`,
      td(formatNumber(m.timeUsedShare, 'percent', lang)),
      td(countText(m.peakOccupancy, min, lang)),
      `<td class="num">${esc(formatNumber(m.completeness, 'percent', lang))}${lowFlag(m.lowCompleteness, lang)}</td>`,
    ]),
    'modules',
  );
  const moduleChart = barChart(
    t.modules,
    x.modules.map((m) => MODULES[m.module][lang]),
    [{ name: t.utilisation, color: '#00509e', data: x.modules.map((m) => ({ value: m.utilisation, label: formatNumber(m.utilisation, 'percent', lang) })) }],
    { lang, percent: true, width: 330, height: 210 },
  );
  const climate = `<table class="climate"><tbody>
${kv(t.co2, formatNumber(x.climate.co2Compliance, 'percent', lang), 'climate.co2')}
${kv(t.temperature, formatNumber(x.climate.temperatureCompliance, 'percent', lang), 'climate.temperature')}
${kv(t.humidity, formatNumber(x.climate.humidityCompliance, 'percent', lang), 'climate.humidity')}
</tbody></table>`;
  const g = x.ghostBookings;
  const ghost =
    g === null || g.bookableZones === 0
      ? `<p>${esc(t.noBookings)}</p>`
      : `<table class="ghost"><tbody>
${kv(t.bookableZones, formatNumber(g.bookableZones, 'count', lang), 'ghost.zones')}
${kv(t.slots, formatNumber(g.slots, 'count', lang), 'ghost.slots')}
${kv(t.ghosts, formatNumber(g.ghosts, 'count', lang), 'ghost.ghosts')}
${kv(t.unknown, formatNumber(g.unknown, 'count', lang), 'ghost.unknown')}
${kv(t.ghostShare, formatNumber(g.ghostShare, 'percent', lang), 'ghost.share', lowFlag(g.lowCompleteness, lang))}
${kv(t.bookedHours, formatNumber(g.bookedHours, 'hours', lang), 'ghost.bookedHours')}
${kv(t.ghostHours, formatNumber(g.ghostHours, 'hours', lang), 'ghost.ghostHours')}
${kv(t.unbookedUse, formatNumber(g.unbookedUseHours, 'hours', lang), 'ghost.unbookedUseHours')}
${kv(t.attendance, countText(g.attendance, min, lang), 'ghost.attendance')}
</tbody></table>`;
  const mera = `<table class="meraapent"><tbody>
${kv(t.meraapentHours, formatNumber(x.meraapent.openHours, 'hours', lang), 'meraapent.hours')}
${kv(t.meraapentVisits, countText(x.meraapent.visits, min, lang), 'meraapent.visits')}
${kv(t.meraapentShare, formatNumber(x.meraapent.shareOfVisits, 'percent', lang), 'meraapent.share')}
${kv(t.timeUsed, formatNumber(x.meraapent.timeUsedShare, 'percent', lang), 'meraapent.timeUsed')}
</tbody></table>`;
  const daily = barChart(
    t.dailyVisits,
    x.dailyVisits.map((v) => v.date.slice(8)),
    [{ name: t.visits, color: '#00509e', data: x.dailyVisits.map((v) => ({ value: v.visits.value, label: countText(v.visits, min, lang) })) }],
    { lang, height: 180, rotateLabels: true },
  );
  return `<section class="page torg" data-section="torg" data-torg="${esc(x.id)}">
<h2>${esc(x.name)} – ${esc(monthName(d.month, lang))}</h2>
<div class="cols"><div>${figures}</div><div><h3>${esc(t.climate)}</h3>${climate}<h3>${esc(t.meraapentUse)}</h3>${mera}</div></div>
<div class="chart" data-chart="daily-visits">${daily}</div>
<h3>${esc(t.modules)}</h3>
${modules}
<div class="cols"><div><h3>${esc(t.ghost)}</h3>
${ghost}</div><div class="chart" data-chart="module-utilisation">${moduleChart}</div></div>
</section>`;
}

function effectPage(d: ReportData, lang: ReportLang): string {
  const t = T[lang];
  if (d.indicators.length === 0) return `<section class="page" data-section="effect"><h2>${esc(t.effect)}</h2><p>${esc(t.noIndicators)}</p></section>`;
  const goals = [...new Set(d.indicators.map((i) => i.effectGoal))].sort((a, b) => a - b);
  const body = goals
    .map((goal) => {
      const rows = d.indicators
        .filter((i) => i.effectGoal === goal)
        .map((i) => [
          `<td>${esc(i.name[lang])}</td>`,
          td(i.scopeName, false),
          `<td class="num" data-field="indicator.${esc(i.indicator)}.${esc(i.scopeId)}">${esc(i.suppressed ? `<${d.minCount}` : formatNumber(i.value, 'decimal', lang))}${lowFlag(i.lowCompleteness, lang)}</td>`,
          td(formatNumber(i.expected, 'decimal', lang)),
          `<td class="status-${i.status}">${esc(STATUSES[i.status][lang])}</td>`,
          td(formatNumber(i.trendVsPreviousMonth, 'signedDecimal', lang)),
          td(i.unit[lang], false),
          `<td class="small">${esc(i.missing.join(', '))}</td>`,
        ]);
      return `<h3>${esc(t.effectGoal)} ${goal}</h3>${table([t.indicator, t.scope, t.value, t.expected, t.status, t.trend, t.unit, t.missing], rows, 'indicators')}`;
    })
    .join('\n');
  return `<section class="page" data-section="effect"><h2>${esc(t.effect)} – ${esc(monthName(d.month, lang))}</h2>${body}
<p class="small">${esc(d.rules.indicatorStatus ?? '')}</p></section>`;
}

function recommendationsPage(d: ReportData, lang: ReportLang): string {
  const t = T[lang];
  const items = d.recommendations.items
    .map((r) => {
      const keys = [...new Set(r.evidence.flatMap((e) => Object.keys(e.values)))].sort();
      const ev = table(
        [t.week, ...keys, t.met],
        r.evidence.map((e) => [
          td(e.week, false),
          ...keys.map((k) => td(formatNumber(e.values[k] ?? null, 'decimal', lang))),
          `<td>${esc(e.met ? t.yes : t.no)}${lowFlag(e.lowCompleteness, lang)}</td>`,
        ]),
        'evidence',
      );
      const where = `${r.torgName} – ${r.module ? MODULES[r.module][lang] : t.torgWide}`;
      return `<div class="rec" data-kind="${esc(r.kind)}"><h3>${esc(KINDS[r.kind][lang])}: ${esc(where)}</h3><p>${esc(r.message[lang])}</p>
<p class="small">${esc(t.weeksMet)} ${esc(formatNumber(r.weeksMet, 'count', lang))} · ${esc(t.weeksWithData)} ${esc(formatNumber(r.weeksWithData, 'count', lang))} · ${esc(t.rule)}: ${esc(formatNumber(r.minWeeks, 'count', lang))}/${esc(formatNumber(r.windowWeeks, 'count', lang))}</p>${ev}</div>`;
    })
    .join('\n');
  const weeks = d.recommendations.weeks.length > 0 ? `${d.recommendations.weeks[0]} – ${d.recommendations.weeks[d.recommendations.weeks.length - 1]}` : t.none;
  return `<section class="page" data-section="recommendations"><h2>${esc(t.recommendations)}</h2>
<p class="meta">${esc(t.weeksEvaluated)}: ${esc(weeks)}</p>
${items || `<p>${esc(t.noRecommendations)}</p>`}</section>`;
}

function dataQualityPage(d: ReportData, lang: ReportLang): string {
  const t = T[lang];
  const q = d.dataQuality;
  const rows = q.torgs.map((x) => [
    `<th scope="row">${esc(x.name)}</th>`,
    `<td class="num" data-field="uptime.${esc(x.torg)}">${esc(formatNumber(x.uptime, 'percent', lang))}${lowFlag(x.lowCompleteness, lang)}</td>`,
    td(`${formatNumber(x.reportingHours, 'hours', lang)} / ${formatNumber(x.openHours, 'hours', lang)}`),
    td(x.drift ? `${formatNumber(x.drift.belowZero, 'signedCount', lang)} / ${formatNumber(-x.drift.closingReset, 'signedCount', lang)}` : NO_DATA),
    `<td class="num" data-field="deadLetters.${esc(x.torg)}">${esc(formatNumber(x.deadLetters, 'count', lang))}</td>`,
  ]);
  const perTorg = table([t.torg, t.uptime, t.reportingHours, `${t.drift}: ${t.belowZero} / ${t.closingReset}`, t.deadLetters], rows, 'quality');
  const chart = barChart(
    t.uptime,
    q.torgs.map((x) => x.name),
    [{ name: t.uptime, color: '#00509e', data: q.torgs.map((x) => ({ value: x.uptime, label: formatNumber(x.uptime, 'percent', lang) })) }],
    { lang, percent: true, height: 200 },
  );
  const codes = table(
    [t.code, t.count],
    [
      ...q.deadLetters.byCode.map((c) => [td(c.code, false), td(formatNumber(c.count, 'count', lang))]),
      [td(`${t.total} (${t.unattributed}: ${formatNumber(q.deadLetters.unattributed, 'count', lang)})`, false), `<td class="num" data-field="deadLetters.total">${esc(formatNumber(q.deadLetters.total, 'count', lang))}</td>`],
    ],
    'dead-letters',
  );
  const list = (days: readonly string[]): string => (days.length === 0 ? t.none : days.join(', '));
  return `<section class="page" data-section="data-quality"><h2>${esc(t.dataQuality)}</h2>
${perTorg}
<div class="chart" data-chart="uptime">${chart}</div>
<h3>${esc(t.deadLettersByCode)}</h3>
${codes}
<p class="small">${esc(t.missingDays)}: ${esc(list(q.missingDays))}<br>${esc(t.computedDays)}: ${esc(list(q.computedDays))}</p>
<h3>${esc(t.rules)}</h3>
<p class="small">${[t.suppression(d.minCount), ...t.ruleTexts(d)].map(esc).join('<br>')}</p>
<p class="small">${esc(t.versions)}: ${esc(t.indicatorsVersion)} ${esc(d.definitionVersions.indicators ?? t.none)}, ${esc(t.rulesVersion)} ${esc(d.definitionVersions.recommendations ?? t.none)}</p>
</section>`;
}

export function renderReportHtml(data: ReportData, opts: { lang: ReportLang }): string {
  const lang = opts.lang;
  const t = T[lang];
  const pages = [summaryPage(data, lang), ...data.torgs.map((x) => torgPage(data, x, lang)), effectPage(data, lang), recommendationsPage(data, lang), dataQualityPage(data, lang)];
  return `<!doctype html>
<html lang="${lang === 'nb' ? 'nb' : 'en'}">
<head>
<meta charset="utf-8">
<title>${esc(t.title)} – ${esc(monthName(data.month, lang))} – ${esc(data.municipality)}</title>
<style>${CSS}</style>
</head>
<body>
${pages.join('\n')}
</body>
</html>
`;
}

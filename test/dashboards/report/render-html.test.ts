import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../../dashboards/report/build-report.ts';
import type { ReportData } from '../../../dashboards/report/report-data.schema.ts';
import { formatNumber, parseReportNumber, renderReportHtml } from '../../../dashboards/report/render-html.ts';
import { ALFA, BETA, MUNICIPALITY, NOW, TORGS, fixtureSources } from './report-fixture.ts';

/** Group separator of nb-NO: U+00A0, or U+202F in some ICU versions (README "Number formats"). */
const G = '[\u00a0\u202f]';

let data: ReportData;
let nb: string;
let en: string;
beforeAll(async () => {
  data = await buildReport(fixtureSources(), { month: '2026-10', torgs: TORGS, municipality: MUNICIPALITY, minCount: 5, now: () => NOW });
  nb = renderReportHtml(data, { lang: 'nb' });
  en = renderReportHtml(data, { lang: 'en' });
});

/** The text of the element carrying data-field="…" (within `scope` when given). */
function field(html: string, name: string): string {
  const m = new RegExp(`data-field="${name.replace(/[.]/g, '\\.')}">([^<]*)`).exec(html);
  if (!m) throw new Error(`no field ${name}`);
  // Trimmed: a low-completeness flag follows the number after a space.
  return m[1]!.replace(/&lt;/g, '<').replace(/&amp;/g, '&').trim();
}

function sections(html: string): { kind: string; torg: string | null; html: string }[] {
  const out: { kind: string; torg: string | null; html: string }[] = [];
  const re = /<section class="page[^"]*" data-section="([^"]+)"(?: data-torg="([^"]+)")?>([\s\S]*?)<\/section>/g;
  for (let m = re.exec(html); m; m = re.exec(html)) out.push({ kind: m[1]!, torg: m[2] ?? null, html: m[3]! });
  return out;
}

function charts(html: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = /data-chart="([^"]+)">(<svg[\s\S]*?<\/svg>)/g;
  for (let m = re.exec(html); m; m = re.exec(html)) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  return out;
}

/** Every <text> content of an SVG, parsed as XML (entities decoded). */
function svgTexts(svg: string): string[] {
  const doc: unknown = new XMLParser({ ignoreAttributes: true, parseTagValue: false, processEntities: true, htmlEntities: true, isArray: (name) => name === 'text' || name === 'g' }).parse(svg);
  const texts: string[] = [];
  const walk = (node: unknown, key: string): void => {
    if (Array.isArray(node)) for (const n of node) walk(n, key);
    else if (node !== null && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
    else if (key === 'text' || key === '#text') texts.push(String(node));
  };
  walk(doc, '');
  return texts;
}

describe('renderReportHtml', () => {
  it('is one self-contained A4 document: summary, a page per torg, effektmål, recommendations, data quality', () => {
    expect(nb.startsWith('<!doctype html>')).toBe(true);
    expect(nb).toContain('@page { size: A4;');
    expect(nb).toContain('<html lang="nb">');
    expect(sections(nb).map((s) => [s.kind, s.torg])).toEqual([
      ['summary', null],
      ['torg', 'alfa'],
      ['torg', 'beta'],
      ['effect', null],
      ['recommendations', null],
      ['data-quality', null],
    ]);
    // Nothing fetched when printed: no script, no external resource.
    expect(nb).not.toMatch(/<script|<link|<img|src=|url\(/i);
  });

  it('prints the numbers in the documented Norwegian formats', () => {
    // Counts with a no-break group separator.
    expect(field(nb, 'summary.visits')).toMatch(new RegExp(`^1${G}204$`));
    expect(field(nb, 'summary.previousVisits')).toMatch(new RegExp(`^1${G}005$`));
    expect(field(nb, 'summary.change')).toBe('+199');
    // 199 / 1005 = 19.80 %: one decimal, decimal comma, no-break space before %.
    expect(field(nb, 'summary.changePct')).toMatch(new RegExp(`^\\+19,8${G}%$`));
    expect(field(nb, 'summary.completeness')).toMatch(new RegExp(`^60${G}%$`));
    const alfa = sections(nb).find((s) => s.torg === 'alfa')!.html;
    expect(field(alfa, 'avgOccupancy')).toBe('6,25');
    expect(field(alfa, 'climate.co2')).toMatch(new RegExp(`^95,5${G}%$`));
    expect(field(alfa, 'climate.humidity')).toBe('\u2013');
    // 174.6 of 225 open hours: 77.6 %; drift removed at closing printed with U+2212.
    const dq = sections(nb).find((s) => s.kind === 'data-quality')!.html;
    expect(field(dq, 'uptime.alfa')).toMatch(new RegExp(`^77,6${G}%$`));
    expect(dq).toContain('174,6 / 225');
    expect(dq).toContain('+7 / \u221212');
    expect(field(dq, 'deadLetters.total')).toBe('10');
    // parseReportNumber reads every format back.
    expect(parseReportNumber(field(nb, 'summary.visits'), 'nb')).toBe(1204);
    expect(parseReportNumber(field(nb, 'summary.changePct'), 'nb')).toBeCloseTo(0.198, 10);
    expect(parseReportNumber('\u221212', 'nb')).toBe(-12);
    expect(parseReportNumber('1\u202f234,5', 'nb')).toBe(1234.5);
    expect(parseReportNumber('<5', 'nb')).toBeNull();
    expect(parseReportNumber('\u2013', 'nb')).toBeNull();
    expect(() => parseReportNumber('12 apples', 'nb')).toThrow();
  });

  it('shows suppressed counts as <minCount, never their value', () => {
    const beta = sections(nb).find((s) => s.torg === 'beta')!.html;
    expect(field(beta, 'visits')).toBe('<5');
    expect(field(beta, 'peakOccupancy')).toBe('<5');
    expect(field(beta, 'meraapent.visits')).toBe('<5');
    // September's 5 is shown; the change against a suppressed month is not.
    expect(field(beta, 'previousVisits')).toBe('5');
    expect(field(beta, 'change')).toBe('\u2013 (\u2013)');
    const effect = sections(nb).find((s) => s.kind === 'effect')!.html;
    expect(field(effect, 'indicator.besok-per-1000.beta')).toBe('<5');
    expect(field(effect, 'indicator.lokaldemokrati-oppmote.alfa')).toBe('5');
  });

  it('per-torg pages: open hours of the 745-hour October, utilisation by module', () => {
    const alfa = sections(nb).find((s) => s.torg === 'alfa')!.html;
    expect(field(alfa, 'monthHours')).toBe('745');
    expect(field(alfa, 'openHours')).toBe('132 / 93');
    expect(field(alfa, 'module.innbyggerservice.utilisation')).toMatch(new RegExp(`^42${G}%$`));
    expect(field(alfa, 'module.møterom.utilisation')).toMatch(new RegExp(`^31${G}%$`));
    expect(field(alfa, 'ghost.share')).toMatch(new RegExp(`^25${G}%$`));
    const beta = sections(nb).find((s) => s.torg === 'beta')!.html;
    expect(field(beta, 'openHours')).toBe(`0 / 745`);
    expect(beta).toContain('Ingen bookingdata for dette torget.');
  });

  it('draws every chart as valid SVG carrying its values', () => {
    const c = charts(nb);
    expect([...c.keys()].sort()).toEqual(['daily-visits', 'indicator-status', 'module-utilisation', 'uptime', 'visits-per-torg']);
    const all = [...c.values()].flat();
    // 2 on the summary, 2 per torg, 1 on data quality.
    expect(all).toHaveLength(7);
    for (const svg of all) {
      expect(svg.startsWith('<svg')).toBe(true);
      expect(XMLValidator.validate(svg)).toBe(true);
    }
    const perTorg = svgTexts(c.get('visits-per-torg')![0]!);
    expect(perTorg).toEqual(expect.arrayContaining(['Alfa innbyggertorg', 'Beta torg', 'oktober 2026', 'september 2026', '<5', '5']));
    // Bar labels: alfa 1200 (October) and 1000 (September) — as formatted text.
    const numbers = perTorg.map((t) => (/^[\d\u00a0\u202f]+$/.test(t) ? parseReportNumber(t, 'nb') : null));
    expect(numbers).toEqual(expect.arrayContaining([1200, 1000]));
    // One bar path per drawn value: ECharts draws a bar for every datum, suppressed ones as height 0.
    const [daily] = c.get('daily-visits')!;
    const dailyTexts = svgTexts(daily!);
    // 31 day ticks, 01 … 31 (the 25-hour 25th included once).
    for (let d = 1; d <= 31; d++) expect(dailyTexts).toContain(String(d).padStart(2, '0'));
    expect(dailyTexts).toEqual(expect.arrayContaining(['40', '60', '<5']));
    const modules = svgTexts(c.get('module-utilisation')![0]!);
    expect(modules).toEqual(expect.arrayContaining(['Innbyggerservice', 'Møterom']));
    // Percent labels read back as shares, rounded to the printed precision (0.1 % = 0.001).
    const shares = (texts: string[]) => texts.filter((t) => /%$/.test(t)).map((t) => Math.round(parseReportNumber(t, 'nb')! * 1000) / 1000);
    expect(shares(modules)).toEqual(expect.arrayContaining([0.42, 0.31]));
    expect(shares(svgTexts(c.get('uptime')![0]!))).toEqual(expect.arrayContaining([0.776, 0.5]));
  });

  it('English variant: English words and en-GB numbers, same figures', () => {
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('Monthly report for the innbyggertorg – October 2026');
    expect(en).not.toContain('Månedsrapport');
    expect(field(en, 'summary.visits')).toBe('1,204');
    expect(field(en, 'summary.changePct')).toBe('+19.8%');
    expect(parseReportNumber(field(en, 'summary.visits'), 'en')).toBe(1204);
    expect(en).toContain('Self-service later');
    expect(sections(en).filter((s) => s.kind === 'torg')).toHaveLength(2);
    expect(formatNumber(-1234.5, 'decimal', 'en')).toBe('-1,234.5');
  });

  it('states the rules in the language of the report (the APIs state them in English)', () => {
    const rules = (html: string): string => html.slice(html.indexOf('data-section="data-quality"'));
    expect(rules(nb)).toContain('fylles aldri');
    expect(rules(nb)).not.toContain(data.rules.gaps);
    expect(rules(en)).toContain(data.rules.gaps);
    expect(rules(en)).not.toContain('fylles aldri');
  });

  it('escapes names in HTML and in the SVG', async () => {
    const odd = { ...ALFA, name: 'Ås "torg" & <b>' };
    const d = await buildReport(fixtureSources(), { month: '2026-10', torgs: [odd, BETA], municipality: MUNICIPALITY, minCount: 5, now: () => NOW });
    const html = renderReportHtml(d, { lang: 'nb' });
    expect(html).not.toContain('<b>');
    expect(html).toContain('Ås &quot;torg&quot; &amp; &lt;b&gt;');
    for (const svg of [...charts(html).values()].flat()) expect(XMLValidator.validate(svg)).toBe(true);
    expect(svgTexts(charts(html).get('visits-per-torg')![0]!)).toContain('Ås "torg" & <b>');
  });
});

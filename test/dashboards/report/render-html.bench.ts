/**
 * Benchmark: buildReport + renderReportHtml for the seven sample torg (config/torg.asker.sample.json)
 * over October 2026, from in-memory month and day rows (no InfluxDB: this measures the builder and
 * the ECharts SVG rendering, 2 + 2 × torg + 1 charts). Prints median and max per step and the size of
 * the document.
 *
 *   npx tsx test/dashboards/report/render-html.bench.ts [rounds=20]
 */
import { readFileSync } from 'node:fs';
import { metricRowSchema, type MetricRow } from '../../../dashboards/metrics/metric-row.schema.ts';
import { buildReport } from '../../../dashboards/report/build-report.ts';
import { renderReportHtml } from '../../../dashboards/report/render-html.ts';
import { localDay } from '../../../devices/torg/opening-hours.ts';
import { torgConfigSchema } from '../../../devices/torg/torg-config.schema.ts';
import { DEAD_LETTERS, INDICATOR_FILE, INDICATORS, NOW, OCT, RECOMMENDATIONS, SEP, fixtureSources, row } from './report-fixture.ts';

const rounds = Number(process.argv[2] ?? 20);
const config = torgConfigSchema.parse(JSON.parse(readFileSync(new URL('../../../config/torg.asker.sample.json', import.meta.url), 'utf8')));
const torgs = config.torg;

const rows: MetricRow[] = [];
let i = 0;
for (const t of torgs) {
  i += 1;
  for (const [period, label, scale] of [[OCT, '2026-10', 1], [SEP, '2026-09', 0.9]] as const) {
    for (const split of ['all', 'staffed', 'meraapent', 'closed'] as const) {
      rows.push(row({ scope: 'torg', scopeId: t.id, split, visits: Math.round(3000 * i * scale), avgOccupancy: 4.5, peakOccupancy: 20 + i, utilisation: 0.3, timeUsedShare: 0.6, completeness: 0.93, drift: { belowZero: i, closingReset: 2 * i } }, period, 'month', label));
    }
  }
  for (const m of new Set(t.zones.map((z) => z.module))) rows.push(row({ scope: 'module', scopeId: `${t.id}/${m}`, split: 'all', utilisation: 0.1 * i, timeUsedShare: 0.5, peakOccupancy: 3 * i, completeness: 0.9 }));
  for (let d = localDay(OCT.startMs); d.startMs < OCT.endMs; d = localDay(d.endMs)) {
    rows.push(metricRowSchema.parse({ ...row({ scope: 'torg', scopeId: t.id, split: 'all', visits: 100 + i }, d, 'day', d.label) }));
  }
}
rows.push(row({ scope: 'municipality', scopeId: 'asker', split: 'all', visits: 84000, completeness: 0.93 }));
rows.push(row({ scope: 'municipality', scopeId: 'asker', split: 'all', visits: 75600, completeness: 0.93 }, SEP, 'month', '2026-09'));

const sources = fixtureSources({
  metricsMonth: async () => ({ rows, rules: { hold: 'hold', gaps: 'gaps', completenessThreshold: 0.8 }, computedDays: [], missingDays: [] }),
  indicators: async () => INDICATORS,
  recommendations: async () => RECOMMENDATIONS,
  deadLetters: async () => DEAD_LETTERS,
  indicatorDefinitions: INDICATOR_FILE.indicators,
});

const build: number[] = [];
const render: number[] = [];
let bytes = 0;
let svgs = 0;
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  const data = await buildReport(sources, { month: '2026-10', torgs, municipality: config.municipality, minCount: 5, now: () => NOW });
  const t1 = performance.now();
  const html = renderReportHtml(data, { lang: 'nb' });
  const t2 = performance.now();
  build.push(t1 - t0);
  render.push(t2 - t1);
  bytes = Buffer.byteLength(html);
  svgs = (html.match(/<svg /g) ?? []).length;
}
const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms`;
};
console.log(`${torgs.length} torg, ${rounds} rounds (first includes warm-up)`);
console.log(`buildReport:      ${stat(build)}`);
console.log(`renderReportHtml: ${stat(render)} — ${svgs} SVG charts, ${(bytes / 1024).toFixed(0)} KiB`);

/**
 * The monthly report's reads from stored hours (dashboards/report/report-sources.ts) for the sample
 * torg config, in this process, which report-reads.ts starts with the ingest's V8 flags
 * (ingest/node-flags). Prints one JSON line: seconds per read and the peak resident set. A heap too
 * small for them ends the process with V8's out-of-memory error.
 *
 * Usage: node <flags> --import tsx report-reads.child.ts INFLUX_URL DB YYYY-MM
 */
import { fileURLToPath } from 'node:url';
import { loadTorgConfig } from '../../../devices/torg/torg-config.schema.ts';
import { loadIndicatorFile } from '../../../dashboards/indicators/indicator-definition.schema.ts';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import { parseLocalPeriod } from '../../../dashboards/metrics/metrics-routes.ts';
import { createReportSources } from '../../../dashboards/report/report-sources.ts';
import { loadSkaleringRules } from '../../../dashboards/skalering/skalering-rules.schema.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const [url, db, label] = process.argv.slice(2);
if (url === undefined || db === undefined || label === undefined) throw new Error('usage: report-reads.child.ts INFLUX_URL DB YYYY-MM');
const month = parseLocalPeriod(label);
if (month === null) throw new Error(`not a month: ${label}`);

const store = new InfluxMetricsReader({ url, db, timeoutMs: 120_000 });
const sources = createReportSources({
  store,
  influx: store,
  torgs: loadTorgConfig(`${root}config/torg.asker.sample.json`).torg,
  // The month is over; nothing is computed from raw readings (no `recompute`): only stored hours are read.
  now: () => month.endMs + 86_400_000,
  options: { defaultExpectedIntervalMs: 60_000, municipality: 'asker' },
  indicators: { file: loadIndicatorFile(`${root}config/indicators.sample.json`) },
  skalering: { rules: loadSkaleringRules(`${root}config/skalering.sample.json`) },
});

const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await f();
  return +((performance.now() - t0) / 1000).toFixed(3);
};
const metricsMonthSeconds = await timed(() => sources.metricsMonth(label));
const indicatorsSeconds = await timed(async () => sources.indicators?.(label));
const recommendationsSeconds = await timed(async () => sources.recommendations?.(month.endMs));
process.stdout.write(
  `${JSON.stringify({
    metricsMonthSeconds,
    indicatorsSeconds,
    recommendationsSeconds,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    heapLimitMb: Math.round((await import('node:v8')).getHeapStatistics().heap_size_limit / 2 ** 20),
  })}\n`,
);

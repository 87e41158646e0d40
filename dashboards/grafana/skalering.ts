/**
 * Skalering: the weekly evidence the skalering rules read (dashboards/skalering/README.md "Rules"),
 * from the hourly aggregates (`agg_hourly`, RP `forever`), with the rules' thresholds drawn as lines.
 * The thresholds and the split are read from a rules file at generation time (generate.ts
 * `--skalering-rules`), so a deployment regenerates the dashboard from its own rules.
 *
 * Weeks are ISO weeks in Oslo time (OSLO_WEEK_GROUP in common.ts explains the offset), and the range
 * is the rules' window: the `windowWeeks` complete weeks before the current one (`now-Mw/w` to
 * `now-1w/w`, with the dashboard's week starting on Monday).
 *
 * Peak share per zone: the rule compares a head-counting zone's peak with its capacity, which is not
 * a field of `agg_hourly`. For such a zone each hour stores utilDen = Σ capacity·dt and
 * targetKnownMs = Σ dt over the same reported time (dashboards/metrics/metrics-engine.ts
 * addOccupancy), so capacity = utilDen ÷ targetKnownMs and peak ÷ capacity = peak · targetKnownMs ÷
 * utilDen per hour; the week's share is the highest hour's. Presence-only zones (targetKnownMs = 0)
 * have no head count and are left out, as in recommend.ts.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { SkaleringRules } from '../skalering/skalering-rules.schema.ts';
import { AGG_HOURLY_FROM, InfluxQLQuery, OSLO_WEEK_GROUP, TORG_FILTER, TZ_CLAUSE, barsPanel, baseDashboard, timeseriesPanel, withLegend, withThresholdLines } from './common.ts';

export const SKALERING_UID = 'itorg-skalering';

const pct = (x: number): string => `${Math.round(x * 1000) / 10} %`;

/** The torg hour-row value the meråpent rule reads, as an InfluxQL aggregate over hourly points. */
const EDGE_METRIC: Record<SkaleringRules['extendMeraapent']['metric'], { select: string; title: string; en: string }> = {
  avgOccupancy: { select: 'sum("occMs") / sum("reportedMs")', title: 'snittbelegg', en: 'mean occupancy' },
  peakOccupancy: { select: 'max("peak")', title: 'høyeste belegg', en: 'peak occupancy' },
  visits: { select: 'sum("visits")', title: 'besøk', en: 'visits' },
};

export function skaleringDashboard(rules: SkaleringRules): dashboard.Dashboard {
  const weekly = `GROUP BY ${OSLO_WEEK_GROUP}`;
  const split = `"split" = '${rules.split}'`;
  const edge = EDGE_METRIC[rules.extendMeraapent.metric];

  const utilisation = barsPanel(
    'Utnyttelse per modul per uke',
    `Modulens utnyttelse per ISO-uke (Oslo), split «${rules.split}». Linjer: skaler opp over ${pct(rules.scaleUp.utilisationAbove)}, skaler ned under ${pct(rules.scaleDown.utilisationBelow)} (i minst ${rules.scaleUp.minWeeks} / ${rules.scaleDown.minWeeks} av ${rules.windowWeeks} uker). / Module utilisation per ISO week with the scale-up and scale-down thresholds.`,
    new InfluxQLQuery(
      'A',
      `SELECT sum("utilNum") / sum("utilDen") AS "utnyttelse" FROM ${AGG_HOURLY_FROM} WHERE "scope" = 'module' AND ${split} AND ${TORG_FILTER} AND "reportedMs" > 0 AND $timeFilter ${weekly}, "scopeId" fill(none) ${TZ_CLAUSE}`,
    ).alias('$tag_scopeId'),
    { x: 0, y: 0, w: 12, h: 9 },
    'percentunit',
  );
  const peakShare = barsPanel(
    'Toppbelegg ÷ kapasitet per sone per uke',
    `Høyeste belegg ÷ kapasitet per sone med persontelling, per ISO-uke (Oslo). Linje: skaler opp over ${pct(rules.scaleUp.peakShareAbove)}. Soner med kun tilstedeværelse vises ikke. / Peak ÷ capacity per head-counting zone per ISO week, with the scale-up threshold.`,
    new InfluxQLQuery(
      'A',
      `SELECT max("andel") AS "toppAndel" FROM (SELECT "peak" * "targetKnownMs" / "utilDen" AS "andel" FROM ${AGG_HOURLY_FROM} WHERE "scope" = 'zone' AND ${split} AND ${TORG_FILTER} AND "targetKnownMs" > 0 AND $timeFilter) WHERE $timeFilter ${weekly}, "torg", "scopeId" fill(none) ${TZ_CLAUSE}`,
    ).alias('$tag_torg/$tag_scopeId'),
    { x: 12, y: 0, w: 12, h: 9 },
    'percentunit',
  );
  const completeness = timeseriesPanel(
    'Kompletthet per modul per uke',
    'Rapportert tid ÷ åpen tid per ISO-uke; en uke under kompletthetsgrensen teller som utilstrekkelige data i reglene. / Completeness per module and ISO week; a week below the completeness threshold counts as insufficient data.',
    new InfluxQLQuery(
      'A',
      `SELECT sum("reportedMs") / sum("spanMs") AS "kompletthet" FROM ${AGG_HOURLY_FROM} WHERE "scope" = 'module' AND ${split} AND ${TORG_FILTER} AND "spanMs" > 0 AND $timeFilter ${weekly}, "scopeId" fill(none) ${TZ_CLAUSE}`,
    ).alias('$tag_scopeId'),
    { x: 0, y: 9, w: 12, h: 8 },
    'percentunit',
  );
  // dimensioning.ts reads each module hour's peakRoomsInUse (split `all`, whole hours reported) and
  // takes a percentile over the weeks; the panel shows each week's highest hour, the ceiling of it.
  const roomsInUse = barsPanel(
    'Rom i bruk samtidig per modul per uke',
    'Flest rom i modulen i bruk på samme tid, høyeste time i hver ISO-uke (Oslo), all åpen tid. Dimensjoneringsanslaget (GET /api/v1/dimensioning, CLI «dimensioning») bruker en persentil av timene, ikke den høyeste. / Most rooms of the module in use at once, the highest hour of each ISO week; the dimensioning estimate uses a percentile of the hours, not the highest.',
    new InfluxQLQuery(
      'A',
      `SELECT max("peakRoomsInUse") AS "romIBruk" FROM ${AGG_HOURLY_FROM} WHERE "scope" = 'module' AND "split" = 'all' AND ${TORG_FILTER} AND $timeFilter ${weekly}, "scopeId" fill(none) ${TZ_CLAUSE}`,
    ).alias('$tag_scopeId'),
    { x: 0, y: 17, w: 24, h: 8 },
  );
  const meraapent = timeseriesPanel(
    `Meråpent: ${edge.title} per time`,
    `Torgets ${edge.title} i hver meråpne time. Regelen leser første og siste time av dagens åpningstid når den er meråpen; linje: forleng over ${rules.extendMeraapent.above} (i minst ${rules.extendMeraapent.minWeeks} av ${rules.windowWeeks} uker). / The torg's ${edge.en} in each meråpent hour; the rule reads the first and last hour of the day's opening.`,
    new InfluxQLQuery(
      'A',
      `SELECT ${edge.select} AS "verdi" FROM ${AGG_HOURLY_FROM} WHERE "scope" = 'torg' AND "split" = 'meraapent' AND ${TORG_FILTER} AND "reportedMs" > 0 AND $timeFilter GROUP BY time(1h), "torg" fill(none)`,
    ).alias('$tag_torg'),
    { x: 12, y: 9, w: 12, h: 8 },
  );

  return baseDashboard(SKALERING_UID, 'Innbyggertorg – skalering', ['skalering'])
    .description(`Ukentlig grunnlag for skaleringsreglene (regler ${rules.version}) / Weekly evidence for the skalering rules`)
    .time({ from: `now-${rules.windowWeeks}w/w`, to: 'now-1w/w' })
    .weekStart('monday')
    .refresh('1h')
    .withPanel(
      withLegend(
        withThresholdLines(utilisation, [
          { value: rules.scaleDown.utilisationBelow, color: 'blue' },
          { value: rules.scaleUp.utilisationAbove, color: 'red' },
        ]),
      ),
    )
    .withPanel(withLegend(withThresholdLines(peakShare, [{ value: rules.scaleUp.peakShareAbove, color: 'red' }])))
    .withPanel(withLegend(completeness))
    .withPanel(withLegend(withThresholdLines(meraapent, [{ value: rules.extendMeraapent.above, color: 'red' }])))
    .withPanel(withLegend(roomsInUse))
    .build();
}

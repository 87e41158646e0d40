/**
 * Live overview of the seven innbyggertorg: people inside now and visits today from the people
 * counters, visits per Oslo day, and CO2 per zone (climate sensor).
 *
 * Day buckets: InfluxQL `GROUP BY time(1d)` alone buckets in UTC and a fixed offset cannot follow
 * DST, so the daily query adds `tz('Europe/Oslo')` (InfluxQL time-zone clause, InfluxDB ≥ 1.4:
 * https://docs.influxdata.com/influxdb/v1/query_language/explore-data/#the-time-zone-clause), which
 * aligns the 1d buckets on Oslo midnight, 23 h and 25 h days included. "Today" panels use the panel
 * time override `now/d`, which Grafana resolves in the dashboard's time zone (Europe/Oslo).
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { InfluxQLQuery, TORG_FILTER, TIME_ZONE, barsPanel, baseDashboard, rawFrom, statPanel, timeseriesPanel } from './common.ts';

export const OVERVIEW_UID = 'itorg-overview';

export function overviewDashboard(): dashboard.Dashboard {
  const counter = rawFrom('counter');
  return baseDashboard(OVERVIEW_UID, 'Innbyggertorg – oversikt', ['oversikt'])
    .description('Live oversikt over innbyggertorgene / Live overview of the innbyggertorg')
    .withPanel(
      statPanel(
        'Personer inne nå',
        'Inn minus ut siden midnatt (Oslo-tid), per torg. / People in now: in minus out since Oslo midnight.',
        new InfluxQLQuery('A', `SELECT sum("periodIn") - sum("periodOut") AS "inne" FROM ${counter} WHERE ${TORG_FILTER} AND $timeFilter GROUP BY "torg"`).alias('$tag_torg'),
        { x: 0, y: 0, w: 12, h: 6 },
      ).timeFrom('now/d'),
    )
    .withPanel(
      statPanel(
        'Besøk i dag',
        'Personer inn siden midnatt (Oslo-tid), per torg. / Visits today since Oslo midnight.',
        new InfluxQLQuery('A', `SELECT sum("periodIn") AS "besok" FROM ${counter} WHERE ${TORG_FILTER} AND $timeFilter GROUP BY "torg"`).alias('$tag_torg'),
        { x: 12, y: 0, w: 12, h: 6 },
      ).timeFrom('now/d'),
    )
    .withPanel(
      barsPanel(
        'Besøk per dag',
        'Personer inn per døgn, døgn etter Oslo-tid. / Visits per Oslo day.',
        new InfluxQLQuery(
          'A',
          `SELECT sum("periodIn") AS "besok" FROM ${counter} WHERE ${TORG_FILTER} AND $timeFilter GROUP BY time(1d), "torg" fill(0) tz('${TIME_ZONE}')`,
        ).alias('$tag_torg'),
        { x: 0, y: 6, w: 24, h: 8 },
      ).timeFrom('7d'),
    )
    .withPanel(
      timeseriesPanel(
        'CO2 per sone',
        'Gjennomsnittlig CO2 per sensor (sone). / Mean CO2 per sensor (zone).',
        new InfluxQLQuery(
          'A',
          `SELECT mean("co2") FROM ${rawFrom('climate')} WHERE ${TORG_FILTER} AND $timeFilter GROUP BY time($__interval), "torg", "device" fill(none)`,
        ).alias('$tag_torg $tag_device'),
        { x: 0, y: 14, w: 24, h: 8 },
        'ppm',
      ),
    )
    .build();
}

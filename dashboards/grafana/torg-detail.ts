/**
 * Torg detail from the platform's hourly aggregates (`agg_hourly` in RP `forever`,
 * dashboards/metrics/agg-hourly.ts), which outlive the raw readings: visits per Oslo day, and over the
 * chosen range the utilisation per module and the share of measured time with CO2 within the limit
 * per zone. Ratios are sums of the stored numerators over sums of the denominators (the mergeable
 * sums the aggregates are designed for), never means of hourly ratios, which would weight an hour
 * with little data like a full one.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { AGG_HOURLY_MEASUREMENT, RP_AGGREGATES } from '../../devices/contract/influx-layout.ts';
import { InfluxQLQuery, TIME_ZONE, TORG_FILTER, barsPanel, baseDashboard, tablePanel } from './common.ts';

export const TORG_DETAIL_UID = 'itorg-torg-detail';

export function torgDetailDashboard(): dashboard.Dashboard {
  const from = `"${RP_AGGREGATES}"."${AGG_HOURLY_MEASUREMENT.measurement}"`;
  const where = (scope: string): string => `"scope" = '${scope}' AND "split" = 'all' AND ${TORG_FILTER} AND $timeFilter`;
  return baseDashboard(TORG_DETAIL_UID, 'Innbyggertorg – detaljer', ['torg'])
    .description('Besøk, utnyttelse og inneklima per torg / Visits, utilisation and indoor climate per torg')
    .time({ from: 'now-7d', to: 'now' })
    .withPanel(
      barsPanel(
        'Besøk per dag (aggregert)',
        'Besøk per døgn etter Oslo-tid, fra timesaggregatene. / Visits per Oslo day from the hourly aggregates.',
        new InfluxQLQuery('A', `SELECT sum("visits") AS "besok" FROM ${from} WHERE ${where('torg')} GROUP BY time(1d), "torg" fill(none) tz('${TIME_ZONE}')`).alias(
          '$tag_torg',
        ),
        { x: 0, y: 0, w: 24, h: 8 },
      ),
    )
    .withPanel(
      tablePanel(
        'Utnyttelse per modul',
        'Andel av tiden modulen var i bruk i valgt periode. / Share of time each module was in use.',
        new InfluxQLQuery('A', `SELECT sum("utilNum") / sum("utilDen") AS "utnyttelse" FROM ${from} WHERE ${where('module')} GROUP BY "torg", "scopeId"`, 'table'),
        { x: 0, y: 8, w: 12, h: 8 },
      ),
    )
    .withPanel(
      tablePanel(
        'CO2 innenfor grensen per sone',
        'Andel av målt tid med CO2 innenfor grensen. / Share of measured time with CO2 within the limit.',
        new InfluxQLQuery('A', `SELECT sum("co2OkMs") / sum("co2KnownMs") AS "andel" FROM ${from} WHERE ${where('zone')} GROUP BY "torg", "scopeId"`, 'table'),
        { x: 12, y: 8, w: 12, h: 8 },
      ),
    )
    .build();
}

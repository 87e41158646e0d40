/** Indoor climate per zone (climate sensors): temperature, relative humidity, CO2, and the latest values. */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { InfluxQLQuery, TORG_FILTER, baseDashboard, rawFrom, tablePanel, timeseriesPanel } from './common.ts';

export const CLIMATE_UID = 'itorg-climate';

function perZone(field: string): InfluxQLQuery {
  return new InfluxQLQuery(
    'A',
    `SELECT mean("${field}") FROM ${rawFrom('climate')} WHERE ${TORG_FILTER} AND $timeFilter GROUP BY time($__interval), "torg", "device" fill(none)`,
  ).alias('$tag_torg $tag_device');
}

export function climateDashboard(): dashboard.Dashboard {
  return baseDashboard(CLIMATE_UID, 'Innbyggertorg – inneklima', ['inneklima'])
    .description('Inneklima per sone / Indoor climate per zone')
    .withPanel(timeseriesPanel('Temperatur', 'Middeltemperatur per sensor. / Mean temperature per sensor.', perZone('temperature'), { x: 0, y: 0, w: 12, h: 8 }, 'celsius'))
    .withPanel(timeseriesPanel('Relativ fuktighet', 'Middel relativ fuktighet per sensor. / Mean relative humidity.', perZone('humidity'), { x: 12, y: 0, w: 12, h: 8 }, 'humidity'))
    .withPanel(timeseriesPanel('CO2', 'Middel CO2 per sensor. / Mean CO2 per sensor.', perZone('co2'), { x: 0, y: 8, w: 12, h: 8 }, 'ppm'))
    .withPanel(
      tablePanel(
        'Siste måling per sone',
        'Siste temperatur, fuktighet og CO2 per sensor. / Latest values per sensor.',
        new InfluxQLQuery(
          'A',
          `SELECT last("temperature") AS "temperatur", last("humidity") AS "fuktighet", last("co2") AS "co2" FROM ${rawFrom('climate')} WHERE ${TORG_FILTER} AND $timeFilter GROUP BY "torg", "device"`,
          'table',
        ),
        { x: 12, y: 8, w: 12, h: 8 },
      ),
    )
    .build();
}

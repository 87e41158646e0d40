/**
 * Device health: when each device last reported a health reading, its battery and radio link. The
 * last-seen time is the time column of `last()`, which InfluxQL returns as the selected point's own
 * timestamp (selector functions keep the point's time when used alone:
 * https://docs.influxdata.com/influxdb/v1/query_language/functions/#selectors).
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { InfluxQLQuery, TORG_FILTER, baseDashboard, rawFrom, tablePanel, timeseriesPanel } from './common.ts';

export const DEVICE_HEALTH_UID = 'itorg-device-health';

export function deviceHealthDashboard(): dashboard.Dashboard {
  const health = rawFrom('health');
  return baseDashboard(DEVICE_HEALTH_UID, 'Innbyggertorg – enhetshelse', ['enheter'])
    .description('Sist sett, batteri og radio per enhet / Last seen, battery and radio per device')
    .time({ from: 'now-7d', to: 'now' })
    .withPanel(
      tablePanel(
        'Sist sett per enhet',
        'Tidspunktet er siste helsemelding fra enheten. / Time of the last health reading per device.',
        new InfluxQLQuery('A', `SELECT last("battery") AS "batteri" FROM ${health} WHERE ${TORG_FILTER} AND $timeFilter GROUP BY "torg", "device"`, 'table'),
        { x: 0, y: 0, w: 12, h: 10 },
      ),
    )
    .withPanel(
      timeseriesPanel(
        'Batteri',
        'Batterinivå per enhet. / Battery level per device.',
        new InfluxQLQuery('A', `SELECT min("battery") FROM ${health} WHERE ${TORG_FILTER} AND $timeFilter GROUP BY time($__interval), "torg", "device" fill(none)`).alias(
          '$tag_torg $tag_device',
        ),
        { x: 12, y: 0, w: 12, h: 10 },
        'percent',
      ),
    )
    .withPanel(
      timeseriesPanel(
        'Signalstyrke (RSSI)',
        'Svakeste opplink per enhet. / Weakest uplink per device.',
        new InfluxQLQuery('A', `SELECT min("rssi") FROM ${health} WHERE ${TORG_FILTER} AND $timeFilter GROUP BY time($__interval), "torg", "device" fill(none)`).alias(
          '$tag_torg $tag_device',
        ),
        { x: 0, y: 10, w: 24, h: 8 },
        'dBm',
      ),
    )
    .build();
}

/**
 * Ingest operations from InfluxDB alone. The ingest's own counters and latencies are Prometheus
 * metrics (prom-client), and this deployment has no Prometheus datasource yet, so this dashboard
 * shows what the ingest records in InfluxDB: the `deadletter` measurement (ingest/dead-letter.ts),
 * one point per refused message or reading, tagged by reason code. Not filtered by `torg`: a dead
 * letter whose topic named no torg is tagged `unknown`, and those are the ones operators need most.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DEADLETTER_MEASUREMENT, RP_RAW } from '../../devices/contract/influx-layout.ts';
import { InfluxQLQuery, baseDashboard, statPanel, tablePanel, barsPanel } from './common.ts';

export const INGEST_OPERATIONS_UID = 'itorg-ingest-operations';

export function ingestOperationsDashboard(): dashboard.Dashboard {
  const from = `"${RP_RAW}"."${DEADLETTER_MEASUREMENT.measurement}"`;
  // `topic` is written on every dead letter, so counting it counts dead letters.
  return baseDashboard(INGEST_OPERATIONS_UID, 'Innbyggertorg – ingest', ['drift'])
    .description('Avviste meldinger (dead letters) / Refused messages (dead letters)')
    .withPanel(
      statPanel(
        'Avviste meldinger siste døgn',
        'Antall avviste meldinger og målinger per årsakskode, siste 24 timer. / Dead letters per reason code, last 24 h.',
        new InfluxQLQuery('A', `SELECT count("topic") AS "antall" FROM ${from} WHERE $timeFilter GROUP BY "reason"`).alias('$tag_reason'),
        { x: 0, y: 0, w: 24, h: 5 },
      ).timeFrom('24h'),
    )
    .withPanel(
      barsPanel(
        'Avviste meldinger over tid',
        'Avviste meldinger per årsakskode. / Dead letters per reason code over time.',
        new InfluxQLQuery('A', `SELECT count("topic") FROM ${from} WHERE $timeFilter GROUP BY time($__interval), "reason" fill(none)`).alias('$tag_reason'),
        { x: 0, y: 5, w: 24, h: 8 },
      ),
    )
    .withPanel(
      tablePanel(
        'Siste avviste meldinger',
        'De 50 siste, nyeste først. / The latest 50, newest first.',
        new InfluxQLQuery('A', `SELECT "reason", "torg", "gateway", "detail", "topic" FROM ${from} WHERE $timeFilter ORDER BY time DESC LIMIT 50`, 'table'),
        { x: 0, y: 13, w: 24, h: 10 },
      ),
    )
    .build();
}

/**
 * Rooms and utilisation per zone and module of the selected torg, from the hourly aggregates
 * (`agg_hourly` in RP `forever`, dashboards/metrics/agg-hourly.ts).
 *
 * Every ratio is a sum of the stored numerators over a sum of the denominators (the mergeable sums
 * the aggregates are built for, dashboards/metrics/accumulator.ts rowValues), never a mean of hourly
 * ratios. InfluxQL answers 0, not null, for a division by zero (checked against 1.6.7), so each
 * query keeps only the hours where its denominator is positive: an hour without reported time adds 0
 * to every reported-time sum, so `"reportedMs" > 0` leaves those ratios unchanged and turns "no data"
 * into no row instead of a false 0 %. Time at target exists only for head-counting rooms
 * (`targetKnownMs` > 0); a presence-only room has no row there. Completeness (reported ÷ open time)
 * needs the unreported hours, so it is its own query; the tables merge the queries per torg and id.
 *
 * Zone points carry no module tag (AGG_HOURLY_MEASUREMENT tags: scope, scopeId, torg, split), so the
 * `module` variable filters the module panels only.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as table from '@grafana/grafana-foundation-sdk/table';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import {
  AGG_HOURLY_FROM,
  InfluxQLQuery,
  OSLO_DAY_GROUP,
  TORG_FILTER,
  TZ_CLAUSE,
  baseDashboard,
  tablePanel,
  tagValuesVariable,
  timeseriesPanel,
  withLegend,
  type PanelPlacement,
} from './common.ts';

export const ROOMS_UID = 'itorg-rooms';

const MODULE_FILTER = `"scopeId" =~ /^$module$/`;

/** Split variable: all open time, or only its staffed or meråpent hours (metric-row.schema.ts SPLITS). */
function splitVariable(): dashboard.CustomVariableBuilder {
  return new dashboard.CustomVariableBuilder('split')
    .label('Åpningstid')
    .description('Alle åpne timer, betjent eller meråpent / All open hours, staffed or meråpent')
    .values('Alle åpne timer : all, Betjent : staffed, Meråpent : meraapent')
    .current({ selected: true, text: 'Alle åpne timer', value: 'all' })
    .options([
      { selected: true, text: 'Alle åpne timer', value: 'all' },
      { selected: false, text: 'Betjent', value: 'staffed' },
      { selected: false, text: 'Meråpent', value: 'meraapent' },
    ]);
}

function moduleVariable(): dashboard.QueryVariableBuilder {
  return tagValuesVariable('module', 'Modul', `SHOW TAG VALUES FROM ${AGG_HOURLY_FROM} WITH KEY = "scopeId" WHERE "scope" = 'module' AND ${TORG_FILTER}`, true);
}

function where(scope: 'zone' | 'module', extra: string): string {
  const base = `"scope" = '${scope}' AND "split" = '$split' AND ${TORG_FILTER}`;
  return `${base}${scope === 'module' ? ` AND ${MODULE_FILTER}` : ''} AND ${extra} AND $timeFilter`;
}

/** One line per zone or module, one point per Oslo day. */
function perDayPanel(title: string, description: string, scope: 'zone' | 'module', select: string, at: PanelPlacement): timeseries.PanelBuilder {
  // Zone ids are unique within a torg only (torg-config.schema.ts); module ids already name their torg.
  const query = new InfluxQLQuery(
    'A',
    `SELECT ${select} FROM ${AGG_HOURLY_FROM} WHERE ${where(scope, '"reportedMs" > 0')} GROUP BY ${OSLO_DAY_GROUP}, "torg", "scopeId" fill(none) ${TZ_CLAUSE}`,
  ).alias(scope === 'zone' ? '$tag_torg/$tag_scopeId' : '$tag_scopeId');
  return withLegend(timeseriesPanel(title, description, query, at, 'percentunit'));
}

const UTILISATION = 'sum("utilNum") / sum("utilDen") AS "utnyttelse"';
const TIME_USED = 'sum("usedMs") / sum("reportedMs") AS "tidIBruk"';

/** Utilisation, time used, peak; time at target; completeness — merged into one row per torg and id. */
function summaryTable(title: string, description: string, scope: 'zone' | 'module', at: PanelPlacement): table.PanelBuilder {
  const from = AGG_HOURLY_FROM;
  return tablePanel(
    title,
    description,
    new InfluxQLQuery('A', `SELECT ${UTILISATION}, ${TIME_USED}, max("peak") AS "topp" FROM ${from} WHERE ${where(scope, '"reportedMs" > 0')} GROUP BY "torg", "scopeId"`, 'table'),
    at,
  )
    .withTarget(
      new InfluxQLQuery(
        'B',
        `SELECT sum("under60Ms") / sum("targetKnownMs") AS "under60", sum("from60to100Ms") / sum("targetKnownMs") AS "fra60til100", sum("over100Ms") / sum("targetKnownMs") AS "over100" FROM ${from} WHERE ${where(scope, '"targetKnownMs" > 0')} GROUP BY "torg", "scopeId"`,
        'table',
      ),
    )
    .withTarget(
      new InfluxQLQuery('C', `SELECT sum("reportedMs") / sum("spanMs") AS "kompletthet" FROM ${from} WHERE ${where(scope, '"spanMs" > 0')} GROUP BY "torg", "scopeId"`, 'table'),
    )
    .withTransformation({ id: 'merge', options: {} })
    .unit('percentunit')
    .overrideByName('topp', [{ id: 'unit', value: 'none' }]);
}

export function roomsDashboard(): dashboard.Dashboard {
  return baseDashboard(ROOMS_UID, 'Innbyggertorg – rom og utnyttelse', ['rom'])
    .description('Utnyttelse, tid i bruk og belegg per sone og modul / Utilisation, time used and occupancy per zone and module')
    .time({ from: 'now-30d', to: 'now' })
    .withVariable(moduleVariable())
    .withVariable(splitVariable())
    .withPanel(
      perDayPanel(
        'Utnyttelse per modul per dag',
        'Belegg ÷ kapasitet (rom med persontelling) eller andel tid i bruk (rom med kun tilstedeværelse), per døgn etter Oslo-tid, over tid sensorene rapporterte. / Module utilisation per Oslo day, over reported time.',
        'module',
        UTILISATION,
        { x: 0, y: 0, w: 12, h: 8 },
      ),
    )
    .withPanel(
      perDayPanel(
        'Andel tid i bruk per modul per dag',
        'Rapportert tid med minst én person ÷ rapportert tid, per døgn etter Oslo-tid. / Share of reported time with anyone present, per Oslo day.',
        'module',
        TIME_USED,
        { x: 12, y: 0, w: 12, h: 8 },
      ),
    )
    .withPanel(
      perDayPanel('Utnyttelse per sone per dag', 'Utnyttelse per rom (sone), per døgn etter Oslo-tid. / Utilisation per zone, per Oslo day.', 'zone', UTILISATION, {
        x: 0,
        y: 8,
        w: 24,
        h: 8,
      }),
    )
    .withPanel(
      summaryTable(
        'Soner i perioden',
        'Per sone: utnyttelse, tid i bruk, høyeste belegg (personer), tid etter belegg ÷ kapasitet (under 60 %, 60–100 %, over 100 %; kun rom med persontelling) og kompletthet (rapportert ÷ åpen tid). / Per zone: utilisation, time used, peak, time at target, completeness.',
        'zone',
        { x: 0, y: 16, w: 24, h: 10 },
      ),
    )
    .withPanel(
      summaryTable(
        'Moduler i perioden',
        'Som sonetabellen, for modulene (romtypene) i torget; belegget er summen av rommene i samme øyeblikk. / As the zone table, per module; occupancy is the sum of its rooms at the same moment.',
        'module',
        { x: 0, y: 26, w: 24, h: 8 },
      ),
    )
    .withPanel(
      tablePanel(
        'Betjent og meråpent per modul',
        'Utnyttelse og tid i bruk i betjente og meråpne timer (uavhengig av valgt åpningstid). / Utilisation and time used in staffed and meråpent hours.',
        new InfluxQLQuery(
          'A',
          `SELECT ${UTILISATION}, ${TIME_USED} FROM ${AGG_HOURLY_FROM} WHERE "scope" = 'module' AND "split" =~ /^(staffed|meraapent)$/ AND ${TORG_FILTER} AND ${MODULE_FILTER} AND "reportedMs" > 0 AND $timeFilter GROUP BY "torg", "scopeId", "split"`,
          'table',
        ),
        { x: 0, y: 34, w: 24, h: 8 },
      ).unit('percentunit'),
    )
    .build();
}

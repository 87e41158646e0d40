/**
 * Effektmål: the monthly indicator values (`indicator` in RP `forever`, written by
 * dashboards/indicators/indicator-store.ts, one point per indicator × scope at the start of the Oslo
 * month). A scope is a torg id or the municipality's name, so this dashboard filters on its own
 * `omraade` variable instead of the torg variable, and the municipality appears beside the torg.
 *
 * The latest-month table selects raw fields with `ORDER BY time DESC LIMIT 1` per series rather than
 * `last()` per field: `last("value")` would skip a month whose value is unknown (the field is absent,
 * indicator-point.ts) and show an older month's value beside the newer status.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { INDICATOR_FROM, InfluxQLQuery, baseDashboard, tablePanel, tagValuesVariable, timeseriesPanel, withLegend } from './common.ts';

export const EFFEKTMAAL_UID = 'itorg-effektmaal';

const FILTER = `"indicator" =~ /^$indikator$/ AND "scopeId" =~ /^$omraade$/ AND $timeFilter`;

/** Status texts of INDICATOR_STATUSES (dashboards/indicators/indicator-engine.ts). */
const STATUS_MAPPING: dashboard.ValueMapping = {
  type: dashboard.MappingType.ValueToText,
  options: {
    'on-track': { text: 'I rute / on track', color: 'green', index: 0 },
    'at-risk': { text: 'Usikker / at risk', color: 'orange', index: 1 },
    'off-track': { text: 'Ikke i rute / off track', color: 'red', index: 2 },
    unknown: { text: 'Ukjent / unknown', color: 'text', index: 3 },
  },
};

/**
 * One panel per selected indicator (Grafana repeats it with one `indikator` value each), so each
 * panel has one unit: the municipality and the torg as lines, the expected values dashed.
 */
function perMonthPanel(): timeseries.PanelBuilder {
  return timeseriesPanel(
    '$indikator per måned',
    'Verdi per måned for kommunen og hvert torg (heltrukket), og forventet verdi på vei mot målet (stiplet). Ett panel per valgt indikator. / Value per month for the municipality and each torg (solid) and the expected value (dashed), one panel per indicator.',
    new InfluxQLQuery('A', `SELECT "value" AS "verdi" FROM ${INDICATOR_FROM} WHERE ${FILTER} GROUP BY "scopeId"`).alias('$tag_scopeId'),
    { x: 0, y: 10, w: 12, h: 8 },
  )
    .withTarget(new InfluxQLQuery('B', `SELECT "expected" AS "forventet" FROM ${INDICATOR_FROM} WHERE ${FILTER} GROUP BY "scopeId"`).alias('$tag_scopeId (forventet)'))
    .overrideByRegexp('.*\\(forventet\\)$', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }])
    .showPoints(common.VisibilityMode.Always)
    .repeat('indikator')
    .repeatDirection('h')
    .maxPerRow(2);
}

export function effektmaalDashboard(): dashboard.Dashboard {
  return baseDashboard(EFFEKTMAAL_UID, 'Innbyggertorg – effektmål', ['effektmål'], { torg: false })
    .description('Effektmål per måned for kommunen og hvert torg / Effect indicators per month, municipality and torg')
    .time({ from: 'now-1y', to: 'now' })
    .refresh('1h')
    .withVariable(tagValuesVariable('indikator', 'Indikator', `SHOW TAG VALUES FROM ${INDICATOR_FROM} WITH KEY = "indicator"`, true))
    .withVariable(tagValuesVariable('omraade', 'Torg / kommune', `SHOW TAG VALUES FROM ${INDICATOR_FROM} WITH KEY = "scopeId"`, true))
    .withPanel(
      tablePanel(
        'Effektmål siste måned',
        'Siste beregnede måned per indikator og område: verdi, forventet verdi for måneden (rett linje fra utgangspunkt til mål), status, endring fra forrige måned og fra utgangspunktet, kompletthet og definisjonsversjon. Tom verdi = ukjent (manglende data). / Latest month per indicator and scope: value, expected value on the line to the target, status, trend, completeness.',
        new InfluxQLQuery(
          'A',
          `SELECT "value" AS "verdi", "expected" AS "forventet", "status", "trendVsPreviousMonth" AS "endringForrigeMaaned", "trendVsBaseline" AS "endringUtgangspunkt", "completeness" AS "kompletthet", "definitionVersion" AS "definisjon" FROM ${INDICATOR_FROM} WHERE ${FILTER} GROUP BY "indicator", "scopeId" ORDER BY time DESC LIMIT 1`,
          'table',
        ),
        { x: 0, y: 0, w: 24, h: 10 },
      )
        .overrideByName('status', [{ id: 'mappings', value: [STATUS_MAPPING] }])
        .overrideByName('kompletthet', [{ id: 'unit', value: 'percentunit' }]),
    )
    .withPanel(withLegend(perMonthPanel()))
    .build();
}

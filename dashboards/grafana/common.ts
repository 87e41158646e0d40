/**
 * Shared pieces of the Grafana dashboards: the InfluxDB (InfluxQL) datasource reference, the `torg`
 * template variable, InfluxQL targets and panel factories. Every query names its RP and measurement
 * from devices/contract/influx-layout.ts so a layout change breaks the type-check, not a dashboard.
 *
 * The foundation SDK has no InfluxDB query package (v0.0.21 ships none), so InfluxQLQuery below is our
 * own `cog.Builder<cog.Dataquery>` that emits the target model of Grafana's InfluxDB datasource in raw
 * InfluxQL mode (`rawQuery: true`, `query`, `resultFormat`):
 * https://github.com/grafana/grafana/blob/main/public/app/plugins/datasource/influxdb/types.ts
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { MEASUREMENTS, RP_RAW } from '../../devices/contract/influx-layout.ts';

/** Matches the uid in provisioning/datasources/influxdb.yaml, so dashboards bind without a lookup. */
export const INFLUX_DATASOURCE: common.DataSourceRef = { type: 'influxdb', uid: 'innbyggertorg-influxdb' };

export const TIME_ZONE = 'Europe/Oslo';

/** Fully qualified `"rp"."measurement"` of a raw reading kind. */
export function rawFrom(kind: keyof typeof MEASUREMENTS): string {
  return `"${RP_RAW}"."${MEASUREMENTS[kind].measurement}"`;
}

/**
 * Filter on the `torg` variable. Grafana's InfluxDB datasource regex-escapes a multi/all value and
 * joins several as `(a|b)` (interpolateQueryExpr in datasource.ts), so the regex form is the one that
 * works for one, several and All.
 */
export const TORG_FILTER = `"torg" =~ /^$torg$/`;

export type ResultFormat = 'time_series' | 'table';

/** The InfluxDB datasource's target model in raw InfluxQL mode. */
export interface InfluxQLTarget extends cog.Dataquery {
  refId: string;
  datasource: common.DataSourceRef;
  rawQuery: true;
  query: string;
  resultFormat: ResultFormat;
  alias?: string;
}

export class InfluxQLQuery implements cog.Builder<cog.Dataquery> {
  private readonly target: Omit<InfluxQLTarget, '_implementsDataqueryVariant'>;

  constructor(refId: string, query: string, resultFormat: ResultFormat = 'time_series') {
    this.target = { refId, datasource: INFLUX_DATASOURCE, rawQuery: true, query, resultFormat };
  }

  alias(alias: string): this {
    this.target.alias = alias;
    return this;
  }

  build(): InfluxQLTarget {
    // The variant marker is a method, so JSON.stringify leaves it out of the provisioned JSON.
    return { ...this.target, _implementsDataqueryVariant() {} };
  }
}

/**
 * `torg` variable, filled from the tag values InfluxDB has seen on counters. Multi + All: the
 * overview shows every torg, a detail view picks one. Refreshed on load so a new torg appears
 * without editing the dashboard.
 */
export function torgVariable(): dashboard.QueryVariableBuilder {
  const query = `SHOW TAG VALUES FROM ${rawFrom('counter')} WITH KEY = "torg"`;
  return new dashboard.QueryVariableBuilder('torg')
    .label('Innbyggertorg')
    .datasource(INFLUX_DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .current({ selected: true, text: ['All'], value: ['$__all'] });
}

export interface PanelPlacement {
  x: number;
  y: number;
  w: number;
  h: number;
}

function gridPos(p: PanelPlacement): dashboard.GridPos {
  return { x: p.x, y: p.y, w: p.w, h: p.h };
}

/** Single-number panel over the last non-null value of each series. */
export function statPanel(title: string, description: string, query: InfluxQLQuery, at: PanelPlacement, unit = 'none'): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(INFLUX_DATASOURCE)
    .withTarget(query)
    .unit(unit)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .gridPos(gridPos(at));
}

export function timeseriesPanel(title: string, description: string, query: InfluxQLQuery, at: PanelPlacement, unit = 'none'): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(INFLUX_DATASOURCE)
    .withTarget(query)
    .unit(unit)
    .gridPos(gridPos(at));
}

export function barsPanel(title: string, description: string, query: InfluxQLQuery, at: PanelPlacement, unit = 'none'): timeseries.PanelBuilder {
  return timeseriesPanel(title, description, query, at, unit).drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80);
}

export function tablePanel(title: string, description: string, query: InfluxQLQuery, at: PanelPlacement): table.PanelBuilder {
  return new table.PanelBuilder().title(title).description(description).datasource(INFLUX_DATASOURCE).withTarget(query).gridPos(gridPos(at));
}

/** A dashboard with the project's defaults: Oslo time (so `now/d` is Oslo midnight), the torg variable. */
export function baseDashboard(uid: string, title: string, tags: string[]): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .tags(['innbyggertorg', ...tags])
    .timezone(TIME_ZONE)
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .editable()
    .withVariable(torgVariable());
}

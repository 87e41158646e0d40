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
import { AGG_HOURLY_MEASUREMENT, INDICATOR_MEASUREMENT, MEASUREMENTS, RP_AGGREGATES, RP_RAW } from '../../devices/contract/influx-layout.ts';

/** Matches the uid in provisioning/datasources/influxdb.yaml, so dashboards bind without a lookup. */
export const INFLUX_DATASOURCE: common.DataSourceRef = { type: 'influxdb', uid: 'innbyggertorg-influxdb' };

export const TIME_ZONE = 'Europe/Oslo';

/** Fully qualified `"rp"."measurement"` of a raw reading kind. */
export function rawFrom(kind: keyof typeof MEASUREMENTS): string {
  return `"${RP_RAW}"."${MEASUREMENTS[kind].measurement}"`;
}

/** `"forever"."agg_hourly"`: the hourly aggregates (dashboards/metrics/agg-hourly.ts). */
export const AGG_HOURLY_FROM = `"${RP_AGGREGATES}"."${AGG_HOURLY_MEASUREMENT.measurement}"`;

/** `"forever"."indicator"`: the monthly effektmål values (dashboards/indicators/indicator-store.ts). */
export const INDICATOR_FROM = `"${RP_AGGREGATES}"."${INDICATOR_MEASUREMENT.measurement}"`;

/** Oslo-day buckets: InfluxQL's tz clause aligns `time(1d)` on local midnight, 23 h and 25 h days included. */
export const OSLO_DAY_GROUP = 'time(1d)';

/**
 * ISO weeks (Monday 00:00 Oslo). InfluxDB 1.x numbers `time(1w)` buckets from the epoch, a Thursday,
 * in the tz clause's local time, then adds the offset as a plain duration (IteratorOptions.Window,
 * influxdata/influxdb query/iterator.go, 1.4+). `time(1w, 4d)` therefore lands on Monday only when
 * Thursday and Monday have the same UTC offset: the week after a DST change (always on a Sunday)
 * starts at Monday 01:00 (March) or Sunday 23:00 (October). `time(1w, -3d)` steps back from Thursday
 * over Monday–Wednesday, which never contain a DST change, so every bucket starts at Oslo Monday
 * midnight (checked against every hour of 2026 in test/dashboards/grafana/panels.test.ts). Use with
 * TZ_CLAUSE.
 */
export const OSLO_WEEK_GROUP = 'time(1w, -3d)';

/** The time-zone clause that makes OSLO_DAY_GROUP and OSLO_WEEK_GROUP local. */
export const TZ_CLAUSE = `tz('${TIME_ZONE}')`;

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
  return tagValuesVariable('torg', 'Innbyggertorg', `SHOW TAG VALUES FROM ${rawFrom('counter')} WITH KEY = "torg"`, true);
}

/**
 * A variable filled from the tag values of a measurement (`SHOW TAG VALUES …`). Multi-value ones are
 * used with a regex filter (see TORG_FILTER for why).
 */
export function tagValuesVariable(name: string, label: string, query: string, multi: boolean): dashboard.QueryVariableBuilder {
  const builder = new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(INFLUX_DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(multi)
    .includeAll(multi);
  return multi ? builder.current({ selected: true, text: ['All'], value: ['$__all'] }) : builder;
}

/** Horizontal lines at rule thresholds on a time series (Grafana draws one per step above the base). */
export function withThresholdLines(panel: timeseries.PanelBuilder, lines: { value: number; color: string }[]): timeseries.PanelBuilder {
  return panel
    .thresholds(
      new dashboard.ThresholdsConfigBuilder()
        .mode(dashboard.ThresholdsMode.Absolute)
        .steps([{ value: null, color: 'transparent' }, ...[...lines].sort((a, b) => a.value - b.value)]),
    )
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
}

/**
 * A visible legend. The SDK's timeseries builder defaults to `showLegend: false`, which leaves a
 * panel with one line per zone, module or scope without names.
 */
export function withLegend(panel: timeseries.PanelBuilder): timeseries.PanelBuilder {
  return panel.legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).calcs([]));
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

/**
 * A dashboard with the project's defaults: Oslo time (so `now/d` is Oslo midnight), the torg variable
 * (left out where the data is not per torg, e.g. effektmål, whose scopes include the municipality).
 */
export function baseDashboard(uid: string, title: string, tags: string[], opts: { torg?: boolean } = {}): dashboard.DashboardBuilder {
  const board = new dashboard.DashboardBuilder(title).uid(uid).tags(['innbyggertorg', ...tags]).timezone(TIME_ZONE).time({ from: 'now-24h', to: 'now' }).refresh('1m').editable();
  return opts.torg === false ? board : board.withVariable(torgVariable());
}

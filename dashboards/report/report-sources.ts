/**
 * ReportSources (build-report.ts) from the same deps as the HTTP API: the metrics, indicators and
 * recommendations paths of dashboards/metrics/metrics-routes.ts and the bookings query of
 * dashboards/bookings/bookings-routes.ts. The report's numbers therefore equal the API's for the
 * same month and the same stored data. Dead-letter counts come from the `deadletter` measurement
 * (devices/contract/influx-layout.ts DEADLETTER_MEASUREMENT) through the InfluxQL helper the metrics
 * reader implements (InfluxMetricsReader.query).
 */
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';
import { DEADLETTER_MEASUREMENT, RP_RAW } from '../../devices/contract/influx-layout.ts';
import { localMonth } from '../../devices/torg/opening-hours.ts';
import type { BookingsQuery, BookingsResponse } from '../bookings/bookings-routes.ts';
import type { InfluxQuery } from '../indicators/indicator-store.ts';
import { DEFAULT_METRICS_OPTIONS, rulesOf, type MetricsOptions } from '../metrics/metrics-engine.ts';
import { createHourSource, createIndicatorComputer, createRecommender, parseLocalPeriod, storedAsResult, type EffectRoutesDeps } from '../metrics/metrics-routes.ts';
import type { DeadLetterCount, ReportSources } from './build-report.ts';

const ZONE = 'Europe/Oslo';

export interface ReportSourcesDeps extends EffectRoutesDeps {
  /** The bookings query the bookings routes use (createBookingsQuery); absent → no ghost-booking figures. */
  bookingsQuery?: (q: BookingsQuery) => Promise<BookingsResponse>;
  /** InfluxQL over the v1 HTTP API (InfluxMetricsReader), for the dead-letter counts. */
  influx: InfluxQuery;
}

/** InfluxQL time literal in ms (https://docs.influxdata.com/influxdb/v1/query_language/spec/#durations). */
const ms = (t: number): string => `${Math.trunc(t)}ms`;
const countRow = z.object({ torg: z.string().optional(), reason: z.string().optional(), count: z.number().int().min(0) });

/**
 * Dead letters per torg and reason code in [fromMs, toMs). The sink tags a dead letter whose topic
 * named no torg `torg=unknown` (ingest/dead-letter.ts); those come back with torg null. `topic` is
 * written on every dead letter, so COUNT("topic") counts them (as dashboards/grafana/ingest-operations.ts).
 */
export async function countDeadLetters(influx: InfluxQuery, fromMs: number, toMs: number): Promise<DeadLetterCount[]> {
  const rows = await influx.query(
    `SELECT COUNT("topic") AS "count" FROM "${RP_RAW}"."${DEADLETTER_MEASUREMENT.measurement}" WHERE time >= ${ms(fromMs)} AND time < ${ms(toMs)} GROUP BY "torg", "reason"`,
  );
  const out: DeadLetterCount[] = [];
  for (const raw of rows) {
    const parsed = countRow.safeParse(raw);
    if (!parsed.success) throw new PlatformError('E_INFLUX_REJECTED', `unexpected dead-letter count row ${JSON.stringify(raw).slice(0, 200)}`);
    const r = parsed.data;
    if (r.count === 0) continue;
    out.push({ torg: r.torg === undefined || r.torg === '' || r.torg === 'unknown' ? null : r.torg, code: r.reason ?? 'unknown', count: r.count });
  }
  return out;
}

export function createReportSources(deps: ReportSourcesDeps): ReportSources {
  const o: MetricsOptions = { ...DEFAULT_METRICS_OPTIONS, ...deps.options };
  const source = createHourSource(deps);
  const ind = deps.indicators;
  const computeMonth = ind ? createIndicatorComputer(deps, ind, source) : null;
  const recommendAt = deps.skalering ? createRecommender(deps, deps.skalering, source) : null;
  const torgIds = deps.torgs.map((t) => t.id);

  const monthOf = (label: string): { startMs: number; endMs: number; label: string } => {
    const p = parseLocalPeriod(label);
    if (p === null || !/^\d{4}-\d{2}$/.test(label)) throw new PlatformError('E_CONFIG_INVALID', `report month "${label}" is not YYYY-MM`);
    return p;
  };

  return {
    ...(ind ? { indicatorDefinitions: ind.file.indicators } : {}),

    async metricsMonth(label) {
      const month = monthOf(label);
      const prev = localMonth(month.startMs - 1, ZONE);
      // Zones are not in the report; their hours are most of the stored points.
      const { rows, computedDays, missingDays } = await source(
        { startMs: prev.startMs, endMs: month.endMs },
        { scopes: ['module', 'torg', 'municipality'], wanted: (period) => period === 'month' || period === 'day' },
      );
      return { rows, rules: rulesOf(o), computedDays, missingDays };
    },

    // The path of GET /api/v1/indicators: the stored values when every one is there under the
    // file's version, computed from stored hours otherwise.
    async indicators(label) {
      if (!ind || !computeMonth) return null;
      const month = monthOf(label);
      if (ind.store) {
        const fromStore = storedAsResult(ind.file, month.label, await ind.store.read(month.label), torgIds);
        if (fromStore) return fromStore;
      }
      const { computedDays: _c, missingDays: _m, ...result } = await computeMonth(month.label);
      return result;
    },

    // The path of GET /api/v1/recommendations with `now` = asOfMs and the rules' own window.
    async recommendations(asOfMs) {
      if (!recommendAt || !deps.skalering) return null;
      const { computedDays: _c, missingDays: _m, ...result } = await recommendAt(deps.skalering.rules, asOfMs);
      return result;
    },

    async bookings(label) {
      if (!deps.bookingsQuery) return null;
      const { query: _q, feedErrors: _f, ...result } = await deps.bookingsQuery({ from: monthOf(label).label });
      return result;
    },

    deadLetters: (fromMs, toMs) => countDeadLetters(deps.influx, fromMs, toMs),
  };
}

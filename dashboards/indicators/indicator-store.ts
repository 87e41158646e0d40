/**
 * Stores a month of indicator values in InfluxDB (`indicator`, RP_AGGREGATES) and reads them back.
 * Saving a month replaces it: the stored points are read, the month's points deleted and the new
 * ones written, and each changed value or status is logged (`indicators_recomputed`), so a recompute
 * after late data says what it changed.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { INDICATOR_MEASUREMENT, RP_AGGREGATES } from '../../devices/contract/influx-layout.ts';
import { localMonth } from '../../devices/torg/opening-hours.ts';
import type { PointWriter } from '../../ingest/point-writer.ts';
import { ident } from '../influx-query.ts';
import { INDICATOR_STATUSES, monthStartMs } from './indicator-engine.ts';
import type { IndicatorResult } from './indicator-engine.ts';
import { indicatorValueToLine } from './indicator-point.ts';

/** InfluxQL over the v1 HTTP API, rows as objects (InfluxMetricsReader implements it). */
export interface InfluxQuery {
  query(influxql: string): Promise<Record<string, unknown>[]>;
}

const num = z.number().nullable().optional();
export const storedIndicatorSchema = z.object({
  time: z.number(),
  indicator: z.string(),
  scopeId: z.string(),
  definitionVersion: z.string(),
  effectGoal: z.number().int(),
  valueKnown: z.boolean(),
  value: num,
  previousMonthValue: num,
  trendVsPreviousMonth: num,
  trendVsBaseline: num,
  expected: z.number(),
  status: z.enum(INDICATOR_STATUSES),
  completeness: num,
  lowCompleteness: z.boolean(),
  missing: z.string().nullable().optional(),
});
export type StoredIndicator = z.infer<typeof storedIndicatorSchema>;

export interface IndicatorChange {
  indicator: string;
  scopeId: string;
  old: { value: number | null; status: string; definitionVersion: string } | null;
  new: { value: number | null; status: string; definitionVersion: string };
}

/** The Oslo month `YYYY-MM` as [startMs, endMs). */
const monthRange = (month: string): { startMs: number; endMs: number } => localMonth(monthStartMs(month));

export class IndicatorStore {
  constructor(private readonly deps: { writer: PointWriter; influx: InfluxQuery; log: Logger; maxLoggedChanges?: number }) {}

  /** The stored values of a month (Oslo), with the definition version each was computed under. */
  async read(month: string): Promise<StoredIndicator[]> {
    const { startMs: from, endMs: to } = monthRange(month);
    const rows = await this.deps.influx.query(
      `SELECT * FROM ${ident(RP_AGGREGATES)}.${ident(INDICATOR_MEASUREMENT.measurement)} WHERE time >= ${from}ms AND time < ${to}ms`,
    );
    return rows.map((r) => {
      const s = storedIndicatorSchema.parse(r);
      // `value` of a point whose value became unknown may linger from an earlier write; valueKnown decides.
      return s.valueKnown ? s : { ...s, value: null };
    });
  }

  async save(result: IndicatorResult): Promise<{ points: number; rejected: number; changes: IndicatorChange[] }> {
    const before = new Map((await this.read(result.month)).map((s) => [`${s.indicator}|${s.scopeId}`, s]));
    const changes: IndicatorChange[] = [];
    for (const v of result.values) {
      const old = before.get(`${v.indicator}|${v.scopeId}`);
      const now = { value: v.value, status: v.status, definitionVersion: v.definitionVersion };
      if (!old) changes.push({ indicator: v.indicator, scopeId: v.scopeId, old: null, new: now });
      else if (old.value !== v.value || old.status !== v.status || old.definitionVersion !== v.definitionVersion) {
        changes.push({ indicator: v.indicator, scopeId: v.scopeId, old: { value: old.value ?? null, status: old.status, definitionVersion: old.definitionVersion }, new: now });
      }
    }
    const { startMs: from, endMs: to } = monthRange(result.month);
    // InfluxDB merges the field sets of a rewritten point, so an optional field that became unknown
    // would linger; deleting the month first makes the stored month exactly this result. InfluxQL
    // DELETE takes no RP; the measurement lives only in RP_AGGREGATES.
    await this.deps.influx.query(`DELETE FROM ${ident(INDICATOR_MEASUREMENT.measurement)} WHERE time >= ${from}ms AND time < ${to}ms`);
    const outcome = await this.deps.writer.write(result.values.map(indicatorValueToLine));
    const replaced = before.size > 0;
    if (replaced || changes.length > 0) {
      this.deps.log.info(
        { month: result.month, definitionVersion: result.definitionVersion, changed: changes.length, changes: changes.slice(0, this.deps.maxLoggedChanges ?? 50), replaced },
        'indicators_recomputed',
      );
    }
    if (outcome.rejected.length > 0) {
      this.deps.log.error({ month: result.month, rejected: outcome.rejected.slice(0, 5) }, 'indicator points rejected');
    }
    return { points: result.values.length - outcome.rejected.length, rejected: outcome.rejected.length, changes };
  }
}

/**
 * A real InfluxDB 1.6 with a writer to RP_AGGREGATES and the metrics reader, for the tests of what
 * `agg_hourly` stores: started before the describe block's tests, stopped after them.
 */
import { afterAll, beforeAll } from 'vitest';
import { RP_AGGREGATES } from '../../../devices/contract/influx-layout.ts';
import { InfluxMetricsReader } from '../../../dashboards/metrics/influx-metrics-reader.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { startInfluxDB, type InfluxHandle } from '../../support/services.ts';

export interface AggStore {
  influx: InfluxHandle;
  agg: InfluxWriter;
  reader: InfluxMetricsReader;
}

/** Call inside a describe block; the fields are set once its beforeAll hooks have run. */
export function useAggStore(): AggStore {
  const store = {} as AggStore;
  beforeAll(async () => {
    store.influx = await startInfluxDB();
    store.agg = new InfluxWriter({ url: store.influx.url, db: store.influx.db, rp: RP_AGGREGATES, precision: 'ms' });
    store.reader = new InfluxMetricsReader({ url: store.influx.url, db: store.influx.db });
  }, 60_000);
  afterAll(async () => {
    await store.agg?.close();
    await store.influx?.dispose();
  });
  return store;
}

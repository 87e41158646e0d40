import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertMetrics } from '../../../dashboards/alerts/alert-metrics.ts';
import { alertEventToLine, InfluxAlertSink } from '../../../dashboards/alerts/influx-alert-sink.ts';
import { RP_AGGREGATES } from '../../../devices/contract/influx-layout.ts';
import { InfluxWriter } from '../../../ingest/influx-writer.ts';
import { startInfluxDB, type InfluxHandle } from '../../support/services.ts';
import { FIRING, RESOLVED } from './event-fixture.ts';

describe('alertEventToLine', () => {
  it('writes tags in key order, strings quoted and escaped, floats without i', () => {
    expect(alertEventToLine(FIRING)).toBe(
      'alert,rule=co2_high,state=firing,subject=mote-1,torg=nordby ' +
        'id="0123456789abcdef",messageEn="CO2 above 1000 ppm in \\"Møterom 1\\", 15 min",messageNb="CO2 over 1000 ppm i \\"Møterom 1\\", 15 min",' +
        'severity="warning",sinceMs=1795424400000i,threshold=1000,value=1240 1795425300000',
    );
    expect(alertEventToLine({ ...FIRING, value: null, threshold: null })).not.toMatch(/value=|threshold=/);
  });
});

describe('InfluxAlertSink (real InfluxDB)', () => {
  let influx: InfluxHandle;
  let writer: InfluxWriter;

  beforeAll(async () => {
    influx = await startInfluxDB();
    writer = new InfluxWriter({ url: influx.url, db: influx.db, rp: RP_AGGREGATES, precision: 'ms' });
  });
  afterAll(async () => {
    await writer?.close();
    await influx?.dispose();
  });

  it('keeps one point per event as history', async () => {
    const metrics = createAlertMetrics(new Registry());
    const sink = new InfluxAlertSink({ writer, metrics });
    sink.send(FIRING);
    sink.send(RESOLVED);
    sink.send({ ...FIRING, rule: 'device_offline', subject: 'cnt-1', value: null, threshold: null, id: 'fedcba9876543210' });
    await sink.drain();

    const rows = await influx.select(`SELECT * FROM "${RP_AGGREGATES}"."alert" WHERE subject = 'mote-1' ORDER BY time`);
    expect(rows).toEqual([
      {
        time: 1_795_425_300_000,
        id: '0123456789abcdef',
        messageEn: 'CO2 above 1000 ppm in "Møterom 1", 15 min',
        messageNb: 'CO2 over 1000 ppm i "Møterom 1", 15 min',
        rule: 'co2_high',
        severity: 'warning',
        sinceMs: 1_795_424_400_000,
        state: 'firing',
        subject: 'mote-1',
        threshold: 1000,
        torg: 'nordby',
        value: 1240,
      },
      {
        time: 1_795_426_800_000,
        id: '0123456789abcdef',
        messageEn: 'CO2 in Møterom 1 is back to normal',
        messageNb: 'CO2 i Møterom 1 er i orden igjen',
        rule: 'co2_high',
        severity: 'warning',
        sinceMs: 1_795_424_400_000,
        state: 'resolved',
        subject: 'mote-1',
        threshold: 1000,
        torg: 'nordby',
        value: 850.5,
      },
    ]);
    // Same instant as the CO2 firing, different subject and rule: its own point, not an overwrite.
    const offline = await influx.select(`SELECT "id", "value" FROM "${RP_AGGREGATES}"."alert" WHERE subject = 'cnt-1'`);
    expect(offline).toEqual([{ time: 1_795_425_300_000, id: 'fedcba9876543210', value: null }]);
    expect((await metrics.deliveries.get()).values[0]?.value).toBe(3);
  });
});

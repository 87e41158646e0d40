/**
 * Shared pieces of the gateway integration tests (gateway-broker-outage, gateway-outbox-full,
 * gateway-kill9, gateway-sources): a silent logger, polling helpers, and the ingest service started
 * in-process against a test stack, so a test can follow readings from the gateway into InfluxDB.
 */
import { WRITER_ONLY_ENV } from './ingest-helpers.ts';
import { pino } from 'pino';
import { defaultIngestConfig } from '../../ingest/config.ts';
import { startIngest, type IngestHandle } from '../../ingest/main.ts';
import type { Stack } from '../support/services.ts';

export const silent = pino({ level: 'silent' });

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` every 50 ms until it holds; throws naming `what` once `timeoutMs` has passed. */
export async function waitFor(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Polls `probe` every 25 ms until it returns a value, and returns it. A probe that throws counts as
 * "not yet": it is meant for a process that is itself starting or restarting (its HTTP port refuses).
 */
export async function waitForValue<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** The ingest service, in this process, reading the stack's broker and writing its InfluxDB. */
export function startTestIngest(stack: Stack, clientId: string): Promise<IngestHandle> {
  return startIngest(
    defaultIngestConfig({
      INGEST_MQTT_URL: stack.mqtt.url,
      ...WRITER_ONLY_ENV,
      INGEST_INFLUX_URL: stack.influx.url,
      INGEST_INFLUX_DB: stack.influx.db,
      INGEST_HTTP_PORT: 0,
      INGEST_CLIENT_ID: clientId,
      INGEST_LOG_LEVEL: 'silent',
    }),
    { defaultMetrics: false, logger: silent },
  );
}

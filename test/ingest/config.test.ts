import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultIngestConfig, loadIngestConfig, mqttTlsOptions } from '../../ingest/config.ts';

describe('ingest configuration', () => {
  it('documents every variable in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of Object.keys(defaultIngestConfig())) expect(readme, name).toContain(`\`${name}`);
  });

  it('refuses a bad value naming the variable', () => {
    expect(() => loadIngestConfig({ INGEST_BATCH_LINES: 'abc' })).toThrow(/INGEST_BATCH_LINES/);
    expect(() => loadIngestConfig({ INGEST_INFLUX_URL: 'not a url' })).toThrow(/INGEST_INFLUX_URL/);
    expect(() => loadIngestConfig({ INGEST_RETRY_BASE_MS: '5000', INGEST_RETRY_MAX_MS: '100' })).toThrow(/INGEST_RETRY_MAX_MS/);
  });

  it('refuses an empty numeric variable instead of reading it as 0', () => {
    // Number('') === 0: an empty INGEST_SESSION_EXPIRY_S would make the broker end the session (and
    // drop its queue) at every disconnect (MQTT 5.0 §3.1.2.11.2: expiry 0 ends the session when the connection closes).
    expect(() => loadIngestConfig({ INGEST_SESSION_EXPIRY_S: '' })).toThrow(/INGEST_SESSION_EXPIRY_S/);
    expect(() => loadIngestConfig({ INGEST_SHUTDOWN_TIMEOUT_MS: '  ' })).toThrow(/INGEST_SHUTDOWN_TIMEOUT_MS/);
    expect(() => loadIngestConfig({ INGEST_HTTP_PORT: '' })).toThrow(/INGEST_HTTP_PORT/);
  });

  it('takes values from the environment', () => {
    const c = loadIngestConfig({ INGEST_SHARE_GROUP: 'ingest', INGEST_RECEIVE_MAXIMUM: '500' });
    expect(c.INGEST_SHARE_GROUP).toBe('ingest');
    expect(c.INGEST_RECEIVE_MAXIMUM).toBe(500);
  });

  it('reads the broker CA of INGEST_MQTT_CA_FILE, and refuses a missing or non-PEM file naming the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'itorg-ca-'));
    try {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      writeFileSync(join(dir, 'ca.pem'), pem);
      writeFileSync(join(dir, 'key.txt'), 'not a certificate');
      const c = loadIngestConfig({ INGEST_MQTT_CA_FILE: join(dir, 'ca.pem') });
      expect(mqttTlsOptions(c).ca?.toString()).toBe(pem);
      expect(mqttTlsOptions(loadIngestConfig({}))).toEqual({});
      expect(() => mqttTlsOptions(loadIngestConfig({ INGEST_MQTT_CA_FILE: join(dir, 'missing.pem') }))).toThrow(/E_CONFIG_INVALID.*INGEST_MQTT_CA_FILE .*missing\.pem/);
      expect(() => mqttTlsOptions(loadIngestConfig({ INGEST_MQTT_CA_FILE: join(dir, 'key.txt') }))).toThrow(/INGEST_MQTT_CA_FILE .*not a PEM certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../devices/contract/errors.ts';
import { loadGatewayConfig, parseGatewayConfig } from '../../gateway/config.ts';

const minimal = { gateway: 'gw-1', torg: 'asker-sentrum', central: { url: 'mqtts://central.example:8883' }, outbox: { path: '/var/lib/itorg/outbox.db' } };

function errorOf(fn: () => unknown): PlatformError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PlatformError) return err;
    throw err;
  }
  throw new Error('expected a PlatformError');
}

describe('gateway config', () => {
  it('fills documented defaults for a minimal config', () => {
    const c = parseGatewayConfig(minimal);
    expect(c.central.maxReadingsPerEnvelope).toBe(500);
    expect(c.central.maxInFlight).toBe(8);
    expect(c.outbox.maxAgeMs).toBe(30 * 86_400_000);
    expect(c.clock).toEqual({ maxAheadMs: 120_000, maxBehindMs: 604_800_000 });
    expect(c.sources).toEqual([]);
  });

  it('accepts mqtt, http and nodered sources', () => {
    const c = parseGatewayConfig({
      ...minimal,
      sources: [
        { type: 'mqtt', name: 'chirpstack', url: 'mqtt://127.0.0.1:1883', topics: ['application/+/device/+/event/up'], format: 'chirpstack-v4' },
        { type: 'http', name: 'dt', port: 8080, path: '/dt', dtSecret: 'a-long-enough-secret' },
        { type: 'nodered', enabled: true, userDir: '/var/lib/node-red' },
      ],
    });
    expect(c.sources.map((s) => s.type)).toEqual(['mqtt', 'http', 'nodered']);
  });

  it('names the bad key: an unknown format in the second source', () => {
    const e = errorOf(() =>
      parseGatewayConfig({
        ...minimal,
        sources: [
          { type: 'mqtt', name: 'a', url: 'mqtt://x:1883', topics: ['t'], format: 'tts-v3' },
          { type: 'mqtt', name: 'b', url: 'mqtt://x:1883', topics: ['t'], format: 'lorawan' },
        ],
      }),
    );
    expect(e.code).toBe('E_CONFIG_INVALID');
    expect(e.retriable).toBe(false);
    expect(e.message).toContain('sources.1.format');
  });

  it('names an unknown key and a bad torg slug', () => {
    expect(errorOf(() => parseGatewayConfig({ ...minimal, outbox: { path: '/x', maxReadngs: 5 } })).message).toContain('maxReadngs');
    expect(errorOf(() => parseGatewayConfig({ ...minimal, torg: 'Asker Sentrum' })).message).toContain('torg:');
  });

  it('accepts the shipped sample config (gateway/gateway.sample.json)', () => {
    const c = loadGatewayConfig(new URL('../../gateway/gateway.sample.json', import.meta.url).pathname);
    expect(c.sources.map((s) => s.name)).toEqual(['chirpstack', 'zigbee', 'dt']);
    expect(c.central.tls?.caFile).toBe('/etc/itorg/ca.pem');
  });

  it('reports an unreadable or non-JSON file as E_CONFIG_INVALID', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    try {
      const p = join(dir, 'gw.json');
      writeFileSync(p, '{ "gateway": ');
      expect(errorOf(() => loadGatewayConfig(p)).message).toContain('is not JSON');
      expect(errorOf(() => loadGatewayConfig(join(dir, 'missing.json'))).message).toContain('cannot read');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gateway config: security and provisioning (issue 4)', () => {
  it('is not in development mode unless it says so', () => {
    expect(parseGatewayConfig(minimal).devMode).toBe(false);
    expect(parseGatewayConfig({ ...minimal, devMode: true }).devMode).toBe(true);
  });

  it('takes a provisioning block with defaults for timeout and retries', () => {
    const c = parseGatewayConfig({ ...minimal, provisioning: { key: 'itpk_asker-sentrum_0123456789', bootstrapUsername: 'bootstrap', bootstrapPassword: 'x' } });
    expect(c.provisioning).toEqual({
      key: 'itpk_asker-sentrum_0123456789',
      bootstrapUsername: 'bootstrap',
      bootstrapPassword: 'x',
      timeoutMs: 10_000,
      retry: { initialMs: 1_000, maxMs: 60_000, maxAttempts: 20 },
    });
  });

  it('names a malformed provisioning key and a missing bootstrap user', () => {
    expect(errorOf(() => parseGatewayConfig({ ...minimal, provisioning: { key: 'itpk key with spaces!!', bootstrapUsername: 'b', bootstrapPassword: 'p' } })).message).toContain('provisioning.key');
    expect(errorOf(() => parseGatewayConfig({ ...minimal, provisioning: { key: 'itpk_asker-sentrum_0123456789', bootstrapPassword: 'p' } })).message).toContain('provisioning.bootstrapUsername');
  });
});

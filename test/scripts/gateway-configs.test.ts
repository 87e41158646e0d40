/**
 * The stack's gateway configs: one per torg of the sample config, in its order, on the documented
 * ports and topics (README "The local stack"), accepted by the gateway's own config schema.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../devices/contract/errors.ts';
import { loadTorgConfig } from '../../devices/torg/torg-config.schema.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { buildGatewayConfigs, writeGatewayConfigs } from '../../scripts/gateway-configs.ts';

const torgConfig = loadTorgConfig(new URL('../../config/torg.asker.sample.json', import.meta.url).pathname);
const options = {
  outDir: '/srv/itorg/gateways',
  centralUrl: 'mqtt://127.0.0.1:1883',
  siteUrl: 'mqtt://127.0.0.1:1884',
  httpPortBase: 9470,
  httpHost: '127.0.0.1',
  reportIntervalSeconds: 60,
  devices: true,
};

describe('scripts/gateway-configs', () => {
  it('one gateway per torg: gw-<torg>, port 9470+i, outbox and site subscription of its own', () => {
    const g = buildGatewayConfigs(torgConfig, options);
    expect(g.map((x) => x.torg)).toEqual(['asker-sentrum', 'heggedal', 'slemmestad', 'spikkestad', 'royken', 'saetre', 'tofte']);
    expect(g.map((x) => x.httpPort)).toEqual([9470, 9471, 9472, 9473, 9474, 9475, 9476]);
    const heggedal = g[1]!;
    expect(heggedal.file).toBe('/srv/itorg/gateways/heggedal.json');
    expect(heggedal.config).toMatchObject({
      gateway: 'gw-heggedal',
      torg: 'heggedal',
      central: { url: 'mqtt://127.0.0.1:1883' },
      outbox: { path: '/srv/itorg/gateways/heggedal/outbox.db' },
      sources: [{ type: 'mqtt', url: 'mqtt://127.0.0.1:1884', topics: ['application/heggedal/device/+/event/up'], format: 'chirpstack-v4' }],
    });
  });

  it('devices: the inventory (heggedal: 1 entrance × counter+door, 5 zones × presence+climate), counters with the step as interval', () => {
    const heggedal = buildGatewayConfigs(torgConfig, { ...options, torg: ['heggedal'] })[0]!;
    const devices = Object.values(heggedal.config.devices);
    expect(devices).toHaveLength(12);
    expect(devices.filter((d) => d.model === 'milesight-vs133')).toEqual([{ model: 'milesight-vs133', reportIntervalSeconds: 60 }]);
    expect(devices.filter((d) => d.reportIntervalSeconds !== undefined)).toHaveLength(1);
    expect(buildGatewayConfigs(torgConfig, { ...options, devices: false, torg: ['heggedal'] })[0]!.config.devices).toEqual({});
  });

  it('refuses an unknown torg id', () => {
    expect(() => buildGatewayConfigs(torgConfig, { ...options, torg: ['drammen'] })).toThrow(PlatformError);
  });

  it('writes files the gateway loads as they were built', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-configs-'));
    try {
      const g = buildGatewayConfigs(torgConfig, { ...options, outDir: dir, torg: ['tofte'] });
      writeGatewayConfigs(g);
      expect(parseGatewayConfig(JSON.parse(readFileSync(join(dir, 'tofte.json'), 'utf8')))).toEqual(g[0]!.config);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('secure stack: a provisioning section with the bootstrap user, no MQTT credentials, not devMode; the file is 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-configs-'));
    try {
      const g = buildGatewayConfigs(torgConfig, { ...options, outDir: dir, torg: ['saetre'], provisioning: { bootstrapUsername: 'itorg-bootstrap', bootstrapPassword: 'b00tstrap-secret-x' } });
      const c = g[0]!.config;
      expect(c.provisioning).toMatchObject({ bootstrapUsername: 'itorg-bootstrap', bootstrapPassword: 'b00tstrap-secret-x' });
      // The key is not in the file: the stack passes it in GATEWAY_PROVISIONING_KEY.
      expect(c.provisioning?.key).toBeUndefined();
      expect(c.central.username).toBeUndefined();
      expect(c.central.password).toBeUndefined();
      expect(c.devMode).toBe(false);
      writeGatewayConfigs(g);
      expect(statSync(join(dir, 'saetre.json')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('STACK_SECURITY=off: devMode and no provisioning section', () => {
    const c = buildGatewayConfigs(torgConfig, { ...options, torg: ['saetre'], devMode: true })[0]!.config;
    expect(c.devMode).toBe(true);
    expect(c.provisioning).toBeUndefined();
  });
});

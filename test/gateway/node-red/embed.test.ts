/**
 * Node-RED embedded in the gateway process with the shipped example flow: a ChirpStack uplink on a
 * real local Mosquitto goes through decode into the HOST's outbox; a deploy through the admin API
 * keeps credentials out of the flow JSON; stop() closes Node-RED and leaves the host's outbox open.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../gateway/clock.ts';
import { startEmbeddedNodeRed, type EmbeddedNodeRed } from '../../../gateway/node-red/embed.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { startMosquitto, type MosquittoHandle } from '../../support/services.ts';
import { buildNodeRedBundle } from '../../../gateway/node-red/build.mjs';

interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}
const example = JSON.parse(readFileSync(new URL('../../../gateway/node-red/examples/lorawan-to-platform.json', import.meta.url), 'utf8')) as FlowNode[];
const am307 = JSON.parse(readFileSync(new URL('../../../devices/models/milesight/am307.golden.json', import.meta.url), 'utf8')) as {
  cases: { description: string; fPort: number; bytesHex: string; expected?: Record<string, unknown>[] }[];
};
const golden = am307.cases.find((c) => c.description.startsWith('Vendor README example'));
if (!golden?.expected) throw new Error('am307.golden.json no longer has the case this test uses');

const DEV_EUI = '24e124128c147204';
const PASSWORD = 'never-in-flow-json';

let dir: string;
let broker: MosquittoHandle;
let outbox: SqliteOutbox;
let red: EmbeddedNodeRed;

beforeAll(async () => {
  // The build step's job (npm run build); a fresh clone has no bundle yet.
  await buildNodeRedBundle();
  dir = mkdtempSync(join(tmpdir(), 'itorg-nodered-embed-'));
  broker = await startMosquitto();
  // The example flow as shipped, pointed at this test's broker instead of the LNS on 1883.
  const flows = example.map((n) => (n.type === 'mqtt-broker' ? { ...n, port: String(broker.port) } : n));
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  outbox = new SqliteOutbox({
    path: join(dir, 'gateway-outbox.db'),
    bounds: { maxReadings: 1000, maxBytes: 1_000_000, maxAgeMs: 86_400_000 },
    clock: systemClock,
    logger: pino({ level: 'silent' }),
  });
  red = await startEmbeddedNodeRed({
    userDir: dir,
    flowFile: 'flows.json',
    httpPort: 0,
    outbox,
    uplinkState: () => 'offline',
    logger: pino({ level: 'silent' }),
    credentialSecret: 'embed-test-secret',
  });
});
afterAll(async () => {
  await red?.stop();
  await outbox?.close();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function publishUplink(time: string): Promise<void> {
  const client = await mqtt.connectAsync(broker.url, { clientId: 'fake-chirpstack' });
  const event = {
    time,
    deviceInfo: { devEui: DEV_EUI, applicationId: 'app-1', tags: { model: 'milesight-am307' } },
    fCnt: 11,
    fPort: golden!.fPort,
    data: Buffer.from(golden!.bytesHex, 'hex').toString('base64'),
  };
  await client.publishAsync(`application/app-1/device/${DEV_EUI}/event/up`, JSON.stringify(event), { qos: 1 });
  await client.endAsync();
}

describe('startEmbeddedNodeRed', () => {
  it('runs the example flow: a ChirpStack uplink lands in the gateway outbox as the golden readings', async () => {
    // Readings only reach the outbox once the flow's mqtt-in has subscribed; re-publish until they do.
    const time = new Date(Date.now() - 60_000).toISOString();
    while (outbox.depth() === 0) {
      await publishUplink(time);
      await new Promise((r) => setTimeout(r, 200));
    }
    const entries = await outbox.claim(10);
    outbox.release();
    const first = entries.slice(0, golden.expected!.length);
    expect(first.map(({ reading: { device: _d, time: _t, receivedAt: _r, timeSource: _s, ...values } }) => values)).toEqual(golden.expected);
    for (const e of first) {
      expect(e.reading.device).toBe(DEV_EUI);
      expect(e.reading.time).toBe(time);
    }
  });

  it('keeps platform credentials out of the flow JSON (admin API and flow file)', async () => {
    const headers = { 'content-type': 'application/json', 'node-red-api-version': 'v1' };
    const flows = example.map((n) => (n.type === 'mqtt-broker' ? { ...n, port: String(broker.port) } : n));
    const deployed = flows.map((n) => (n.type === 'innbyggertorg-platform' ? { ...n, credentials: { username: 'gw-sentrum-1', password: PASSWORD } } : n));
    const post = await fetch(`${red.url}flows`, { method: 'POST', headers, body: JSON.stringify(deployed) });
    expect(post.status).toBe(204);
    const exported = await (await fetch(`${red.url}flows`, { headers })).text();
    expect(exported).toContain('innbyggertorg-platform');
    expect(exported).not.toContain(PASSWORD);
    expect(readFileSync(join(dir, 'flows.json'), 'utf8')).not.toContain(PASSWORD);
    // Stored, but encrypted with the credential secret (Node-RED writes {"$":"<iv+ciphertext>"}).
    const cred = readFileSync(join(dir, 'flows_cred.json'), 'utf8');
    expect(cred).not.toContain(PASSWORD);
    expect(JSON.parse(cred)).toHaveProperty('$');
    // The editor reads back only that a password is set, never its value.
    const platformId = flows.find((n) => n.type === 'innbyggertorg-platform')!.id;
    const creds = (await (await fetch(`${red.url}credentials/innbyggertorg-platform/${platformId}`)).json()) as Record<string, unknown>;
    expect(creds).toEqual({ username: 'gw-sentrum-1', has_password: true });
  });

  it('stops cleanly: the editor port closes and the gateway outbox stays usable', async () => {
    const depth = outbox.depth();
    const port = red.port;
    await red.stop();
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    await outbox.append([{ kind: 'door', device: DEV_EUI, time: new Date().toISOString(), open: false }]);
    expect(outbox.depth()).toBe(depth + 1);
  });
});

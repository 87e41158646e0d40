/**
 * The "to platform" node and its config node in a real Node-RED runtime, standalone (own outbox
 * and uplink), against a real Mosquitto that requires a password.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../../devices/contract/mqtt-topics.ts';
import { envelopeSchema } from '../../../devices/contract/reading.schema.ts';
import { systemClock } from '../../../gateway/clock.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { freePort, startMosquitto, type MosquittoHandle } from '../../support/services.ts';
import { helper, loadOurNodes, nextInput, nodeRedPath, statusMatching } from './node-red-helper.ts';

const TORG = 'asker-sentrum';
const GATEWAY = 'gw-nodered-1';
const PASSWORD = 's3cret-broker-pw';

let nodes: Awaited<ReturnType<typeof loadOurNodes>>;
let dir: string;
let broker: MosquittoHandle;

beforeAll(async () => {
  nodes = await loadOurNodes();
  helper.init(nodeRedPath);
  dir = mkdtempSync(join(tmpdir(), 'itorg-nodered-outbox-'));
  const passwd = join(dir, 'passwd');
  execFileSync('mosquitto_passwd', ['-b', '-c', passwd, GATEWAY, PASSWORD]);
  broker = await startMosquitto({ extraConfig: `allow_anonymous false\npassword_file ${passwd}` });
});
afterEach(async () => {
  await helper.unload();
});
afterAll(async () => {
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function flow(url: string, outboxPath: string): Record<string, unknown>[] {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'plat', type: 'innbyggertorg-platform', name: '', url, torg: TORG, gateway: GATEWAY, tls: false, caFile: '', outboxPath, clientId: '' },
    { id: 'ob', z: 'f1', type: 'innbyggertorg-outbox', name: '', platform: 'plat', wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const minutesAgo = (m: number): string => new Date(Date.now() - m * 60_000).toISOString();

describe('innbyggertorg-outbox', () => {
  it('appends valid readings durably before passing the message on, refuses the invalid one, shows the backlog while offline', async () => {
    const outboxPath = join(dir, 'offline.db');
    // Nothing listens on this port: the uplink stays disconnected and the readings stay queued.
    const deadUrl = `mqtt://127.0.0.1:${await freePort()}`;
    await helper.load([nodes.platform, nodes.outbox, nodes.catchNode], flow(deadUrl, outboxPath), { plat: { username: GATEWAY, password: PASSWORD } });
    const ob = helper.getNode('ob');
    const out = nextInput(helper.getNode('out'));
    const caught = nextInput(helper.getNode('caught'));
    const t1 = minutesAgo(2);
    const t2 = minutesAgo(1);
    ob.receive({
      payload: [
        { kind: 'climate', device: '24e124128c147204', time: t1, co2: 612 },
        { kind: 'door', device: '24e124141a0e3d55', time: t2, open: true },
        { kind: 'climate', device: '24e124128c147204', time: t2, humidity: 120 },
      ],
    });
    expect((await out).outbox).toEqual({ accepted: 2, rejected: 1 });
    expect((await caught).error?.message.startsWith('E_READING_OUT_OF_RANGE')).toBe(true);
    await statusMatching(ob, (s) => s.fill === 'red' && s.shape === 'ring' && (s.text ?? '').endsWith(': 2)'));

    // Close the flow (and with it the config node's outbox), then read the file with the gateway's Outbox.
    await helper.unload();
    const outbox = new SqliteOutbox({
      path: outboxPath,
      bounds: { maxReadings: 1000, maxBytes: 1_000_000, maxAgeMs: 86_400_000 },
      clock: systemClock,
      logger: pino({ level: 'silent' }),
    });
    try {
      expect(outbox.depth()).toBe(2);
      const entries = await outbox.claim(10);
      expect(entries.map((e) => ({ kind: e.reading.kind, time: e.reading.time }))).toEqual([
        { kind: 'climate', time: t1 },
        { kind: 'door', time: t2 },
      ]);
      expect(entries[0]!.reading).toMatchObject({ co2: 612, timeSource: 'sensor' });
      expect(entries[1]!.reading).toMatchObject({ open: true });
    } finally {
      await outbox.close();
    }
  });

  it('delivers through a password-protected broker with the credentials, which stay out of the flow JSON', async () => {
    const outboxPath = join(dir, 'online.db');
    // The broker really refuses anyone without the password, so delivery proves the credentials were used.
    await expect(mqtt.connectAsync(broker.url, { clientId: 'anon', reconnectPeriod: 0 })).rejects.toThrow();
    const sub = await mqtt.connectAsync(broker.url, { username: GATEWAY, password: PASSWORD, clientId: 'test-sub' });
    try {
      await sub.subscribeAsync(topics.readings(TORG, GATEWAY), { qos: 1 });
      const envelope = new Promise<unknown>((resolve) => sub.on('message', (_t, payload) => resolve(JSON.parse(payload.toString('utf8')))));
      await helper.load([nodes.platform, nodes.outbox, nodes.catchNode], flow(broker.url, outboxPath), { plat: { username: GATEWAY, password: PASSWORD } });
      const ob = helper.getNode('ob');
      await statusMatching(ob, (s) => s.fill === 'green' && s.shape === 'dot');
      const time = minutesAgo(1);
      ob.receive({ payload: { kind: 'presence', device: '24e124128c147204', time, occupied: true, count: 3 } });
      const env = envelopeSchema.parse(await envelope);
      expect(env.torg).toBe(TORG);
      expect(env.gateway).toBe(GATEWAY);
      expect(env.readings).toHaveLength(1);
      expect(env.readings[0]).toMatchObject({ kind: 'presence', device: '24e124128c147204', time, occupied: true, count: 3 });

      const runtime = (helper as unknown as { _redNodes: { getFlows(): unknown } })._redNodes;
      const flowJson = JSON.stringify(runtime.getFlows());
      expect(flowJson).toContain('innbyggertorg-platform');
      expect(flowJson).not.toContain(PASSWORD);
    } finally {
      await sub.endAsync();
    }
  });
});

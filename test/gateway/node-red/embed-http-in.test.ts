/**
 * A flow with core `http in` → `http response` nodes answers over real HTTP under httpNodeRoot
 * (/api) of the embedded Node-RED, and Node-RED logs no error while setting the nodes up.
 * Regression: with an Express 5 root app, 21-httpin.js failed on `rootApp._router.stack` (an
 * Express 4 internal) and the route never answered.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNodeRedBundle } from '../../../gateway/node-red/build.mjs';
import { startEmbeddedNodeRed, type EmbeddedNodeRed } from '../../../gateway/node-red/embed.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { systemClock } from '../../../gateway/clock.ts';
import { otherAddress } from './other-address.ts';

const flows = [
  { id: 'tab1', type: 'tab', label: 'http' },
  { id: 'in1', type: 'http in', z: 'tab1', name: '', url: '/hei', method: 'post', upload: false, swaggerDoc: '', wires: [['fn1']] },
  {
    id: 'fn1',
    type: 'change',
    z: 'tab1',
    rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"svar":"hei fra node-red"}', tot: 'json' }],
    wires: [['out1']],
  },
  { id: 'out1', type: 'http response', z: 'tab1', name: '', statusCode: '201', headers: {}, wires: [] },
];

/** Every log entry the embedded Node-RED forwards, as pino JSON objects. */
const logged: { level: number; msg: string; nodeType?: string }[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logged.push(JSON.parse(line) as (typeof logged)[number]);
    cb();
  },
});


let dir: string;
let outbox: SqliteOutbox;
let red: EmbeddedNodeRed;

beforeAll(async () => {
  await buildNodeRedBundle();
  dir = mkdtempSync(join(tmpdir(), 'itorg-nodered-httpin-'));
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  const silent = pino({ level: 'silent' });
  outbox = new SqliteOutbox({
    path: join(dir, 'outbox.db'),
    bounds: { maxReadings: 100, maxBytes: 100_000, maxAgeMs: 86_400_000 },
    clock: systemClock,
    logger: silent,
  });
  red = await startEmbeddedNodeRed({
    userDir: dir,
    httpPort: 0,
    outbox,
    uplinkState: () => 'offline',
    logger: pino({ level: 'debug' }, sink),
    credentialSecret: 'http-in-test-secret',
  });
});
afterAll(async () => {
  await red?.stop();
  await outbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded Node-RED with http in nodes', () => {
  it('answers a POST on httpNodeRoot with the flow-built response', async () => {
    // Flows start asynchronously after RED.start() resolves; wait until the route exists.
    let res = await fetch(`${red.url}api/hei`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    for (let tries = 0; res.status === 404 && tries < 50; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await fetch(`${red.url}api/hei`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    }
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ svar: 'hei fra node-red' });
  });

  it('logs no error while registering the http nodes', () => {
    // pino level 50 = error (forwardLog maps Node-RED error and fatal to it). Node-RED's start-up
    // warnings (projects disabled, no credentials file yet) are expected in a fresh userDir.
    const problems = logged.filter((e) => e.level >= 50).map((e) => `${e.nodeType ?? ''} ${e.msg}`);
    expect(problems).toEqual([]);
  });

  it('listens on loopback only when no host is given', async () => {
    expect(red.url).toBe(`http://127.0.0.1:${red.port}/`);
    await expect(fetch(`http://${otherAddress}:${red.port}/settings`)).rejects.toThrow();
  });

  it('keeps the editor and admin API at httpAdminRoot', async () => {
    const res = await fetch(`${red.url}settings`, { headers: { 'node-red-api-version': 'v1' } });
    expect(res.status).toBe(200);
    const settings = (await res.json()) as { httpNodeRoot?: string };
    expect(settings.httpNodeRoot).toBe('/api');
  });
});

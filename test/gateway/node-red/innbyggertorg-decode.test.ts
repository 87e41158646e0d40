/**
 * The decode node in a real Node-RED runtime (node-red-node-test-helper): golden payloads in,
 * the golden file's hand-derived values out; a bad message reaches a catch node with its code and
 * the next good one still comes through.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { helper, loadOurNodes, nextInput, nodeRedPath, statusMatching, type NodeMessage } from './node-red-helper.ts';

interface GoldenCase {
  description: string;
  fPort: number;
  bytesHex: string;
  expected?: Record<string, unknown>[];
  expectedError?: string;
}
const am307 = JSON.parse(readFileSync(new URL('../../../devices/models/milesight/am307.golden.json', import.meta.url), 'utf8')) as { cases: GoldenCase[] };
const readme = am307.cases.find((c) => c.description.startsWith('Vendor README example'));
const unknownChannel = am307.cases.find((c) => c.expectedError === 'E_DECODE_UNKNOWN_CHANNEL');
if (!readme?.expected || !unknownChannel) throw new Error('am307.golden.json no longer has the cases this test uses');

const DEV_EUI = '24e124128c147204';

let nodes: Awaited<ReturnType<typeof loadOurNodes>>;
beforeAll(async () => {
  nodes = await loadOurNodes();
  helper.init(nodeRedPath);
});
afterEach(async () => {
  await helper.unload();
});

function flow(decode: Record<string, unknown>): Record<string, unknown>[] {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'dec', z: 'f1', type: 'innbyggertorg-decode', name: '', ...decode, wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** Readings without the gateway's stamps, for comparison with the golden `expected`. */
function values(payload: unknown): Record<string, unknown>[] {
  return (payload as Record<string, unknown>[]).map(({ device: _d, time: _t, receivedAt: _r, timeSource: _s, ...rest }) => rest);
}

describe('innbyggertorg-decode', () => {
  it('decodes a raw AM307 frame into the golden readings', async () => {
    await helper.load([nodes.decode, nodes.catchNode], flow({ format: 'raw', model: 'milesight-am307' }));
    const out = helper.getNode('out');
    const got = nextInput(out);
    const time = new Date(Date.now() - 60_000).toISOString();
    helper.getNode('dec').receive({ payload: { fPort: readme.fPort, hex: readme.bytesHex, device: DEV_EUI.toUpperCase(), time } });
    const msg = await got;
    expect(values(msg.payload)).toEqual(readme.expected);
    for (const r of msg.payload as Record<string, unknown>[]) {
      expect(r.device).toBe(DEV_EUI);
      expect(r.time).toBe(time);
      expect(r.timeSource).toBe('network');
      expect(typeof r.receivedAt).toBe('string');
    }
  });

  it('reports a bad frame with its code to a catch node and keeps decoding the next one', async () => {
    await helper.load([nodes.decode, nodes.catchNode], flow({ format: 'raw', model: 'milesight-am307' }));
    const dec = helper.getNode('dec');
    const caught = nextInput(helper.getNode('caught'));
    dec.receive({ payload: { fPort: unknownChannel.fPort, hex: unknownChannel.bytesHex, device: DEV_EUI } });
    const err = await caught;
    expect(err.error?.message.startsWith('E_DECODE_UNKNOWN_CHANNEL')).toBe(true);
    expect(err.error?.source?.id).toBe('dec');
    await statusMatching(dec, (s) => s.fill === 'red' && (s.text ?? '').includes('E_DECODE_UNKNOWN_CHANNEL'));

    const next = nextInput(helper.getNode('out'));
    dec.receive({ payload: { fPort: readme.fPort, hex: readme.bytesHex, device: DEV_EUI } });
    const msg: NodeMessage = await next;
    expect(values(msg.payload)).toEqual(readme.expected);
    // No time in the frame: the gateway's receive time stands in, and says so.
    for (const r of msg.payload as Record<string, unknown>[]) expect(r.timeSource).toBe('gateway');
  });

  it('refuses a frame without a usable payload field as E_DECODE_BAD_ENVELOPE', async () => {
    await helper.load([nodes.decode, nodes.catchNode], flow({ format: 'raw', model: 'milesight-am307' }));
    const caught = nextInput(helper.getNode('caught'));
    helper.getNode('dec').receive({ payload: { fPort: 85, hex: 'abc', device: DEV_EUI } });
    expect((await caught).error?.message.startsWith('E_DECODE_BAD_ENVELOPE')).toBe(true);
  });

  it('decodes a ChirpStack v4 MQTT uplink with the model from the device tag, plus a health reading', async () => {
    await helper.load([nodes.decode, nodes.catchNode], flow({ format: 'chirpstack-v4', model: '' }));
    const got = nextInput(helper.getNode('out'));
    const time = new Date(Date.now() - 30_000).toISOString();
    // Shape of integration.UplinkEvent as ChirpStack v4 publishes it on application/{id}/device/{devEui}/event/up
    // (https://www.chirpstack.io/docs/chirpstack/integrations/events.html); `data` is base64.
    const event = {
      deduplicationId: '3f1e0c6a-1111-4c1b-9a55-0a6a1c1c1c1c',
      time,
      deviceInfo: { devEui: DEV_EUI, applicationId: 'app-1', tags: { model: 'milesight-am307' } },
      fCnt: 7,
      fPort: readme.fPort,
      data: Buffer.from(readme.bytesHex, 'hex').toString('base64'),
      rxInfo: [
        { gatewayId: 'a', rssi: -97, snr: 4.5 },
        { gatewayId: 'b', rssi: -80, snr: -2 },
      ],
    };
    helper.getNode('dec').receive({ topic: `application/app-1/device/${DEV_EUI}/event/up`, payload: JSON.stringify(event) });
    const msg = await got;
    const readings = values(msg.payload);
    // Best RSSI and best SNR over both gateways, each on its own (lorawan-uplink.ts bestRadio).
    expect(readings).toEqual([...readme.expected!, { kind: 'health', rssi: -80, snr: 4.5 }]);
    for (const r of msg.payload as Record<string, unknown>[]) expect(r.time).toBe(time);
  });

  it('refuses a ChirpStack message whose topic names another device', async () => {
    await helper.load([nodes.decode, nodes.catchNode], flow({ format: 'chirpstack-v4', model: 'milesight-am307' }));
    const caught = nextInput(helper.getNode('caught'));
    const event = { time: new Date().toISOString(), deviceInfo: { devEui: DEV_EUI }, fPort: 85, data: 'AQI=' };
    helper.getNode('dec').receive({ topic: 'application/app-1/device/0000000000000001/event/up', payload: event });
    expect((await caught).error?.message.startsWith('E_SOURCE_TOPIC_MISMATCH')).toBe(true);
  });
});

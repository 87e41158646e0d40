/**
 * The Node-RED flows the bench compares against, generated as flow JSON (the format Node-RED keeps
 * in flows.json), plus the settings file and userDir that run them.
 *
 * They are what a competent Node-RED user builds for this job, not strawmen:
 * - `naive`: mqtt in (QoS 1, JSON) → function (envelope → points grouped by measurement) →
 *   influxdb out. One HTTP write per measurement present in a message (for 1 reading per message,
 *   exactly one write per message), the pattern of node-red-contrib-influxdb's README.
 * - `batched`: mqtt in → function (envelope → one message per point) → join (5000 points or 1 s,
 *   InfluxData's recommended batch of 5000 lines:
 *   https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_tutorial/) → influxdb batch.
 * Both connect with a fixed client id and clean session false, and do not unsubscribe on stop
 * (`autoUnsubscribe: false`, Node-RED ≥ 3.1), so the broker queues for them while they are down,
 * the same persistent session the ingest uses.
 *
 * The difference in guarantees, and why the comparison is not like-for-like on safety: Node-RED's
 * mqtt in node hands the message to MQTT.js, which sends PUBACK as soon as the message is received
 * (before any node has run), so a message still in the flow, the join buffer or a failed write is
 * gone after a crash. The ingest sends PUBACK only after the readings are in InfluxDB
 * (ingest/deferred-ack.ts). Node-RED validates nothing beyond "is JSON with readings"; the ingest
 * validates every reading against the contract.
 *
 * node-red-contrib-influxdb 0.7.0 in 1.x mode (node-influx) writes every JSON number as a float
 * field; that is what a user of these nodes gets, and every case uses a fresh database, so it does
 * not conflict with the ingest's integer fields.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { filters } from '../../devices/contract/mqtt-topics.ts';

export type NodeRedVariant = 'naive' | 'batched';

export interface NodeRedFlowOptions {
  variant: NodeRedVariant;
  mqttPort: number;
  influxPort: number;
  db: string;
  /** Retention policy to write to ('' = the database's default). */
  rp: string;
  clientId: string;
  /** Batched flow: points per write and the longest a point waits in the join. */
  batchPoints?: number;
  batchTimeoutS?: number;
}

/**
 * Envelope → InfluxDB points, the part both flows share. Plain JavaScript: it runs inside Node-RED's
 * function node sandbox. Numbers and booleans become fields; torg, device and (for counters) line
 * become tags, the same identity as devices/contract/influx-layout.ts.
 */
const ENVELOPE_TO_POINTS = `
const env = msg.payload;
if (env === null || typeof env !== 'object' || !Array.isArray(env.readings) || typeof env.torg !== 'string') {
  node.warn('not an envelope');
  return null;
}
const NOT_FIELDS = { kind: 1, device: 1, time: 1, line: 1, receivedAt: 1, timeSource: 1 };
const points = [];
for (const r of env.readings) {
  if (r === null || typeof r !== 'object' || typeof r.kind !== 'string' || typeof r.device !== 'string') continue;
  const t = Date.parse(r.time);
  if (!Number.isFinite(t)) continue;
  const fields = {};
  let n = 0;
  for (const k of Object.keys(r)) {
    const v = r[k];
    if (NOT_FIELDS[k] === undefined && (typeof v === 'number' || typeof v === 'boolean')) { fields[k] = v; n++; }
  }
  if (n === 0) continue;
  const tags = { torg: env.torg, device: r.device };
  if (r.kind === 'counter') tags.line = typeof r.line === 'string' ? r.line : 'main';
  points.push({ measurement: r.kind, tags, fields, timestamp: t });
}
`;

const NAIVE_FUNCTION = `${ENVELOPE_TO_POINTS}
// influxdb out writes one measurement per message: group, and send one message per measurement.
const byMeasurement = {};
for (const p of points) {
  p.fields.time = p.timestamp;
  (byMeasurement[p.measurement] = byMeasurement[p.measurement] || []).push([p.fields, p.tags]);
}
return [Object.keys(byMeasurement).map((m) => ({ measurement: m, payload: byMeasurement[m] }))];
`;

const BATCHED_FUNCTION = `${ENVELOPE_TO_POINTS}
return [points.map((p) => ({ payload: p }))];
`;

function functionNode(id: string, tab: string, name: string, func: string, wires: string[]) {
  return { id, type: 'function', z: tab, name, func, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 300, y: 100, wires: [wires] };
}

/** The flow JSON (an array of nodes) for flows.json. */
export function nodeRedFlows(o: NodeRedFlowOptions): object[] {
  const tab = 'bench-tab';
  const broker = {
    id: 'bench-broker',
    type: 'mqtt-broker',
    name: 'mosquitto',
    broker: '127.0.0.1',
    port: String(o.mqttPort),
    clientid: o.clientId,
    autoConnect: true,
    usetls: false,
    protocolVersion: '4',
    keepalive: '60',
    cleansession: false,
    autoUnsubscribe: false,
    birthTopic: '',
    closeTopic: '',
    willTopic: '',
  };
  const influx = {
    id: 'bench-influx',
    type: 'influxdb',
    hostname: '127.0.0.1',
    port: String(o.influxPort),
    protocol: 'http',
    database: o.db,
    name: 'influxdb',
    usetls: false,
    tls: '',
    influxdbVersion: '1.x',
    url: '',
    timeout: '10',
    rejectUnauthorized: true,
  };
  const mqttIn = {
    id: 'bench-mqtt-in',
    type: 'mqtt in',
    z: tab,
    name: 'readings',
    topic: filters.allReadings,
    qos: '1',
    datatype: 'json',
    broker: broker.id,
    nl: false,
    rap: true,
    rh: 0,
    inputs: 0,
    x: 100,
    y: 100,
    wires: [['bench-fn']],
  };
  const tabNode = { id: tab, type: 'tab', label: `bench ${o.variant}`, disabled: false, info: '' };
  if (o.variant === 'naive') {
    return [
      tabNode,
      broker,
      influx,
      mqttIn,
      functionNode('bench-fn', tab, 'envelope → points', NAIVE_FUNCTION, ['bench-out']),
      { id: 'bench-out', type: 'influxdb out', z: tab, influxdb: influx.id, name: 'write', measurement: '', precision: 'ms', retentionPolicy: o.rp, x: 500, y: 100, wires: [] },
    ];
  }
  return [
    tabNode,
    broker,
    influx,
    mqttIn,
    functionNode('bench-fn', tab, 'envelope → points', BATCHED_FUNCTION, ['bench-join']),
    {
      id: 'bench-join',
      type: 'join',
      z: tab,
      name: 'batch',
      mode: 'custom',
      build: 'array',
      property: 'payload',
      propertyType: 'msg',
      key: 'topic',
      joiner: '\\n',
      joinerType: 'str',
      useparts: false,
      accumulate: false,
      timeout: String(o.batchTimeoutS ?? 1),
      count: String(o.batchPoints ?? 5000),
      reduceRight: false,
      x: 500,
      y: 100,
      wires: [['bench-out']],
    },
    { id: 'bench-out', type: 'influxdb batch', z: tab, influxdb: influx.id, name: 'write', precision: 'ms', retentionPolicy: o.rp, x: 700, y: 100, wires: [] },
  ];
}

/**
 * Writes a Node-RED userDir: settings.js, flows.json and flows_cred.json (the influxdb config node
 * reads `credentials.username`, so it needs an entry even without auth). Returns the args for
 * `node <node-red/red.js> …`.
 */
export function writeNodeRedUserDir(userDir: string, uiPort: number, o: NodeRedFlowOptions): string[] {
  mkdirSync(userDir, { recursive: true });
  const settings = `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${uiPort},
  flowFile: 'flows.json',
  credentialSecret: false,
  // No update check or telemetry: the machine is offline, and the bench measures the flow only.
  diagnostics: { enabled: false, ui: false },
  telemetry: { enabled: false },
  runtimeState: { enabled: false, ui: false },
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  editorTheme: { tours: false },
};
`;
  writeFileSync(path.join(userDir, 'settings.js'), settings);
  writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(nodeRedFlows(o), null, 2));
  writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify({ 'bench-influx': { username: '', password: '' } }));
  return ['--userDir', userDir, '--port', String(uiPort), '--settings', path.join(userDir, 'settings.js')];
}

/**
 * `innbyggertorg decode`: payload bytes (or a whole LNS / zigbee2mqtt / DT message) → readings, for
 * an integrator checking a new sensor before it goes on a gateway. It runs the same code the gateway
 * runs: the device models of devices/models/, the source parsers of devices/sources/ and the model
 * resolution of gateway/sources/model-resolver.ts, and checks every reading against the contract.
 *
 * stdout: the valid readings as a pretty JSON array. stderr: decode errors (stable code + detail)
 * and readings the contract refuses, each with its reason.
 * Exit: 0 every reading valid, 2 decode error or a refused reading, 1 usage error.
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { readingSchema, type Reading, type ReadingInput } from '../devices/contract/reading.schema.ts';
import { DecodeError, type LorawanDeviceModel } from '../devices/models/device-model.ts';
import { findModel, lorawanModels } from '../devices/models/index.ts';
import { parseChirpstackUplink } from '../devices/sources/chirpstack-v4.ts';
import { createDtWebhookReceiver, DT_SIGNATURE_HEADER, dtEventToReadings, dtWebhookBodySchema } from '../devices/sources/disruptive-technologies.ts';
import { uplinkHealthReading, type UplinkResult } from '../devices/sources/lorawan-uplink.ts';
import { decodeJson } from '../devices/sources/source-json.ts';
import { parseInstant } from '../devices/sources/source-time.ts';
import { parseTtsUplink } from '../devices/sources/tts-v3.ts';
import { Zigbee2mqttSource } from '../devices/sources/zigbee2mqtt.ts';
import { LorawanModelResolver } from '../gateway/sources/model-resolver.ts';

export const DECODE_ENVELOPES = ['chirpstack-v4', 'tts-v3', 'zigbee2mqtt', 'dt'] as const;
export type DecodeEnvelope = (typeof DECODE_ENVELOPES)[number];

/** Placeholder DevEUI when only bytes are given: the decoders need a device, the bytes name none. */
export const DEFAULT_DECODE_DEVICE = '0000000000000000';

export interface DecodeOptions {
  model?: string;
  fport?: number;
  hex?: string;
  base64?: string;
  device?: string;
  time?: string;
  envelope?: DecodeEnvelope;
  /** Envelope file, `-` for stdin. */
  file?: string;
  /** DT Data Connector signature secret. */
  secret?: string;
  /** DT `X-Dt-Signature` token. */
  signature?: string;
  /** false = skip DT signature verification (`--no-verify`). */
  verify: boolean;
  listModels?: boolean;
}

export interface DecodeIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: Readable;
  /** Time used for `--time`'s default and the receive time of envelopes; injected for tests. */
  now: () => number;
  lang: 'nb' | 'en';
}

export const DECODE_EXIT = { ok: 0, usage: 1, decode: 2 } as const;

const TEXT = {
  nb: {
    listHint: 'se gyldige modell-id-er med `innbyggertorg decode --list-models`',
    unknownModel: (id: string) => `ukjent modell "${id}"`,
    needPayload: 'oppgi enten --hex eller --base64 (og --fport), eller --envelope med --file',
    bothPayloads: 'oppgi bare én av --hex og --base64',
    needModel: 'rå nyttelast krever --model',
    needFport: 'rå nyttelast krever --fport (1–223)',
    badHex: 'nyttelasten i --hex er ikke heksadesimal med et partall sifre',
    badBase64: 'nyttelasten i --base64 er ikke gyldig base64',
    badTime: (t: string) => `--time "${t}" er ikke et gyldig tidspunkt (ISO 8601, UTC)`,
    needFile: '--envelope krever --file <fil> (eller --file - for stdin)',
    needSecret: 'DT-signatur: oppgi --secret og --signature, eller hopp over kontrollen med --no-verify',
    notZigbee: 'zigbee2mqtt: filen må være {"topic", "payload"} eller en liste av slike meldinger',
    invalid: 'måling avvist av kontrakten',
    ignored: 'ignorert',
  },
  en: {
    listHint: 'see valid model ids with `innbyggertorg decode --list-models`',
    unknownModel: (id: string) => `unknown model "${id}"`,
    needPayload: 'give either --hex or --base64 (and --fport), or --envelope with --file',
    bothPayloads: 'give only one of --hex and --base64',
    needModel: 'a raw payload needs --model',
    needFport: 'a raw payload needs --fport (1–223)',
    badHex: 'the --hex payload is not hexadecimal with an even number of digits',
    badBase64: 'the --base64 payload is not valid base64',
    badTime: (t: string) => `--time "${t}" is not a valid instant (ISO 8601, UTC)`,
    needFile: '--envelope needs --file <file> (or --file - for stdin)',
    needSecret: 'DT signature: give --secret and --signature, or skip the check with --no-verify',
    notZigbee: 'zigbee2mqtt: the file must be {"topic", "payload"} or a list of such messages',
    invalid: 'reading refused by the contract',
    ignored: 'ignored',
  },
} as const;

/** A mistake in how the command was called: exit 1. */
class UsageError extends Error {}

/** A message or payload that yields no readings, with its stable code: exit 2. */
class DecodeFailure extends Error {
  constructor(
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

type Text = (typeof TEXT)['nb' | 'en'];

export function listModels(): string {
  return lorawanModels
    .map((m) => ({ id: m.id, vendor: m.vendor, model: m.model, kinds: [...m.kinds] }))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((m) => `${m.id.padEnd(28)} ${`${m.vendor} ${m.model}`.padEnd(34)} ${m.kinds.join(', ')}`)
    .join('\n');
}

function modelOrUsage(id: string, tx: Text): LorawanDeviceModel {
  const model = findModel(id);
  if (model === undefined) throw new UsageError(`${tx.unknownModel(id)}; ${tx.listHint}`);
  return model;
}

function payloadBytes(o: DecodeOptions, tx: Text): Uint8Array {
  if (o.hex !== undefined && o.base64 !== undefined) throw new UsageError(tx.bothPayloads);
  if (o.hex !== undefined) {
    const hex = o.hex.replace(/\s+/g, '');
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new UsageError(tx.badHex);
    return Uint8Array.from(Buffer.from(hex, 'hex'));
  }
  if (o.base64 !== undefined) {
    // Node's decoder skips characters it does not know (see devices/sources/lorawan-uplink.ts), so
    // the text is checked first: a mistyped payload must not decode to shorter bytes.
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(o.base64)) throw new UsageError(tx.badBase64);
    return Uint8Array.from(Buffer.from(o.base64, 'base64'));
  }
  throw new UsageError(tx.needPayload);
}

function decodeRaw(o: DecodeOptions, io: DecodeIo, tx: Text): ReadingInput[] {
  if (o.model === undefined) throw new UsageError(`${tx.needModel}; ${tx.listHint}`);
  const model = modelOrUsage(o.model, tx);
  if (o.fport === undefined) throw new UsageError(tx.needFport);
  const bytes = payloadBytes(o, tx);
  let time = new Date(io.now()).toISOString();
  if (o.time !== undefined) {
    const t = parseInstant(o.time);
    if (!t.ok) throw new UsageError(tx.badTime(o.time));
    time = t.iso;
  }
  const device = o.device?.toLowerCase() ?? DEFAULT_DECODE_DEVICE;
  return model.decode(o.fport, bytes, { device, time });
}

async function readAll(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return new Uint8Array(Buffer.concat(chunks));
}

function jsonOf(raw: Uint8Array): unknown {
  const j = decodeJson(raw);
  if (!j.ok) throw new DecodeFailure(j.code, j.detail);
  return j.json;
}

/** Same path as the gateway's LoRaWAN sources (gateway/sources/formats.ts): model, decode, radio health. */
function decodeUplink(result: UplinkResult, o: DecodeOptions, receivedAtMs: number, tx: Text): ReadingInput[] {
  if (!result.ok) throw new DecodeFailure(result.code, result.detail);
  const up = result.uplink;
  if (o.model !== undefined) modelOrUsage(o.model, tx);
  const resolver = new LorawanModelResolver(o.model !== undefined ? { [up.devEui]: { model: o.model } } : {});
  const resolved = resolver.resolve(up.devEui, up.tags);
  if (!resolved.ok) throw new DecodeFailure(resolved.code, `${resolved.detail}; ${tx.listHint}`);
  const readings = resolved.model
    .decode(up.fPort, up.bytes, { device: up.devEui, time: up.time })
    .map((r) => (r.timeSource === undefined ? { ...r, timeSource: up.timeSource } : r));
  const health = uplinkHealthReading(up, new Date(receivedAtMs).toISOString());
  if (health !== null) readings.push(health);
  return readings;
}

const zigbeeMessage = (v: unknown): v is { topic: string; payload: unknown } =>
  typeof v === 'object' && v !== null && typeof (v as { topic?: unknown }).topic === 'string' && 'payload' in v;

async function decodeEnvelope(envelope: DecodeEnvelope, o: DecodeOptions, io: DecodeIo, tx: Text): Promise<ReadingInput[]> {
  if (o.file === undefined) throw new UsageError(tx.needFile);
  const raw = o.file === '-' ? await readAll(io.stdin) : new Uint8Array(await readFile(o.file));
  const receivedAtMs = io.now();
  switch (envelope) {
    case 'chirpstack-v4':
      return decodeUplink(parseChirpstackUplink(jsonOf(raw), { receivedAtMs }), o, receivedAtMs, tx);
    case 'tts-v3':
      return decodeUplink(parseTtsUplink(jsonOf(raw), { receivedAtMs }), o, receivedAtMs, tx);
    case 'zigbee2mqtt': {
      // A bridge/devices message may come first in the list: state messages need its device map,
      // exactly as on the gateway's MQTT subscription.
      const json = jsonOf(raw);
      const messages = Array.isArray(json) ? json : [json];
      if (!messages.every(zigbeeMessage)) throw new UsageError(tx.notZigbee);
      const z2m = new Zigbee2mqttSource();
      const readings: ReadingInput[] = [];
      for (const m of messages) {
        const payload = typeof m.payload === 'string' ? m.payload : JSON.stringify(m.payload);
        const r = z2m.handleMessage(m.topic, payload, receivedAtMs);
        if (!r.ok) throw new DecodeFailure(r.code, r.detail);
        if (r.kind === 'readings') {
          readings.push(...r.readings);
          for (const issue of r.issues) io.stderr(`${issue.code}: ${issue.field}: ${issue.detail}\n`);
        }
      }
      return readings;
    }
    case 'dt': {
      let result;
      if (o.verify) {
        if (o.secret === undefined || o.signature === undefined) throw new UsageError(tx.needSecret);
        result = await createDtWebhookReceiver({ secret: o.secret }).handle({ headers: { [DT_SIGNATURE_HEADER]: o.signature }, body: raw, nowMs: receivedAtMs });
      } else {
        // Unsigned: a Data Connector body ({event, labels, metadata}) or a bare event as the DT API returns it.
        const json = jsonOf(raw);
        const wrapped = dtWebhookBodySchema.safeParse(json);
        result = dtEventToReadings(wrapped.success ? wrapped.data.event : json, { receivedAtMs });
      }
      if (!result.ok) throw new DecodeFailure(result.code, result.detail);
      for (const issue of result.issues) io.stderr(`${issue.code}: ${issue.field}: ${issue.detail}\n`);
      if (result.ignored !== undefined) io.stderr(`${tx.ignored}: ${result.ignored}\n`);
      return result.readings;
    }
  }
}

/** Runs the command; returns the exit code. */
export async function runDecode(o: DecodeOptions, io: DecodeIo): Promise<number> {
  const tx = TEXT[io.lang];
  if (o.listModels === true) {
    io.stdout(`${listModels()}\n`);
    return DECODE_EXIT.ok;
  }
  let decoded: ReadingInput[];
  try {
    decoded = o.envelope !== undefined ? await decodeEnvelope(o.envelope, o, io, tx) : decodeRaw(o, io, tx);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`${err.message}\n`);
      return DECODE_EXIT.usage;
    }
    if (err instanceof DecodeError) {
      // The message already starts with the code (devices/models/device-model.ts).
      io.stderr(`${err.message}\n`);
      return DECODE_EXIT.decode;
    }
    if (err instanceof DecodeFailure) {
      io.stderr(`${err.code}: ${err.message}\n`);
      return DECODE_EXIT.decode;
    }
    throw err;
  }
  const valid: Reading[] = [];
  let refused = 0;
  decoded.forEach((input, index) => {
    const r = readingSchema.safeParse(input);
    if (r.success) {
      valid.push(r.data);
      return;
    }
    refused++;
    const reasons = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(reading)'}: ${i.message}`).join('; ');
    io.stderr(`E_READING_INVALID: ${tx.invalid} #${index}: ${reasons}\n${JSON.stringify(input)}\n`);
  });
  io.stdout(`${JSON.stringify(valid, null, 2)}\n`);
  return refused > 0 ? DECODE_EXIT.decode : DECODE_EXIT.ok;
}

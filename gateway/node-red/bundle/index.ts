/**
 * Entry point of lib/innbyggertorg.cjs, the bundle the Node-RED nodes (plain CommonJS, loaded by
 * Node-RED with require) use to reach the platform's TypeScript: device models, contract validation,
 * the gateway's outbox and uplink. Built by ../build.mjs.
 */
import { lorawanModels } from '../../../devices/models/index.ts';
import { ERROR_CODES } from '../../../devices/contract/errors.ts';
import { SOURCE_ERROR_CODES } from '../../../devices/sources/source-errors.ts';
import { GatewayError } from '../../gateway-errors.ts';
import type { UplinkState } from '../../metrics.ts';

export { DECODE_FORMATS, MessageDecoder, decodeNodeConfigSchema } from './decode-message.ts';
export { prepareReadings } from './prepare-readings.ts';
export { HOST_SETTINGS_KEY, linkFromHost, openStandaloneLink, platformConfigSchema, platformCredentialsSchema } from './platform-link.ts';
export { createNodeLogger } from './node-logger.ts';
export { systemClock } from '../../clock.ts';

/** For the decode node's model dropdown (served to the editor by an admin endpoint). */
export function modelChoices(): { id: string; label: string }[] {
  return lorawanModels.map((m) => ({ id: m.id, label: `${m.vendor} ${m.model}` })).sort((a, b) => a.label.localeCompare(b.label));
}

/**
 * An Error for done(err), with `code` and `retriable`. Its name IS the code: Node-RED gives a catch
 * node `msg.error.message = err.toString()`, i.e. "name: message", so the stable code comes first
 * there and in the log.
 */
export class NodeMessageError extends Error {
  constructor(
    readonly code: string,
    detail: string,
    readonly retriable: boolean,
  ) {
    super(detail.startsWith(`${code}: `) ? detail.slice(code.length + 2) : detail);
    this.name = code;
  }
}

function retriableOf(code: string): boolean {
  const known: Record<string, { retriable: boolean }> = { ...ERROR_CODES, ...SOURCE_ERROR_CODES };
  return known[code]?.retriable ?? false;
}

export function nodeError(code: string, detail: string, retriable = retriableOf(code)): NodeMessageError {
  return new NodeMessageError(code, detail, retriable);
}

/** An append failure as a coded error; an uncoded one is unexpected and may be transient. */
export function toNodeError(err: unknown): NodeMessageError {
  if (err instanceof NodeMessageError) return err;
  if (err instanceof GatewayError) return new NodeMessageError(err.code, err.message, err.retriable);
  return new NodeMessageError('E_OUTBOX_APPEND_FAILED', err instanceof Error ? err.message : String(err), true);
}

export interface StatusView {
  fill: 'green' | 'yellow' | 'red' | 'grey';
  shape: 'dot' | 'ring';
  /** Message key in the node's catalogue (locales/<lang>/innbyggertorg-outbox.json, "status"). */
  key: 'connected' | 'backlog' | 'disconnected' | 'connecting' | 'stopped';
  depth: number;
}

/**
 * Connected with nothing queued: green dot. Connected but readings waiting: yellow (the uplink is
 * draining a backlog). Anything else: red ring, with the depth, since that is what is piling up.
 */
export function outboxStatus(state: UplinkState, depth: number): StatusView {
  if (state === 'online') return depth === 0 ? { fill: 'green', shape: 'dot', key: 'connected', depth } : { fill: 'yellow', shape: 'dot', key: 'backlog', depth };
  if (state === 'connecting') return { fill: 'yellow', shape: 'ring', key: 'connecting', depth };
  if (state === 'stopped') return { fill: 'grey', shape: 'ring', key: 'stopped', depth };
  return { fill: 'red', shape: 'ring', key: 'disconnected', depth };
}

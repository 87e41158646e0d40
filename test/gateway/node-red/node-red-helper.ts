/**
 * Typed access to node-red-node-test-helper (CommonJS, no type declarations) and our node modules,
 * plus small waits used by the node tests. The helper runs the real Node-RED runtime.
 */
import { createRequire } from 'node:module';
import { buildNodeRedBundle } from '../../../gateway/node-red/build.mjs';

const require = createRequire(import.meta.url);

export interface FlowNode {
  id: string;
  on(event: string, listener: (arg: NodeMessage & CallRecord) => void): void;
  receive(msg: Record<string, unknown>): void;
  credentials?: Record<string, string>;
}
export interface NodeMessage {
  payload?: unknown;
  error?: { message: string; source?: { id: string } };
  outbox?: { accepted: number; rejected: number };
  [key: string]: unknown;
}
export interface CallRecord {
  args: unknown[];
}
export interface NodeRedTestHelper {
  init(runtimePath: string, settings?: Record<string, unknown>): void;
  settings(settings: Record<string, unknown>): Record<string, unknown>;
  load(nodes: unknown[], flow: Record<string, unknown>[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): FlowNode;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
}

export const helper = require('node-red-node-test-helper') as NodeRedTestHelper;
export const nodeRedPath = require.resolve('node-red');

/** Builds lib/innbyggertorg.cjs from the current sources, then loads the three node modules. */
export async function loadOurNodes(): Promise<{ platform: unknown; decode: unknown; outbox: unknown; catchNode: unknown }> {
  await buildNodeRedBundle();
  return {
    catchNode: require('@node-red/nodes/core/common/25-catch.js') as unknown,
    platform: require('../../../gateway/node-red/nodes/innbyggertorg-platform.js') as unknown,
    decode: require('../../../gateway/node-red/nodes/innbyggertorg-decode.js') as unknown,
    outbox: require('../../../gateway/node-red/nodes/innbyggertorg-outbox.js') as unknown,
  };
}

/** The next message a (helper) node receives. */
export function nextInput(node: FlowNode): Promise<NodeMessage> {
  return new Promise((resolve) => node.on('input', (msg) => resolve(msg)));
}

interface StatusSpy {
  getCalls(): { thisValue: unknown; args: unknown[] }[];
}
export interface NodeStatus {
  fill?: string;
  shape?: string;
  text?: string;
}

/** Every status `node` has shown so far (the helper spies on Node.prototype.status). */
export function statusHistory(node: FlowNode): NodeStatus[] {
  const spy = (node as unknown as { status: StatusSpy }).status;
  return spy
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0] as NodeStatus);
}

/** Resolves with the first status of `node` (past or future) that matches. */
export async function statusMatching(node: FlowNode, pred: (s: NodeStatus) => boolean): Promise<NodeStatus> {
  for (;;) {
    const hit = statusHistory(node).find(pred);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A pino logger whose lines go to a Node-RED node's log (node.log/warn/error), so that what the
 * outbox and uplink report shows up in the editor's debug sidebar and the Node-RED log with the
 * node's id, instead of on a stdout nobody reads in a standalone Node-RED.
 */
import { pino, type Logger } from 'pino';

export interface NodeLogTarget {
  log(msg: unknown): void;
  warn(msg: unknown): void;
  error(msg: unknown): void;
}

/** pino's numeric levels (https://getpino.io/#/docs/api?id=logger-level). */
const WARN = 40;
const ERROR = 50;

export function createNodeLogger(target: NodeLogTarget, level: pino.LevelWithSilent = 'info'): Logger {
  return pino(
    { level, base: null, timestamp: false },
    {
      write(line: string): void {
        let entry: { level?: number; msg?: string } & Record<string, unknown>;
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          target.log(line);
          return;
        }
        const { level: n = 30, msg = '', ...rest } = entry;
        const text = Object.keys(rest).length > 0 ? `${msg} ${JSON.stringify(rest)}` : msg;
        if (n >= ERROR) target.error(text);
        else if (n >= WARN) target.warn(text);
        else target.log(text);
      },
    },
  );
}

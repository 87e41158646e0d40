/**
 * Source: Disruptive Technologies Data Connector webhooks (HTTP POST, HS256-signed JWT in
 * `X-DT-Signature`; https://developer.disruptive-technologies.com/docs/data-connectors/introduction-to-data-connector).
 *
 * Answers 2xx only after the readings are durable in the outbox. Data Connector retries an event
 * that did not get a 2xx (same docs, "Retry policy"), so outbox-full answers 503 and the event
 * comes back later; a bad signature answers 401; an event that maps to nothing (unsupported type)
 * answers 200 so DT does not retry something that can never succeed.
 */
import type { Server } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import { createDtWebhookReceiver } from '../../devices/sources/disruptive-technologies.ts';
import type { Clock } from '../clock.ts';
import type { ReadingSink, Source } from './source.ts';

export interface DtWebhookSourceOptions {
  name: string;
  host?: string;
  port: number;
  path: string;
  secret: string;
  clock: Clock;
  logger: Logger;
  /** Largest accepted body; a DT event is a few hundred bytes. */
  maxBodyBytes?: number;
}

export class DtWebhookSource implements Source {
  readonly name: string;
  private server: Server | null = null;

  constructor(private readonly o: DtWebhookSourceOptions) {
    this.name = o.name;
  }

  start(sink: ReadingSink): Promise<void> {
    const receiver = createDtWebhookReceiver({ secret: this.o.secret });
    const app = express();
    app.post(this.o.path, express.raw({ type: () => true, limit: this.o.maxBodyBytes ?? 64 * 1024 }), async (req, res) => {
      const nowMs = this.o.clock.now();
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const r = await receiver.handle({ headers: req.headers, body, nowMs });
      if (!r.ok) {
        sink.messageFailed(this.name, r.code, r.detail, body.subarray(0, 512).toString('utf8'));
        res.status(r.code.startsWith('E_SIGNATURE') ? 401 : 200).json({ code: r.code, detail: r.detail });
        return;
      }
      try {
        const out = await sink.accept(this.name, r.readings, nowMs);
        res.status(200).json(out);
      } catch (err) {
        const retriable = (err as { retriable?: unknown }).retriable === true;
        this.o.logger.warn({ source: this.name, err: (err as Error).message }, 'webhook readings not stored');
        res.status(retriable ? 503 : 500).json({ code: (err as { code?: unknown }).code ?? 'E_INTERNAL', retriable });
      }
    });
    return new Promise((resolve, reject) => {
      const server = app.listen(this.o.port, this.o.host ?? '0.0.0.0', (err?: Error) => (err ? reject(err) : resolve()));
      this.server = server;
    });
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

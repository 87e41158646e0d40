/**
 * /healthz and /metrics (express 5).
 */
import express from 'express';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthStatus {
  healthy: boolean;
  mqttConnected: boolean;
  influxReachable: boolean;
  inflightMessages: number;
  inflightBytes: number;
  lastWriteOkAt: string | null;
}

export interface IngestHttpOptions {
  port: number;
  host: string;
  registry: Registry;
  health: () => Promise<HealthStatus>;
}

export async function startIngestHttp(opts: IngestHttpOptions): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const app = express();
  app.get('/healthz', async (_req, res) => {
    const h = await opts.health();
    res.status(h.healthy ? 200 : 503).json(h);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(opts.registry.contentType).send(await opts.registry.metrics());
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port, opts.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

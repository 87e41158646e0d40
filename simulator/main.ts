/**
 * Composition root of the simulator: reads options and environment, builds the model of each torg
 * and publishes its readings through the contract as gateway `gw-<torg>` would.
 *
 *   tsx simulator/main.ts --realtime [--speed 60]     the demo, stepping with the wall clock
 *   tsx simulator/main.ts --backfill-days 7           N days ending now, as fast as the broker acks
 *
 * Environment: SIM_MQTT_URL, SIM_TORG_CONFIG (default config/torg.asker.sample.json), SIM_SEED.
 * `innbyggertorg simulate` runs the same code.
 */
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import mqtt from 'mqtt';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { PlatformError } from '../devices/contract/errors.ts';
import { loadTorgConfig } from '../devices/torg/torg-config.schema.ts';
import { EnvelopePublisher } from './envelope-publisher.ts';
import { TorgSimulator } from './model.ts';
import { addRunOptions, parseSimEnv, positiveInt, runWindow, selectTorg, type RunOptions } from './run-options.ts';

const envSchema = z.object({
  SIM_MQTT_URL: z.string().url().default('mqtt://localhost:1883'),
  SIM_TORG_CONFIG: z.string().min(1).default('config/torg.asker.sample.json'),
  SIM_SEED: z.coerce.number().int().default(1),
});

export interface SimulatorOptions extends RunOptions {
  mqttUrl: string;
  config: string;
  batch: number;
  maxInFlight: number;
}

/** A stop signal the runner checks between steps. */
export interface StopSignal {
  stopped: boolean;
}

export interface SimulatorDeps {
  clock: () => number;
  sleep: (ms: number, stop: StopSignal) => Promise<void>;
  logger: Logger;
  stop: StopSignal;
}

/** Adds the simulator's options to a command (the standalone runner and `innbyggertorg simulate`). */
export function addSimulatorOptions(cmd: Command, env: NodeJS.ProcessEnv = process.env): Command {
  const e = parseSimEnv(envSchema, env);
  return addRunOptions(
    cmd
      .option('--mqtt-url <url>', 'MQTT broker (env SIM_MQTT_URL)', e.SIM_MQTT_URL)
      .option('--config <file>', 'torg config (env SIM_TORG_CONFIG)', e.SIM_TORG_CONFIG)
      .option('--batch <n>', 'readings per envelope', positiveInt, 500)
      .option('--max-in-flight <n>', 'envelopes awaiting PUBACK at once', positiveInt, 16),
    { seed: e.SIM_SEED, stepHelp: 'simulation step' },
  );
}

/** Runs backfill and/or realtime as the options say; resolves when done or stopped. */
export async function runSimulator(opts: SimulatorOptions, deps: SimulatorDeps): Promise<{ readings: number; envelopes: number }> {
  const { clock, logger } = deps;
  if (!opts.realtime && opts.backfillDays === undefined) {
    throw new PlatformError('E_CONFIG_INVALID', 'choose --realtime and/or --backfill-days N');
  }
  const torgs = selectTorg(loadTorgConfig(opts.config).torg, opts.torg);
  const now = clock();
  const { stepMs, alignedNow, startMs } = runWindow(opts, now);

  const client = await mqtt.connectAsync(opts.mqttUrl, {
    clientId: `itorg-simulator-${opts.seed}-${process.pid}`,
    // A clean session: the simulator's outbox is the publisher's in-flight set, nothing to resume.
    clean: true,
    reconnectPeriod: 2000,
  }).catch((err: unknown) => {
    throw new PlatformError('E_MQTT_UNAVAILABLE', `${opts.mqttUrl}: ${(err as Error).message}`, { cause: err });
  });
  client.on('error', (err) => logger.warn({ err: err.message }, 'mqtt error'));
  const publisher = new EnvelopePublisher({ client, batchSize: opts.batch, maxInFlight: opts.maxInFlight, clock, seqStart: now });
  const sims = torgs.map((t) => new TorgSimulator(t, { seed: opts.seed, startMs, stepSeconds: opts.step, faultRate: opts.faultRate }));
  logger.info({ torg: torgs.map((t) => t.id), from: new Date(startMs).toISOString(), devices: sims.reduce((n, s) => n + s.devices.length, 0) }, 'simulator start');

  const publishStep = async () => {
    for (const sim of sims) {
      const step = sim.step();
      for (const r of step.readings) await publisher.add(step.torg, `gw-${step.torg}`, r);
    }
  };

  try {
    let simMs = startMs;
    if (opts.backfillDays !== undefined) {
      const total = Math.round((alignedNow - startMs) / stepMs);
      for (let i = 0; i < total && !deps.stop.stopped; i++) {
        await publishStep();
        simMs += stepMs;
        if (i % 1440 === 0) logger.info({ at: new Date(simMs).toISOString(), readings: publisher.stats.readings }, 'backfill progress');
      }
      await publisher.flush();
    }
    if (opts.realtime) {
      const wallStart = clock();
      const simStart = simMs;
      while (!deps.stop.stopped) {
        const wall = clock();
        // Simulated time runs `speed` times faster until it reaches the wall clock, then keeps pace:
        // readings are never stamped in the future (the ingest refuses more than MAX_FUTURE_MS ahead,
        // and a demo should not show tomorrow).
        const target = Math.min(simStart + (wall - wallStart) * opts.speed, wall);
        let stepped = false;
        while (simMs + stepMs <= target && !deps.stop.stopped) {
          await publishStep();
          simMs += stepMs;
          stepped = true;
        }
        if (stepped) await publisher.flush();
        await deps.sleep(Math.max(50, Math.min(1000, (simMs + stepMs - target) / opts.speed)), deps.stop);
      }
    }
    await publisher.drain();
  } finally {
    await client.endAsync();
  }
  logger.info(publisher.stats, 'simulator done');
  return { readings: publisher.stats.readings, envelopes: publisher.stats.envelopes };
}

/** Real clock, sleep and signals for a process. */
export function processDeps(logger: Logger): SimulatorDeps {
  const stop: StopSignal = { stopped: false };
  const wakers = new Set<() => void>();
  const onSignal = () => {
    stop.stopped = true;
    for (const w of wakers) w();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    clock: () => Date.now(),
    logger,
    stop,
    sleep: (ms, s) =>
      new Promise<void>((resolve) => {
        if (s.stopped) return resolve();
        const done = () => {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        wakers.add(done);
      }),
  };
}

async function main(): Promise<void> {
  const logger = pino({ name: 'simulator' }, pino.destination(2));
  const program = addSimulatorOptions(new Command('simulator').description('Simulerer sensorene i innbyggertorgene / simulates the torg sensors'));
  program.parse();
  await runSimulator(program.opts<SimulatorOptions>(), processDeps(logger));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

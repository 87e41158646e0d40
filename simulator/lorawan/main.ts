/**
 * Composition root of the LoRaWAN simulator: the same seeded torg model as simulator/main.ts, but
 * published as a site network server would, ChirpStack v4 uplink events with vendor payload bytes
 * on the site's local broker, for the gateway (format chirpstack-v4) to decode.
 *
 *   tsx simulator/lorawan/main.ts --mqtt-url mqtt://127.0.0.1:1884 --realtime [--speed 60]
 *   tsx simulator/lorawan/main.ts --backfill-days 2
 *
 * Environment: SIM_LNS_MQTT_URL, SIM_TORG_CONFIG (default config/torg.asker.sample.json), SIM_SEED.
 * `--print-device-models` prints the DevEUI → model id map for the gateway config and exits.
 */
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import mqtt from 'mqtt';
import pino from 'pino';
import { z } from 'zod';
import { PlatformError } from '../../devices/contract/errors.ts';
import { loadTorgConfig } from '../../devices/torg/torg-config.schema.ts';
import { processDeps, type SimulatorDeps } from '../main.ts';
import { TorgSimulator } from '../model.ts';
import { LnsPublisher, deviceModelMap, type LnsPublishStats } from './lns-publisher.ts';
import { addRunOptions, parseSimEnv, positiveInt, runWindow, selectTorg, type RunOptions } from '../run-options.ts';

const envSchema = z.object({
  SIM_LNS_MQTT_URL: z.string().url().default('mqtt://localhost:1884'),
  SIM_TORG_CONFIG: z.string().min(1).default('config/torg.asker.sample.json'),
  SIM_SEED: z.coerce.number().int().default(1),
});

export interface LnsSimulatorOptions extends RunOptions {
  mqttUrl: string;
  torgConfig: string;
  maxInFlight: number;
  printDeviceModels: boolean;
}

export function addLnsSimulatorOptions(cmd: Command, env: NodeJS.ProcessEnv = process.env): Command {
  const e = parseSimEnv(envSchema, env);
  return addRunOptions(
    cmd
      .option('--mqtt-url <url>', 'site LNS broker (env SIM_LNS_MQTT_URL)', e.SIM_LNS_MQTT_URL)
      .option('--torg-config <file>', 'torg config (env SIM_TORG_CONFIG)', e.SIM_TORG_CONFIG)
      .option('--max-in-flight <n>', 'uplink events awaiting PUBACK at once', positiveInt, 32)
      .option('--print-device-models', 'print the DevEUI → model id map (JSON) for the gateway config and exit', false),
    { seed: e.SIM_SEED, stepHelp: 'simulation step = the counters\' reporting interval' },
  );
}

export async function runLnsSimulator(opts: LnsSimulatorOptions, deps: SimulatorDeps): Promise<LnsPublishStats> {
  const { clock, logger } = deps;
  const torgs = selectTorg(loadTorgConfig(opts.torgConfig).torg, opts.torg);
  const { stepMs, alignedNow, startMs } = runWindow(opts, clock());
  const sims = torgs.map((t) => new TorgSimulator(t, { seed: opts.seed, startMs, stepSeconds: opts.step, faultRate: opts.faultRate }));

  if (opts.printDeviceModels) {
    process.stdout.write(`${JSON.stringify(deviceModelMap(sims.flatMap((s) => s.devices)), null, 2)}\n`);
    return { uplinks: 0, failedUplinks: 0, readings: 0, unencodable: {}, droppedFields: {} };
  }
  if (!opts.realtime && opts.backfillDays === undefined) {
    throw new PlatformError('E_CONFIG_INVALID', 'choose --realtime and/or --backfill-days N');
  }

  const client = await mqtt
    .connectAsync(opts.mqttUrl, { clientId: `itorg-lns-sim-${opts.seed}-${process.pid}`, clean: true, reconnectPeriod: 2000 })
    .catch((err: unknown) => {
      throw new PlatformError('E_MQTT_UNAVAILABLE', `${opts.mqttUrl}: ${(err as Error).message}`, { cause: err });
    });
  client.on('error', (err) => logger.warn({ err: err.message }, 'mqtt error'));
  const publisher = new LnsPublisher({ client, maxInFlight: opts.maxInFlight, seed: opts.seed, stepSeconds: opts.step });
  for (const s of sims) publisher.addTorg(s.torg, s.devices);
  logger.info({ torg: torgs.map((t) => t.id), from: new Date(startMs).toISOString(), devices: sims.reduce((n, s) => n + s.devices.length, 0) }, 'lns simulator start');

  const publishStep = async () => {
    for (const sim of sims) await publisher.publishStep(sim.step());
  };
  try {
    let simMs = startMs;
    if (opts.backfillDays !== undefined) {
      const total = Math.round((alignedNow - startMs) / stepMs);
      for (let i = 0; i < total && !deps.stop.stopped; i++) {
        await publishStep();
        simMs += stepMs;
        if (i % 1440 === 0) logger.info({ at: new Date(simMs).toISOString(), uplinks: publisher.stats.uplinks }, 'backfill progress');
      }
    }
    if (opts.realtime) {
      const wallStart = clock();
      const simStart = simMs;
      while (!deps.stop.stopped) {
        // As in simulator/main.ts: catch up at `speed`, then keep pace, never ahead of the wall clock.
        const target = Math.min(simStart + (clock() - wallStart) * opts.speed, clock());
        while (simMs + stepMs <= target && !deps.stop.stopped) {
          await publishStep();
          simMs += stepMs;
        }
        await deps.sleep(Math.max(50, Math.min(1000, (simMs + stepMs - target) / opts.speed)), deps.stop);
      }
    }
    await publisher.drain();
  } finally {
    await client.endAsync();
  }
  logger.info(publisher.stats, 'lns simulator done');
  return publisher.stats;
}

async function main(): Promise<void> {
  const logger = pino({ name: 'lns-simulator' }, pino.destination(2));
  const program = addLnsSimulatorOptions(
    new Command('lns-simulator').description('Simulerer sensorene som LoRaWAN-enheter bak ChirpStack / simulates the sensors as LoRaWAN devices behind ChirpStack'),
  );
  program.parse();
  await runLnsSimulator(program.opts<LnsSimulatorOptions>(), processDeps(logger));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

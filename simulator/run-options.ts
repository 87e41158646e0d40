/**
 * Command-line options shared by the two simulator entry points (simulator/main.ts publishes
 * contract envelopes; simulator/lorawan/main.ts publishes ChirpStack uplinks with vendor bytes).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { z } from 'zod';
import { PlatformError } from '../devices/contract/errors.ts';

export function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

export function positiveInt(v: string): number {
  const n = positiveNumber(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** A seed is any integer; `NaN` would silently seed the PRNG with 0. */
export function seedArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

/** A probability in [0, 1]; `NaN` would silently turn the faults off. */
export function probability(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

/** What addRunOptions parses (commander's camel-cased names). */
export interface RunOptions {
  seed: number;
  realtime: boolean;
  speed: number;
  catchUpHours: number;
  backfillDays?: number;
  step: number;
  torg?: string[];
  faultRate: number;
}

/** The options both runners take: seed, mode (realtime / backfill), step, torg selection, faults. */
export function addRunOptions(cmd: Command, defaults: { seed: number; stepHelp: string }): Command {
  return cmd
    .option('--seed <n>', 'PRNG seed (env SIM_SEED)', seedArg, defaults.seed)
    .option('--realtime', 'step with the wall clock (the demo)', false)
    .option('--speed <x>', 'realtime: simulated seconds per wall second while catching up with now', positiveNumber, 1)
    .option('--catch-up-hours <h>', 'realtime with --speed > 1: start this many hours before now', positiveNumber, 24)
    .option('--backfill-days <n>', 'publish N days ending now as fast as the broker acknowledges (max 29)', positiveNumber)
    .option('--step <seconds>', defaults.stepHelp, positiveInt, 60)
    .option('--torg <ids...>', 'only these torg (default: all in the config)')
    .option('--fault-rate <p>', 'probability per torg of a dead sensor / a drifting counter', probability, 0.3);
}

/** Reads a runner's SIM_* environment; a bad value is E_CONFIG_INVALID naming the variable. */
export function parseSimEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new PlatformError('E_CONFIG_INVALID', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

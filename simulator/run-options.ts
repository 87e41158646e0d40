/**
 * Command-line options shared by the two simulator entry points (simulator/main.ts publishes
 * contract envelopes; simulator/lorawan/main.ts publishes ChirpStack uplinks with vendor bytes).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { z } from 'zod';
import { PlatformError } from '../devices/contract/errors.ts';
import { DEFAULT_MAX_AGE_MS } from '../devices/contract/validate.ts';

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

/** The torg `--torg` selects from the config (all of them without it); an unknown id is E_CONFIG_INVALID naming the known ones. */
export function selectTorg<T extends { id: string }>(all: readonly T[], ids: readonly string[] | undefined): T[] {
  const torgs = ids ? all.filter((t) => ids.includes(t.id)) : [...all];
  const unknown = (ids ?? []).filter((id) => !all.some((t) => t.id === id));
  if (unknown.length > 0 || torgs.length === 0) {
    throw new PlatformError('E_CONFIG_INVALID', `--torg: unknown torg ${unknown.join(', ')} (known: ${all.map((t) => t.id).join(', ')})`);
  }
  return torgs;
}

/**
 * The simulated span of a run: steps of `stepMs` from `startMs` up to `alignedNow` (now rounded down
 * to a step). Backfill starts `--backfill-days` before; realtime at now, or `--catch-up-hours` before
 * when `--speed` > 1.
 */
export function runWindow(opts: RunOptions, nowMs: number): { stepMs: number; alignedNow: number; startMs: number } {
  const stepMs = opts.step * 1000;
  const alignedNow = Math.floor(nowMs / stepMs) * stepMs;
  if (opts.backfillDays !== undefined) {
    // The ingest refuses readings older than 30 days (validate.ts DEFAULT_MAX_AGE_MS); keep a day's
    // margin so a slow backfill's first readings are still accepted when they arrive.
    const maxDays = DEFAULT_MAX_AGE_MS / 86_400_000 - 1;
    if (opts.backfillDays > maxDays) throw new PlatformError('E_CONFIG_INVALID', `--backfill-days at most ${maxDays}`);
    return { stepMs, alignedNow, startMs: alignedNow - Math.round((opts.backfillDays * 86_400_000) / stepMs) * stepMs };
  }
  const catchUpMs = opts.speed > 1 ? Math.round((opts.catchUpHours * 3_600_000) / stepMs) * stepMs : 0;
  return { stepMs, alignedNow, startMs: alignedNow - catchUpMs };
}

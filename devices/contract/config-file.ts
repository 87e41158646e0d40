/**
 * Loading a JSON config file and validating it with zod, with the error a person can act on:
 * E_CONFIG_INVALID naming the file (or source) and the bad key(s) as found in the file.
 * Shared by every config the platform reads (torg model, indicator definitions, skalering rules,
 * alert config, assignment rules, bookings) so they all report problems the same way.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { PlatformError } from './errors.ts';

/**
 * How an issue's path is written:
 * - `ids`: array items by their `id` where they have one, `torg[heggedal].zones[mote-1].capacity`,
 *   because indices change when someone reorders the file and ids do not;
 * - `indices`: array items by index, `rules[3].place`;
 * - `dots`: the zod path joined with dots, `webhooks.0.url`.
 */
export type KeyPathStyle = 'ids' | 'indices' | 'dots';

/** At most this many issues in one message; a wholly wrong file otherwise yields a wall of text. */
const MAX_ISSUES = 10;

export function configKeyPath(input: unknown, path: readonly PropertyKey[], style: KeyPathStyle = 'ids'): string {
  if (style === 'dots') return path.map(String).join('.') || '(root)';
  let out = '';
  let node: unknown = input;
  for (const seg of path) {
    if (typeof seg === 'number') {
      const item: unknown = Array.isArray(node) ? (node as unknown[])[seg] : undefined;
      const id =
        style === 'ids' && item && typeof item === 'object' && 'id' in item && typeof item.id === 'string' ? item.id : String(seg);
      out += `[${id}]`;
      node = item;
    } else {
      out += (out ? '.' : '') + String(seg);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[seg as string] : undefined;
    }
  }
  return out || '(root)';
}

/** `key: message; key: message` for the first issues of a failed parse of `input`. */
export function formatConfigIssues(error: z.ZodError, input: unknown, style: KeyPathStyle = 'ids'): string {
  return error.issues
    .slice(0, MAX_ISSUES)
    .map((i) => `${configKeyPath(input, i.path, style)}: ${i.message}`)
    .join('; ');
}

/** Validates an already-parsed config value; throws E_CONFIG_INVALID `source: key: message; …`. */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, source: string, style: KeyPathStyle = 'ids'): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new PlatformError('E_CONFIG_INVALID', `${source}: ${formatConfigIssues(r.error, input, style)}`);
}

/** Reads and JSON-parses a config file; an unreadable or non-JSON file is E_CONFIG_INVALID naming it. */
export function readJsonConfig(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new PlatformError('E_CONFIG_INVALID', `${file}: ${(err as Error).message}`, { cause: err });
  }
}

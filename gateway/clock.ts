/**
 * Time as a dependency: logic code asks a Clock, never `Date.now()`, so tests can drive age limits,
 * clock-skew flags and backoff exactly (style.md, "Time is injected").
 */
export interface Clock {
  /** ms since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

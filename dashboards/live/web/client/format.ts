/**
 * Texts the page builds from values: ages, times, counts. Pure functions of (value, now, language),
 * so they run the same in the browser and in unit tests with a fixed clock.
 */
import { en } from './i18n/en.ts';
import { nb, type Dictionary, type TextKey } from './i18n/nb.ts';

export type Lang = 'nb' | 'en';
const DICTS: Record<Lang, Dictionary> = { nb, en };

/** All torg are in Asker (torg-config `timeZone: Europe/Oslo`); times are shown in local time there. */
const TIME_ZONE = 'Europe/Oslo';

export function t(lang: Lang, key: TextKey, vars: Record<string, string | number> = {}): string {
  return DICTS[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
function fmt(lang: Lang, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${lang}|${JSON.stringify(opts)}`;
  let f = timeFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'nb' ? 'nb-NO' : 'en-GB', { ...opts, timeZone: TIME_ZONE });
    timeFormats.set(key, f);
  }
  return f;
}

/** "14:05" in Oslo time. */
export function clock(lang: Lang, at: number): string {
  return fmt(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
}

function osloDay(at: number): string {
  return fmt('en', { year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** "siden 14:05", or "siden tir. 14:05" when the change was not today (Oslo calendar day). */
export function since(lang: Lang, at: number | null, now: number): string {
  if (at === null) return t(lang, 'unknown');
  if (osloDay(at) === osloDay(now)) return t(lang, 'sinceTime', { time: clock(lang, at) });
  return t(lang, 'sinceDayTime', { day: fmt(lang, { weekday: 'short', day: 'numeric', month: 'short' }).format(at), time: clock(lang, at) });
}

/** "for 25 min siden"; whole minutes rounded down, so a value is never shown younger than it is. */
export function age(lang: Lang, at: number, now: number): string {
  const minutes = Math.floor(Math.max(0, now - at) / 60_000);
  if (minutes < 1) return t(lang, 'justNow');
  if (minutes < 120) return t(lang, 'agoMinutes', { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t(lang, 'agoHours', { n: hours });
  return t(lang, 'agoDays', { n: Math.floor(hours / 24) });
}

export function number(lang: Lang, n: number, fractionDigits = 0): string {
  return new Intl.NumberFormat(lang === 'nb' ? 'nb-NO' : 'en-GB', { maximumFractionDigits: fractionDigits, minimumFractionDigits: fractionDigits }).format(n);
}

export function percent(lang: Lang, share: number): string {
  return new Intl.NumberFormat(lang === 'nb' ? 'nb-NO' : 'en-GB', { style: 'percent', maximumFractionDigits: 0 }).format(share);
}

/**
 * The day chart as an SVG path in a `width`×`height` box: x from the first to the last sample (or
 * `now`, whichever is later), y from 0 to max(capacity, highest value) so torg can be compared by eye.
 * Null when there is nothing to draw.
 */
export function seriesPath(series: readonly (readonly [number, number])[], opts: { width: number; height: number; now: number; capacity: number }): string | null {
  const first = series[0];
  if (first === undefined) return null;
  const x0 = first[0];
  const x1 = Math.max(opts.now, series[series.length - 1]?.[0] ?? x0);
  const yMax = Math.max(opts.capacity, ...series.map(([, v]) => v), 1);
  const span = Math.max(1, x1 - x0);
  const pts = series.map(([x, v]) => `${(((x - x0) / span) * opts.width).toFixed(1)},${(opts.height - (v / yMax) * opts.height).toFixed(1)}`);
  // A step line: occupancy holds its value until the next sample.
  let d = `M${pts[0]}`;
  for (let i = 1; i < pts.length; i++) {
    const [x] = (pts[i] ?? '').split(',');
    const [, yPrev] = (pts[i - 1] ?? '').split(',');
    d += ` L${x},${yPrev} L${pts[i]}`;
  }
  const last = series[series.length - 1];
  if (last !== undefined && x1 > last[0]) d += ` L${opts.width.toFixed(1)},${(opts.height - (last[1] / yMax) * opts.height).toFixed(1)}`;
  return d;
}

/// <reference lib="dom" />
/**
 * Views of the live page, built from the live API's shapes (dashboards/live/live.schema.ts).
 *
 * Honesty (issue 5 "A stale value is shown as stale, never as current"): a value whose `fresh` flag
 * is false is rendered greyed with the word "utdatert" and its age; `null` is rendered "ukjent",
 * never 0. Colour never carries meaning alone (WCAG 2.1 SC 1.4.1): every band and state has a word.
 */
import type { LiveOverview, TorgLive } from '../../live.schema.ts';
import { h, svg } from './dom.ts';
import { age, clock, number, percent, seriesPath, since, t, type Lang } from './format.ts';

type Zone = TorgLive['zones'][number];
type Door = TorgLive['doors'][number];
type Device = TorgLive['devices'][number];
type Alert = TorgLive['alerts'][number];

export interface ViewContext {
  lang: Lang;
  /** Server-aligned now (the page corrects for its own clock's offset from `generatedAt`). */
  now: number;
}

/** A value with its observation time and freshness, or "ukjent". */
function observed(ctx: ViewContext, text: string | null, q: { at: number | null; fresh: boolean }, cls = 'value'): HTMLElement {
  if (text === null) return h('span', { class: `${cls} unknown` }, t(ctx.lang, 'unknown'));
  if (q.fresh) return h('span', { class: cls }, text);
  return h(
    'span',
    { class: `${cls} stale` },
    text,
    ' ',
    h('span', { class: 'stale-tag' }, q.at === null ? t(ctx.lang, 'stale') : `${t(ctx.lang, 'stale')} · ${age(ctx.lang, q.at, ctx.now)}`),
  );
}

function statusBadge(ctx: ViewContext, s: TorgLive['openingStatus']): HTMLElement {
  return h('span', { class: `badge status-${s}` }, t(ctx.lang, `status_${s}`));
}

export function dayChart(ctx: ViewContext, torg: TorgLive, size: { width: number; height: number }): Element {
  const series = torg.occupancy.series;
  const d = seriesPath(series, { ...size, now: ctx.now, capacity: torg.occupancy.capacity });
  const first = series[0];
  if (d === null || first === undefined) return h('p', { class: 'chart-empty' }, t(ctx.lang, 'dayChartEmpty'));
  const max = Math.max(...series.map(([, v]) => v));
  const label = t(ctx.lang, 'dayChartLabel', { from: clock(ctx.lang, first[0]), to: clock(ctx.lang, Math.max(ctx.now, series[series.length - 1]?.[0] ?? first[0])), max });
  return svg(
    'svg',
    { class: 'chart', viewBox: `0 0 ${size.width} ${size.height}`, role: 'img', 'aria-label': label, preserveAspectRatio: 'none' },
    svg('title', {}, label),
    svg('line', { class: 'chart-capacity', x1: 0, x2: size.width, y1: 0.5, y2: 0.5 }),
    svg('path', { class: 'chart-line', d, 'vector-effect': 'non-scaling-stroke' }),
  );
}

function alertList(ctx: ViewContext, alerts: readonly Alert[], withSubject: boolean): HTMLElement {
  if (alerts.length === 0) return h('p', { class: 'no-alerts' }, t(ctx.lang, 'noAlerts'));
  return h(
    'ul',
    { class: 'alerts' },
    alerts.map((a) =>
      h(
        'li',
        { class: `alert severity-${a.severity}` },
        h('strong', {}, a.message[ctx.lang]),
        withSubject ? ` (${a.subject})` : '',
        ' ',
        h('span', { class: 'muted' }, since(ctx.lang, a.since, ctx.now)),
      ),
    ),
  );
}

function peopleFigure(ctx: ViewContext, torg: TorgLive, live: boolean): HTMLElement {
  const o = torg.occupancy;
  const value = o.people === null ? null : number(ctx.lang, o.people);
  return h(
    'div',
    { class: 'figure people' },
    h('span', { class: 'figure-label', id: `people-label-${torg.id}` }, t(ctx.lang, 'peopleNow')),
    h(
      'span',
      // On the torg page the one number that matters is announced when it changes; the overview
      // announces through the throttled page-level region instead (seven cards would be too chatty).
      { class: 'figure-value', 'data-testid': `people-${torg.id}`, 'aria-labelledby': `people-label-${torg.id}`, ...(live ? { 'aria-live': 'polite', 'aria-atomic': 'true' } : {}) },
      observed(ctx, value, o, 'big'),
    ),
    h('span', { class: 'figure-sub' }, `${t(ctx.lang, 'capacity')} ${number(ctx.lang, o.capacity)}`),
  );
}

function visitsFigure(ctx: ViewContext, torg: TorgLive): HTMLElement {
  const o = torg.occupancy;
  return h(
    'div',
    { class: 'figure visits' },
    h('span', { class: 'figure-label' }, t(ctx.lang, 'visitsToday')),
    h('span', { class: 'figure-value', 'data-testid': `visits-${torg.id}` }, observed(ctx, o.at === null ? null : number(ctx.lang, o.visitsToday), o, 'big')),
  );
}

export function torgCard(ctx: ViewContext, torg: TorgLive): HTMLElement {
  return h(
    'article',
    { class: 'card', 'data-torg': torg.id, 'aria-labelledby': `card-title-${torg.id}` },
    h(
      'header',
      { class: 'card-head' },
      h('h2', { id: `card-title-${torg.id}` }, h('a', { href: `#/torg/${encodeURIComponent(torg.id)}`, 'data-focus-key': `card-link-${torg.id}`, 'aria-label': t(ctx.lang, 'showTorg', { name: torg.name }) }, torg.name)),
      statusBadge(ctx, torg.openingStatus),
    ),
    h('div', { class: 'figures' }, peopleFigure(ctx, torg, false), visitsFigure(ctx, torg)),
    h('figure', { class: 'chart-box' }, h('figcaption', {}, t(ctx.lang, 'dayChart')), dayChart(ctx, torg, { width: 300, height: 60 })),
    h('section', { class: 'card-alerts', 'aria-label': t(ctx.lang, 'activeAlerts') }, alertList(ctx, torg.alerts, true)),
  );
}

export function overviewView(ctx: ViewContext, overview: LiveOverview): HTMLElement {
  return h('div', { class: 'overview' }, h('h1', { class: 'visually-hidden', tabindex: -1 }, t(ctx.lang, 'overview')), h('div', { class: 'cards' }, overview.torg.map((torg) => torgCard(ctx, torg))));
}

function table(caption: string, head: string[], rows: (Node | string)[][]): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      // The section heading already names the table visually; the caption names it for screen readers.
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c))))),
      ),
    ),
  );
}

function zoneRow(ctx: ViewContext, z: Zone): (Node | string)[] {
  const l = ctx.lang;
  const presence = observed(ctx, z.occupied === null ? null : t(l, z.occupied ? 'occupied' : 'free'), z, z.occupied === null ? 'value' : z.occupied ? 'value busy' : 'value free');
  const c = z.climate;
  const climateCell = (v: number | null, unit: string, digits: number): Node =>
    c === null ? h('span', { class: 'muted' }, '–') : observed(ctx, v === null ? null : `${number(l, v, digits)} ${unit}`, c);
  const co2 =
    c === null
      ? h('span', { class: 'muted' }, t(l, 'noClimate'))
      : observed(ctx, c.co2 === null ? null : `${number(l, c.co2)} ppm`, c, c.co2Band === null ? 'value' : `value co2-${c.co2Band}`);
  if (c !== null && c.co2 !== null && c.co2Band !== null) co2.append(' ', h('span', { class: `band band-${c.co2Band}` }, t(l, `co2_${c.co2Band}`)));
  return [
    z.name,
    presence,
    z.count === null ? h('span', { class: 'unknown' }, z.occupied === null ? t(l, 'unknown') : '–') : observed(ctx, number(l, z.count), z),
    since(l, z.since, ctx.now),
    climateCell(c?.temperature ?? null, '°C', 1),
    climateCell(c?.humidity ?? null, '%', 0),
    co2,
  ];
}

function doorRow(ctx: ViewContext, d: Door): (Node | string)[] {
  return [d.name, observed(ctx, d.open === null ? null : t(ctx.lang, d.open ? 'open' : 'closed'), d, d.open ? 'value door-open' : 'value'), since(ctx.lang, d.since, ctx.now)];
}

function deviceRow(ctx: ViewContext, d: Device): (Node | string)[] {
  const l = ctx.lang;
  return [
    d.device,
    d.model ?? t(l, 'unknown'),
    d.place ?? t(l, 'unknown'),
    h('span', { class: `badge health-${d.state}` }, t(l, `state_${d.state}`)),
    d.lastSeenAt === null ? t(l, 'unknown') : `${clock(l, d.lastSeenAt)} (${age(l, d.lastSeenAt, ctx.now)})`,
    d.battery === null ? h('span', { class: 'muted' }, t(l, 'mains')) : h('span', { class: d.battery < 20 ? 'battery-low' : '' }, percent(l, d.battery / 100)),
  ];
}

export function torgView(ctx: ViewContext, torg: TorgLive): HTMLElement {
  const l = ctx.lang;
  const o = torg.occupancy;
  return h(
    'div',
    { class: 'torg-page', 'data-torg': torg.id },
    h('p', {}, h('a', { href: '#/', 'data-focus-key': 'back' }, `← ${t(l, 'backToOverview')}`)),
    h('header', { class: 'torg-head' }, h('h1', { tabindex: -1 }, torg.name), statusBadge(ctx, torg.openingStatus)),
    h(
      'section',
      { class: 'summary', 'aria-label': t(l, 'peopleNow') },
      h('div', { class: 'figures' }, peopleFigure(ctx, torg, true), visitsFigure(ctx, torg)),
      h('figure', { class: 'chart-box wide' }, h('figcaption', {}, t(l, 'dayChart')), dayChart(ctx, torg, { width: 600, height: 120 })),
    ),
    h('section', { 'aria-labelledby': 'alerts-h' }, h('h2', { id: 'alerts-h' }, t(l, 'activeAlerts')), alertList(ctx, torg.alerts, true)),
    h('section', { 'aria-labelledby': 'rooms-h' }, h('h2', { id: 'rooms-h' }, t(l, 'rooms')), table(t(l, 'rooms'), [t(l, 'room'), t(l, 'presence'), t(l, 'headCount'), t(l, 'since'), t(l, 'temperature'), t(l, 'humidity'), t(l, 'co2')], torg.zones.map((z) => zoneRow(ctx, z)))),
    h(
      'section',
      { 'aria-labelledby': 'doors-h' },
      h('h2', { id: 'doors-h' }, t(l, 'doors')),
      torg.doors.length === 0 ? h('p', {}, t(l, 'noDoors')) : table(t(l, 'doors'), [t(l, 'door'), t(l, 'doorState'), t(l, 'since')], torg.doors.map((d) => doorRow(ctx, d))),
    ),
    h(
      'section',
      { 'aria-labelledby': 'entrances-h' },
      h('h2', { id: 'entrances-h' }, t(l, 'entrances')),
      table(
        t(l, 'entrances'),
        [t(l, 'entranceLine'), t(l, 'inCount'), t(l, 'outCount'), t(l, 'share')],
        o.lines.map((ln) => [`${ln.entrance} / ${ln.line}`, number(l, ln.in), number(l, ln.out), ln.share === null ? '–' : percent(l, ln.share)]),
      ),
      h('h3', {}, t(l, 'drift')),
      o.driftToday.length === 0
        ? h('p', {}, t(l, 'driftNone'))
        : h(
            'ul',
            { class: 'drift' },
            o.driftToday.map((dc) => h('li', {}, `${clock(l, dc.at)}: ${t(l, `drift_${dc.cause}`, { n: dc.size })}`)),
          ),
    ),
    h('section', { 'aria-labelledby': 'devices-h' }, h('h2', { id: 'devices-h' }, t(l, 'devices')), table(t(l, 'devices'), [t(l, 'device'), t(l, 'model'), t(l, 'place'), t(l, 'health'), t(l, 'lastSeen'), t(l, 'battery')], torg.devices.map((d) => deviceRow(ctx, d)))),
  );
}

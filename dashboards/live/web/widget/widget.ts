/// <reference lib="dom" />
/**
 * "Hvor travelt er det nå?" — the citizens' widget (issue 5). A municipality page embeds
 *
 *   <div data-innbyggertorg-busy="heggedal"></div>
 *   <script src="https://…/widget.js" async></script>
 *
 * and gets a coarse band now and the usual band at this hour, from GET /api/v1/public/busy on the
 * server the script came from. Never counts (product.md "Privacy"); nothing when the server says
 * `now: null` (closed or stale data): "ingen data nå" rather than a guess.
 *
 * Kept dependency-free and small because it loads on third-party pages: no zod here (it would be
 * most of the bytes); the response is checked by hand against PublicBusy (live.schema.ts), and
 * anything unexpected renders as "ingen data nå". No cookies (`credentials: 'omit'`), no storage.
 * Styles live in a shadow root so the host page's CSS and ours cannot affect each other.
 */
import type { PublicBusy } from '../../live.schema.ts';

type Band = 'ledig' | 'litt-travelt' | 'travelt';
type WidgetLang = 'nb' | 'en';

const TEXTS = {
  nb: {
    title: 'Hvor travelt er det nå?',
    band: { ledig: 'Ledig', 'litt-travelt': 'Litt travelt', travelt: 'Travelt' },
    now: 'Nå',
    usual: 'Vanligvis {band} nå',
    noData: 'Ingen data nå',
    closed: 'Stengt nå',
    unknownTorg: 'Ukjent innbyggertorg',
  },
  en: {
    title: 'How busy is it now?',
    band: { ledig: 'Quiet', 'litt-travelt': 'A little busy', travelt: 'Busy' },
    now: 'Now',
    usual: 'Usually {band} now',
    noData: 'No data now',
    closed: 'Closed now',
    unknownTorg: 'Unknown service hub',
  },
} as const;

const BANDS: readonly Band[] = ['ledig', 'litt-travelt', 'travelt'];
const isBand = (v: unknown): v is Band => typeof v === 'string' && (BANDS as readonly string[]).includes(v);

/** Hand check of PublicBusy; entries that do not match are dropped (and so render "ingen data nå"). */
export function parsePublicBusy(raw: unknown): PublicBusy | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (typeof r['generatedAt'] !== 'number' || !Array.isArray(r['torg'])) return null;
  const torg: PublicBusy['torg'] = [];
  for (const x of r['torg'] as unknown[]) {
    if (typeof x !== 'object' || x === null) continue;
    const e = x as Record<string, unknown>;
    if (typeof e['id'] !== 'string' || typeof e['name'] !== 'string' || typeof e['open'] !== 'boolean') continue;
    torg.push({ id: e['id'], name: e['name'], open: e['open'], now: isBand(e['now']) ? e['now'] : null, usual: isBand(e['usual']) ? e['usual'] : null });
  }
  return { generatedAt: r['generatedAt'], torg };
}

/** The text lines a widget shows for one torg; exported so the unit test checks them without a DOM. */
export function widgetLines(entry: PublicBusy['torg'][number] | undefined, lang: WidgetLang): { name: string; now: string; band: Band | null; usual: string | null } {
  const tx = TEXTS[lang];
  if (entry === undefined) return { name: tx.unknownTorg, now: tx.noData, band: null, usual: null };
  const now = entry.now !== null ? tx.band[entry.now] : entry.open ? tx.noData : tx.closed;
  const usual = entry.usual === null ? null : tx.usual.replace('{band}', tx.band[entry.usual].toLowerCase());
  return { name: entry.name, now, band: entry.now, usual };
}

const CSS_TEXT = `
:host { all: initial; display: block; font: 16px/1.4 system-ui, sans-serif; color: #1a1a1a; }
.w { border: 1px solid #6b6b6b; border-radius: 8px; padding: 12px 14px; background: #fff; max-width: 22rem; }
.t { font-size: 0.875rem; margin: 0 0 4px; color: #3d3d3d; }
.n { font-weight: 700; margin: 0; }
.b { display: inline-flex; align-items: center; gap: 8px; font-size: 1.25rem; font-weight: 700; margin: 4px 0; }
.dot { width: 14px; height: 14px; border-radius: 50%; border: 2px solid #1a1a1a; background: #fff; }
.ledig .dot { background: #1b7f3b; }
.litt-travelt .dot { background: #f2c200; }
.travelt .dot { background: #c0392b; }
.u { margin: 0; color: #3d3d3d; }
`;

function render(host: HTMLElement, data: PublicBusy | null): void {
  const id = host.getAttribute('data-innbyggertorg-busy') ?? '';
  const attrLang = host.getAttribute('data-lang') ?? document.documentElement.lang;
  const lang: WidgetLang = attrLang.toLowerCase().startsWith('en') ? 'en' : 'nb';
  const lines = widgetLines(data?.torg.find((x) => x.id === id), lang);
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  const doc = host.ownerDocument;
  const mk = (tag: string, cls: string, text: string): HTMLElement => {
    const el = doc.createElement(tag);
    el.className = cls;
    el.textContent = text;
    return el;
  };
  const box = mk('section', 'w', '');
  box.setAttribute('lang', lang);
  box.setAttribute('aria-label', `${TEXTS[lang].title} ${lines.name}`);
  box.append(mk('p', 't', TEXTS[lang].title), mk('p', 'n', lines.name));
  const band = mk('p', `b ${lines.band ?? 'none'}`, '');
  const dot = mk('span', 'dot', '');
  dot.setAttribute('aria-hidden', 'true');
  // The band is always written out: colour is decoration (WCAG 2.1 SC 1.4.1).
  band.append(...(lines.band ? [dot] : []), mk('span', '', lines.now));
  box.append(band);
  if (lines.usual !== null) box.append(mk('p', 'u', lines.usual));
  // Adopted style sheets are not inline <style> elements, so a host page CSP with a strict style-src
  // still lets the widget style itself (CSSOM, not markup). Browsers without them (Safari < 16.4)
  // show the same text unstyled.
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS_TEXT);
    root.adoptedStyleSheets = [sheet];
  }
  root.replaceChildren(box);
}

async function load(origin: string): Promise<PublicBusy | null> {
  try {
    const res = await fetch(`${origin}/api/v1/public/busy`, { credentials: 'omit', headers: { accept: 'application/json' } });
    if (!res.ok) return null;
    return parsePublicBusy(await res.json());
  } catch {
    return null;
  }
}

/** Refresh interval: the bands move slowly and the endpoint is cached for about as long. */
const REFRESH_MS = 120_000;

function start(): void {
  const script = document.currentScript as HTMLScriptElement | null;
  // With `async`, currentScript is still set while the script runs (HTML standard, "currentScript");
  // fall back to this page's origin for a same-origin embed.
  const origin = script?.src ? new URL(script.src).origin : location.origin;
  const hosts = (): HTMLElement[] => Array.from(document.querySelectorAll<HTMLElement>('[data-innbyggertorg-busy]'));
  const run = async (): Promise<void> => {
    const data = await load(origin);
    for (const host of hosts()) render(host, data);
  };
  void run();
  setInterval(() => void run(), REFRESH_MS);
}

if (typeof document !== 'undefined') start();

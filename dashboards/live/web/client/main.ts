/// <reference lib="dom" />
/**
 * The live page (issue 5): sign-in, the SSE connection, routing and preferences. Views are in
 * render.ts; texts in i18n/.
 *
 * Data: EventSource on /api/v1/live/stream; the server sends `event: snapshot` (LiveOverview) first
 * and then `event: change` (LiveChange, one whole torg). EventSource reconnects by itself after a
 * network error (HTML Living Standard §9.2 "Server-sent events": the user agent re-establishes the
 * connection); when the server refuses the stream (401 after the session expired) it does not, so
 * the page asks /api/v1/whoami and shows the sign-in form or retries with a backoff.
 *
 * Every message is validated with the same zod schema the server answers with: a page that renders
 * a shape it does not understand would show wrong numbers as if they were right.
 */
import { z } from 'zod';
import { liveChangeSchema, liveOverviewSchema, type LiveOverview, type TorgLive } from '../../live.schema.ts';
import { h } from './dom.ts';
import { clock, number, t, type Lang } from './format.ts';
import { overviewView, torgView, type ViewContext } from './render.ts';

// Under the page's CSP (script-src 'self') zod must not try `new Function` (zod v4 core/util.ts
// allowsEval: even the caught probe is reported as a CSP violation).
z.config({ jitless: true });

interface State {
  lang: Lang;
  overview: LiveOverview | null;
  /** Server clock minus this browser's clock, from the last `generatedAt`/`at` seen. */
  skewMs: number;
  conn: 'connecting' | 'connected' | 'disconnected' | 'signed-out';
  /** When the last message arrived (server-aligned), for the "disconnected, data from …" banner. */
  lastDataAt: number | null;
  error: string | null;
}

const PREFS_KEY = 'itorg-live-prefs';
interface Prefs {
  lang: Lang;
  contrast: boolean;
  large: boolean;
}

function loadPrefs(): Prefs {
  const fallback: Prefs = { lang: 'nb', contrast: false, large: false };
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(PREFS_KEY) ?? 'null');
    if (raw === null || typeof raw !== 'object') return fallback;
    const r = raw as Record<string, unknown>;
    return { lang: r['lang'] === 'en' ? 'en' : 'nb', contrast: r['contrast'] === true, large: r['large'] === true };
  } catch {
    return fallback;
  }
}

const prefs = loadPrefs();
const fromQuery = new URLSearchParams(location.search).get('lang');
if (fromQuery === 'en' || fromQuery === 'nb') prefs.lang = fromQuery;
const state: State = { lang: prefs.lang, overview: null, skewMs: 0, conn: 'connecting', lastDataAt: null, error: null };

function savePrefs(): void {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // Private mode or storage disabled: preferences last for this page load only.
  }
}

const now = (): number => Date.now() + state.skewMs;

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`live page: #${id} missing from index.html`);
  return el as T;
}

const main = byId<HTMLElement>('main');
const connEl = byId<HTMLElement>('conn');
const announcer = byId<HTMLElement>('announcer');
const langBtn = byId<HTMLButtonElement>('lang-toggle');
const contrastBtn = byId<HTMLButtonElement>('contrast-toggle');
const largeBtn = byId<HTMLButtonElement>('large-toggle');
const signOutBtn = byId<HTMLButtonElement>('sign-out');

// ---------------------------------------------------------------------------------------------
// Chrome: language, contrast, text size

function renderChrome(): void {
  const l = state.lang;
  document.documentElement.lang = l === 'nb' ? 'nb' : 'en';
  document.title = t(l, 'appTitle');
  byId('app-title').textContent = t(l, 'appTitle');
  byId('skip-link').textContent = t(l, 'skipToContent');
  byId('main-nav').setAttribute('aria-label', t(l, 'mainNav'));
  byId('nav-overview').textContent = t(l, 'overview');
  langBtn.textContent = t(l, 'switchToOther');
  langBtn.setAttribute('aria-label', t(l, 'switchToOtherLabel'));
  // The button names the other language in that language (lang attribute for screen readers).
  langBtn.lang = l === 'nb' ? 'en' : 'nb';
  contrastBtn.textContent = t(l, 'highContrast');
  contrastBtn.setAttribute('aria-pressed', String(prefs.contrast));
  largeBtn.textContent = t(l, 'largeText');
  largeBtn.setAttribute('aria-pressed', String(prefs.large));
  signOutBtn.textContent = t(l, 'signOut');
  signOutBtn.hidden = state.conn === 'signed-out';
  document.body.classList.toggle('high-contrast', prefs.contrast);
  document.body.classList.toggle('large', prefs.large);
  renderConn();
}

function renderConn(): void {
  const l = state.lang;
  let text = '';
  if (state.conn === 'connecting') text = t(l, 'connecting');
  else if (state.conn === 'connected') text = t(l, 'connected');
  else if (state.conn === 'disconnected') text = t(l, 'disconnected', { time: state.lastDataAt === null ? t(l, 'unknown') : clock(l, state.lastDataAt) });
  if (state.error) text = `${text} ${t(l, 'loadError', { reason: state.error })}`.trim();
  connEl.textContent = text;
  connEl.className = `conn conn-${state.conn}`;
  main.classList.toggle('disconnected', state.conn === 'disconnected');
}

langBtn.addEventListener('click', () => {
  state.lang = prefs.lang = state.lang === 'nb' ? 'en' : 'nb';
  savePrefs();
  if (state.conn === 'signed-out') return showSignIn(null);
  renderChrome();
  render();
});
contrastBtn.addEventListener('click', () => {
  prefs.contrast = !prefs.contrast;
  savePrefs();
  renderChrome();
});
largeBtn.addEventListener('click', () => {
  prefs.large = !prefs.large;
  savePrefs();
  renderChrome();
});

// ---------------------------------------------------------------------------------------------
// Views and routing (hash routes: #/ and #/torg/<id>, so the server serves one document)

function route(): { view: 'overview' } | { view: 'torg'; id: string } {
  const m = /^#\/torg\/([^/]+)$/.exec(location.hash);
  return m?.[1] !== undefined ? { view: 'torg', id: decodeURIComponent(m[1]) } : { view: 'overview' };
}

/** Rebuilds the main view; keeps keyboard focus on the same logical element across rebuilds. */
function render(): void {
  if (state.conn === 'signed-out') return;
  const focusKey = document.activeElement instanceof HTMLElement ? document.activeElement.dataset['focusKey'] : undefined;
  const ctx: ViewContext = { lang: state.lang, now: now() };
  let view: HTMLElement;
  if (state.overview === null) view = h('p', { class: 'loading' }, t(state.lang, 'connecting'));
  else {
    const r = route();
    if (r.view === 'overview') view = overviewView(ctx, state.overview);
    else {
      const torg = state.overview.torg.find((x) => x.id === r.id);
      view = torg ? torgView(ctx, torg) : h('p', { role: 'alert' }, t(state.lang, 'torgNotFound', { id: r.id }));
    }
  }
  main.replaceChildren(view);
  if (focusKey !== undefined) main.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
}

window.addEventListener('hashchange', () => {
  render();
  // Move focus to the new view's heading so screen reader and keyboard users land on the new content.
  main.querySelector<HTMLElement>('h1')?.focus();
});

// Ages ("for 25 min siden") and the chart's right edge move with time even without new data.
setInterval(render, 30_000);

// ---------------------------------------------------------------------------------------------
// Announcements: at most one per minute on the overview, naming only torg whose count changed

let pendingAnnounce = new Map<string, string>();
let lastAnnounceAt = 0;
function queueAnnouncement(before: TorgLive | undefined, after: TorgLive): void {
  if (route().view !== 'overview') return;
  if (after.occupancy.people === null || before?.occupancy.people === after.occupancy.people) return;
  pendingAnnounce.set(after.id, t(state.lang, 'announcePeople', { name: after.name, n: number(state.lang, after.occupancy.people) }));
  flushAnnouncements();
}
function flushAnnouncements(): void {
  if (pendingAnnounce.size === 0 || Date.now() - lastAnnounceAt < 60_000) return;
  announcer.textContent = [...pendingAnnounce.values()].join('. ');
  pendingAnnounce = new Map();
  lastAnnounceAt = Date.now();
}
setInterval(flushAnnouncements, 15_000);

// ---------------------------------------------------------------------------------------------
// Connection

let source: EventSource | null = null;
let retryMs = 1000;

function onData(serverAt: number): void {
  state.skewMs = serverAt - Date.now();
  state.lastDataAt = serverAt;
  state.error = null;
  if (state.conn !== 'connected') {
    state.conn = 'connected';
    renderConn();
  }
}

function connect(): void {
  source?.close();
  state.conn = 'connecting';
  renderChrome();
  const es = new EventSource('/api/v1/live/stream');
  source = es;
  es.addEventListener('snapshot', (e) => {
    const parsed = liveOverviewSchema.safeParse(JSON.parse((e as MessageEvent<string>).data));
    if (!parsed.success) return reportBadMessage('snapshot');
    retryMs = 1000;
    state.overview = parsed.data;
    onData(parsed.data.generatedAt);
    render();
  });
  es.addEventListener('change', (e) => {
    const parsed = liveChangeSchema.safeParse(JSON.parse((e as MessageEvent<string>).data));
    if (!parsed.success) return reportBadMessage('change');
    const ov = state.overview;
    if (ov === null) return;
    const i = ov.torg.findIndex((x) => x.id === parsed.data.torg.id);
    const before = i >= 0 ? ov.torg[i] : undefined;
    if (i >= 0) ov.torg[i] = parsed.data.torg;
    else ov.torg.push(parsed.data.torg);
    onData(parsed.data.at);
    queueAnnouncement(before, parsed.data.torg);
    render();
  });
  es.addEventListener('error', () => {
    if (es !== source) return;
    state.conn = 'disconnected';
    renderConn();
    render();
    if (es.readyState === EventSource.CLOSED) void recover();
  });
}

function reportBadMessage(kind: string): void {
  state.error = `${kind} (schema)`;
  renderConn();
}

/** The server refused the stream: signed out, or the service is down. */
async function recover(): Promise<void> {
  const who = await whoami();
  if (who === 'signed-out') return showSignIn(null);
  const wait = retryMs;
  retryMs = Math.min(retryMs * 2, 60_000);
  setTimeout(connect, wait + Math.random() * 500);
}

async function whoami(): Promise<'ok' | 'signed-out' | 'unreachable'> {
  try {
    const res = await fetch('/api/v1/whoami', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (res.status === 401) return 'signed-out';
    return res.ok ? 'ok' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}

// ---------------------------------------------------------------------------------------------
// Sign-in: the token goes to POST /api/v1/session once; the HttpOnly cookie it sets is what
// EventSource and fetch present afterwards, so no script on the page can read the token.

function showSignIn(message: string | null): void {
  source?.close();
  source = null;
  state.conn = 'signed-out';
  state.overview = null;
  renderChrome();
  const l = state.lang;
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', 'aria-describedby': 'token-help' });
  const error = h('p', { id: 'sign-in-error', class: 'error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    { class: 'sign-in', 'aria-labelledby': 'sign-in-h' },
    h('h1', { id: 'sign-in-h', tabindex: -1 }, t(l, 'signInTitle')),
    h('p', { id: 'token-help' }, t(l, 'signInHelp')),
    h('label', { for: 'token' }, t(l, 'tokenLabel')),
    input,
    h('button', { type: 'submit' }, t(l, 'signInButton')),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void signIn(input.value, (msg) => {
      error.textContent = msg;
    });
    input.value = '';
  });
  main.replaceChildren(form);
  input.focus();
}

async function signIn(token: string, fail: (msg: string) => void): Promise<void> {
  const l = state.lang;
  try {
    const res = await fetch('/api/v1/session', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'accept-language': l },
      body: JSON.stringify({ token: token.trim() }),
    });
    if (res.ok) {
      connect();
      return;
    }
    if (res.status === 429) return fail(t(l, 'signInRateLimited'));
    const body = (await res.json().catch(() => null)) as { error?: { message?: unknown } } | null;
    const reason = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${res.status}`;
    fail(t(l, 'signInFailed', { reason }));
  } catch (err) {
    fail(t(l, 'signInFailed', { reason: err instanceof Error ? err.message : String(err) }));
  }
}

signOutBtn.addEventListener('click', () => {
  void fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' })
    .catch(() => undefined)
    .then(() => showSignIn(null));
});

// ---------------------------------------------------------------------------------------------

renderChrome();
void whoami().then((who) => (who === 'signed-out' ? showSignIn(null) : connect()));

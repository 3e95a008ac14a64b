/**
 * What every webview contract shares (run details, compare): the messages the host itself handles, the
 * outcome of a message, validators for what a webview sends, numbers that may be non-finite, and the one page
 * builder under the one strict CSP. Pure (no vscode, no node, no DOM), so the webviews, the browser tests and
 * the benchmarks use the very same pieces.
 */

// ---------- messages every webview exchanges ----------

/** The page is up and listening: the host (re)sends the full state. */
export type ReadyMessage = { type: 'ready' };
/** Sent after every render of a state, echoing the state's version; errors include CSP violations seen. */
export interface RenderedAck {
  type: 'rendered';
  version: number;
  errors?: string[];
}
/** Tests only: the webview clicks the element with this data-testid. */
export type TestClick = { type: 'test:click'; testId: string };
/** Tests only: the webview posts `message` back as is, to check the extension refuses what it must. */
export type TestPost = { type: 'test:post'; message: unknown };
/** Shown in the page's error banner. */
export type ErrorMessage = { type: 'error'; message: string };
/** What the host sends to any webview besides its own contract's messages. */
export type HostToWebview = ErrorMessage | TestClick | TestPost;

/** What happened to a message from a webview: done, refused (valid but not allowed), invalid, or failed. */
export type Outcome = 'done' | 'refused' | 'invalid' | 'failed';

export interface HandledMessage<Intent> {
  message: unknown;
  intent?: Intent;
  outcome: Outcome;
  detail?: string;
}

// ---------- validators of what a webview sends ----------

export const MAX_TEXT = 4096;

/** Non-empty text without NUL, at most `max` characters. */
export function isText(v: unknown, max = MAX_TEXT): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max && !v.includes('\0');
}

export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** A run id as the store makes them (and as RunStore.paths accepts). */
export function isRunId(v: unknown): v is string {
  return isText(v, 200) && /^[\w.-]+$/.test(v);
}

export function isNames(v: unknown, max = 500): v is string[] {
  return Array.isArray(v) && v.length <= max && v.every((n) => isText(n, 1000));
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An optional list of error strings, capped; false when present but not a list of strings. */
export function errorsOf(v: unknown): string[] | undefined | false {
  if (v === undefined) return undefined;
  if (!(Array.isArray(v) && v.every((e) => typeof e === 'string'))) return false;
  return v.slice(0, 50).map((e) => e.slice(0, MAX_TEXT));
}

/** The `rendered` fields every contract has (version required), plus the caller's own; undefined when invalid. */
export function parseRendered<Extra extends object>(m: Record<string, unknown>, extra: Extra | undefined): (RenderedAck & Extra) | undefined {
  if (!extra || !isCount(m.version)) return undefined;
  const errors = errorsOf(m.errors);
  if (errors === false) return undefined;
  const out = { type: 'rendered', version: m.version, ...extra } as RenderedAck & Extra;
  if (errors) out.errors = errors;
  return out;
}

// ---------- numbers ----------

/** JSON has no NaN or Infinity; a metric can be either, so numbers that may be non-finite travel like this. */
export type DisplayNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export function fromDisplayNumber(v: DisplayNumber): number {
  return typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity;
}

export function toDisplayNumber(v: number): DisplayNumber {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

// ---------- values from scripts ----------

/** A param or tag value as text: strings as they are, anything else as JSON. */
export function displayValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Own entries only: params and metrics come from scripts, and names like "__proto__" are data here. */
export function ownEntries<T>(record: Record<string, T> | undefined): [string, T][] {
  return record ? Object.keys(record).filter((k) => Object.hasOwn(record, k)).map((k) => [k, record[k]]) : [];
}

// ---------- the page ----------

/**
 * The one CSP of our webviews: scripts only with the page's nonce (no 'unsafe-eval': Vega runs with its
 * expression interpreter), styles and images from the extension's own bundle, nothing remote.
 */
export function strictCsp(nonce: string, cspSource: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function escapeAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** What a panel puts in its page; each contract says it for its own (runDetailsPage, comparePage). */
export interface PageContent {
  /** dist/webviews/<bundle>.js and .css. */
  bundle: string;
  title: string;
  /** data-* attributes of `<main id="app">` (what the page needs before the first state). */
  data: Record<string, string>;
  /** Placeholder text until the script renders. */
  loading: string;
}

/**
 * A webview page under strictCsp: the bundle's stylesheet and script (both carrying the nonce), the nonce also
 * in `<meta property="csp-nonce">` (where the toolkit's web components look for it), and a `<main id="app">`.
 * `resource` maps a bundle file name to the URL the webview may load it from.
 */
export function webviewPage(content: PageContent, o: { nonce: string; cspSource: string; resource: (file: string) => string }): string {
  const data = Object.entries(content.data).map(([k, v]) => ` data-${k}="${escapeAttr(v)}"`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${strictCsp(o.nonce, o.cspSource)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${o.nonce}">
<link rel="stylesheet" href="${escapeAttr(o.resource(`${content.bundle}.css`))}" nonce="${o.nonce}">
<title>${escapeAttr(content.title)}</title>
</head>
<body>
<main id="app"${data}><p class="muted">${escapeAttr(content.loading)}</p></main>
<script nonce="${o.nonce}" src="${escapeAttr(o.resource(`${content.bundle}.js`))}"></script>
</body>
</html>`;
}

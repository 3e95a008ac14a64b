/**
 * Pieces every ML Workbench webview page and state builder share. Pure (no vscode), so the browser tests and
 * benchmarks build the very same pages and data.
 */

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

export function escapeAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A webview page under strictCsp: one stylesheet and one script from the bundle (both carrying the nonce),
 * and a `<main id="app">` with data attributes and placeholder text until the script renders.
 */
export function webviewPage(o: {
  nonce: string;
  cspSource: string;
  script: string;
  style: string;
  title: string;
  data: Record<string, string>;
  loading: string;
  /** The toolkit's web components look for the nonce in this meta tag. */
  nonceMeta?: boolean;
}): string {
  const data = Object.entries(o.data).map(([k, v]) => ` data-${k}="${escapeAttr(v)}"`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${strictCsp(o.nonce, o.cspSource)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${o.nonceMeta ? `<meta property="csp-nonce" content="${o.nonce}">\n` : ''}<link rel="stylesheet" href="${escapeAttr(o.style)}" nonce="${o.nonce}">
<title>${escapeAttr(o.title)}</title>
</head>
<body>
<main id="app"${data}><p class="muted">${escapeAttr(o.loading)}</p></main>
<script nonce="${o.nonce}" src="${escapeAttr(o.script)}"></script>
</body>
</html>`;
}

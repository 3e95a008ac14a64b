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

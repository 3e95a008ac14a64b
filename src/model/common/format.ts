/**
 * How numbers, durations and sizes read everywhere: the Runs view, the webviews (bundled from here), the CSV
 * export, the CLI and error messages. Pure: no vscode, no node, no DOM.
 */

/**
 * A number as text. 'short' (the default, for tables and tooltips): integers as they are, else six significant
 * digits, exponent notation for very small or large magnitudes. 'full': every digit (CSV, where the value is
 * data). Non-finite values read 'NaN', 'Infinity' and '-Infinity' in both.
 */
export function formatNumber(v: number, precision: 'short' | 'full' = 'short'): string {
  if (!Number.isFinite(v) || precision === 'full') return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

/** `42s`, `3m 5s`, `2h 10m`; empty when there is no duration (a run not started). */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Megabytes with one decimal below 10 MB (snapshot limits, clean-up previews). */
export function formatMB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

/** A file size in the unit that suits it: `512 B`, `1.5 KB`, `20 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

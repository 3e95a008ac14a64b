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

/**
 * Sizes are binary everywhere (1 KB = 1024 bytes, 1 MB = 1024² bytes), the way mlw.snapshotMaxMB and the run
 * configuration's sizes ("512m", "2GB", as Docker's --memory) mean them, so a size shown next to a limit is in the
 * limit's own unit.
 */
const SIZE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Index into SIZE_UNITS of the unit a size reads best in. */
function sizeUnit(bytes: number): number {
  let unit = 0;
  while (unit < SIZE_UNITS.length - 1 && Math.abs(bytes) >= 1024 ** (unit + 1)) unit++;
  return unit;
}

function inUnit(bytes: number, unit: number, decimals: number): string {
  return unit === 0 ? `${bytes} B` : `${(bytes / 1024 ** unit).toFixed(decimals)} ${SIZE_UNITS[unit]}`;
}

/** Megabytes with one decimal below 10 MB (clean-up previews). */
export function formatMB(bytes: number): string {
  return inUnit(bytes, 2, bytes < 10 * 1024 * 1024 ? 1 : 0);
}

/** A file size in the unit that suits it: `512 B`, `1.5 KB`, `20 MB`. */
export function formatBytes(bytes: number): string {
  const unit = sizeUnit(bytes);
  return inUnit(bytes, unit, bytes / 1024 ** unit < 10 ? 1 : 0);
}

/**
 * A size and the limit it is held against, in the same unit and with as many decimals as it takes for two
 * different sizes to read differently ("200.3 MB" above "200.0 MB", never "200 MB" above "200 MB"); exact byte
 * counts when even three decimals cannot tell them apart.
 */
export function formatSizeAgainst(bytes: number, limit: number): { size: string; limit: string } {
  const unit = sizeUnit(Math.max(bytes, limit));
  let decimals = limit / 1024 ** unit < 10 ? 1 : 0;
  for (; decimals <= 3; decimals++) {
    const size = inUnit(bytes, unit, decimals);
    const max = inUnit(limit, unit, decimals);
    if (size !== max || bytes === limit) return { size, limit: max };
  }
  return { size: `${bytes} bytes`, limit: `${limit} bytes` };
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * A date and time as it reads everywhere (Runs view, pickers, run details): `2026-12-02 14:05` in local time,
 * with seconds when asked (`2026-12-02 14:05:09`). One fixed, sortable shape whatever the locale, so the same run
 * reads the same in the tree, a quick pick and its details. Text that is not a date comes back as it is; a
 * missing date is ''.
 */
export function formatDate(value: string | number | Date | undefined, o: { seconds?: boolean } = {}): string {
  if (value === undefined || value === '') return '';
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const day = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}${o.seconds ? `:${pad2(d.getSeconds())}` : ''}`;
  return `${day} ${time}`;
}

/** Small statistics for benchmark samples (milliseconds or rates). */

/**
 * Nearest-rank percentile. With 7 samples p90 is the slowest one: no interpolation, so every figure printed
 * is a time that was actually observed.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function median(samples: readonly number[]): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function fmtMs(ms: number): string {
  return ms.toFixed(0);
}

export function fmtRatio(r: number): string {
  return r.toFixed(2);
}

/** Thousands separators make 1e6-scale rates readable at a glance. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

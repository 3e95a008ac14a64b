import { formatNumber } from '../../model/common/format';
import type { RunSummary } from '../../model/runs/runIndex';

/** At most this many differing params in a row's description: the tooltip has them all. */
const MAX_PARAMS = 3;
const MAX_VALUE_CHARS = 16;

/**
 * The params whose values are not the same across `runs` (a group of the Runs view): what tells its rows
 * apart. A param some runs logged and others did not differs too. Sorted by name, so rows line up.
 */
export function differingParams(runs: readonly Pick<RunSummary, 'params'>[]): string[] {
  if (runs.length < 2) return [];
  const values = new Map<string, Set<string>>();
  for (const run of runs) {
    for (const [k, v] of Object.entries(run.params ?? {})) {
      let set = values.get(k);
      if (!set) values.set(k, (set = new Set()));
      set.add(JSON.stringify(v));
    }
  }
  return [...values.entries()]
    .filter(([k, set]) => set.size > 1 || runs.some((r) => !(k in (r.params ?? {}))))
    .map(([k]) => k)
    .sort();
}

export function formatParamValue(v: unknown): string {
  const text = typeof v === 'number' ? formatNumber(v) : typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** `lr=0.1 layers=3` for the differing params the run logged. */
export function paramsPart(run: Pick<RunSummary, 'params'>, differing: readonly string[]): string {
  const params = run.params ?? {};
  return differing
    .filter((k) => k in params)
    .slice(0, MAX_PARAMS)
    .map((k) => `${k}=${formatParamValue(params[k])}`)
    .join(' ');
}

/** Labels as `[best] [keep]`. */
export function labelsPart(run: Pick<RunSummary, 'labels'>): string {
  return (run.labels ?? []).map((l) => `[${l}]`).join(' ');
}

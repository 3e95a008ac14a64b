import { RunStatus } from '../../model/runs/run';
import type { RunSummary } from '../../model/runs/runIndex';

/** What the Runs view shows: a status set, a label/tag, free text, starred only. Empty = everything. */
export interface RunFilter {
  statuses?: RunStatus[];
  tag?: string;
  text?: string;
  starredOnly?: boolean;
}

const STATUSES: readonly RunStatus[] = ['Queued', 'Running', 'Completed', 'Failed', 'Canceled', 'Lost'];
const FILTER_KEYS = new Set(['statuses', 'tag', 'text', 'starredOnly']);

/**
 * A filter passed to "Filter Runs…" (tests, keybindings, other extensions), or undefined for anything else. The
 * view title's Filter button passes the tree's focused row: that is not a filter, and taking it for one applied
 * an empty filter instead of asking (issue 10).
 */
export function parseRunFilter(v: unknown): RunFilter | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (!keys.length || keys.some((k) => !FILTER_KEYS.has(k))) return undefined;
  const f: RunFilter = {};
  if (o.statuses !== undefined) {
    if (!Array.isArray(o.statuses) || o.statuses.some((s) => !STATUSES.includes(s as RunStatus))) return undefined;
    f.statuses = o.statuses as RunStatus[];
  }
  for (const k of ['tag', 'text'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'string') return undefined;
    f[k] = o[k] as string;
  }
  if (o.starredOnly !== undefined) {
    if (typeof o.starredOnly !== 'boolean') return undefined;
    f.starredOnly = o.starredOnly;
  }
  return f;
}

export function isFilterActive(f: RunFilter): boolean {
  return !!(f.statuses?.length || f.tag || f.text || f.starredOnly);
}

/** Pure predicate: tags match user labels and the script's mlw.set_tag keys or `key=value`. */
export function matchesFilter(run: RunSummary, f: RunFilter): boolean {
  if (f.starredOnly && !run.starred) return false;
  if (f.statuses?.length && !f.statuses.includes(run.status)) return false;
  if (f.tag) {
    const tag = f.tag.toLowerCase();
    const labels = (run.labels ?? []).map((l) => l.toLowerCase());
    const scriptTags = Object.entries(run.tags ?? {}).flatMap(([k, v]) => [k.toLowerCase(), `${k}=${v}`.toLowerCase()]);
    if (!labels.includes(tag) && !scriptTags.includes(tag)) return false;
  }
  if (f.text) {
    const text = f.text.toLowerCase();
    const haystack = [run.id, run.name, run.script, run.configName, run.reason, ...(run.args ?? []), ...(run.labels ?? [])]
      .filter(Boolean)
      .join(' ')
      .toLowerCase();
    if (!haystack.includes(text)) return false;
  }
  return true;
}

export function describeFilter(f: RunFilter): string {
  const parts: string[] = [];
  if (f.starredOnly) parts.push('starred');
  if (f.statuses?.length) parts.push(f.statuses.join('/'));
  if (f.tag) parts.push(`tag ${f.tag}`);
  if (f.text) parts.push(`"${f.text}"`);
  return parts.join(', ');
}

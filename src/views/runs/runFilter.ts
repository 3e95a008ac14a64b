import { RunStatus } from '../../model/runs/run';
import type { RunSummary } from '../../model/runs/runIndex';

/** What the Runs view shows: a status set, a label/tag, free text, starred only. Empty = everything. */
export interface RunFilter {
  statuses?: RunStatus[];
  tag?: string;
  text?: string;
  starredOnly?: boolean;
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

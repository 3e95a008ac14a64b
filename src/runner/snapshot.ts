import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { Ignore } from 'ignore';
import { UserFacingError } from '../model/errors';

/** Always left out: version control internals and ML Workbench's own data (runs would nest forever). */
const ALWAYS_EXCLUDED = new Set(['.git', '.mlw', '.hg', '.svn']);
const IGNORE_FILES = ['.gitignore', '.mlwignore'];

export interface SnapshotEntry {
  /** Path relative to the workspace root, forward slashes. */
  rel: string;
  kind: 'file' | 'dir' | 'symlink';
  size: number;
}

export interface SnapshotPlan {
  root: string;
  entries: SnapshotEntry[];
  files: number;
  bytes: number;
}

interface Matcher {
  /** Directory (relative, '' for the root) whose ignore files built this matcher. */
  base: string;
  ig: Ignore;
}

function loadMatcher(absDir: string, relDir: string): Matcher | undefined {
  const rules: string[] = [];
  for (const name of IGNORE_FILES) {
    try {
      rules.push(fs.readFileSync(path.join(absDir, name), 'utf8'));
    } catch {
      // absent ignore file: nothing to add
    }
  }
  return rules.length ? { base: relDir, ig: ignore().add(rules.join('\n')) } : undefined;
}

function isIgnored(matchers: Matcher[], rel: string, isDir: boolean): boolean {
  for (const m of matchers) {
    const sub = m.base ? rel.slice(m.base.length + 1) : rel;
    if (m.ig.ignores(isDir ? `${sub}/` : sub)) return true;
  }
  return false;
}

/**
 * Lists what a snapshot of `root` would hold, honouring .gitignore and .mlwignore files at every level
 * (rules apply relative to the folder that holds them, as git does). Throws a UserFacingError naming the
 * biggest folders when the total exceeds maxBytes, before anything is copied.
 */
export async function planSnapshot(root: string, maxBytes: number): Promise<SnapshotPlan> {
  const entries: SnapshotEntry[] = [];
  let bytes = 0;
  let files = 0;
  const topLevelBytes = new Map<string, number>();

  const walk = async (relDir: string, matchers: Matcher[]): Promise<void> => {
    const absDir = path.join(root, relDir);
    const own = loadMatcher(absDir, relDir);
    const active = own ? [...matchers, own] : matchers;
    const dirents = await fs.promises.readdir(absDir, { withFileTypes: true });
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      if (!relDir && ALWAYS_EXCLUDED.has(d.name)) continue;
      const rel = relDir ? `${relDir}/${d.name}` : d.name;
      const isDir = d.isDirectory();
      if (isIgnored(active, rel, isDir)) continue;
      if (isDir) {
        entries.push({ rel, kind: 'dir', size: 0 });
        await walk(rel, active);
      } else if (d.isSymbolicLink()) {
        entries.push({ rel, kind: 'symlink', size: 0 });
      } else if (d.isFile()) {
        const { size } = await fs.promises.stat(path.join(root, rel));
        entries.push({ rel, kind: 'file', size });
        bytes += size;
        files += 1;
        const top = rel.split('/')[0];
        topLevelBytes.set(top, (topLevelBytes.get(top) ?? 0) + size);
      }
    }
  };
  await walk('', []);

  if (bytes > maxBytes) {
    const biggest = [...topLevelBytes.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([name, size]) => `${name} (${formatMB(size)})`)
      .join(', ');
    throw new UserFacingError(
      `The workspace snapshot would be ${formatMB(bytes)}, above the ${formatMB(maxBytes)} limit (setting mlw.snapshotMaxMB). ` +
        `Largest entries: ${biggest}. Add data folders to .mlwignore (or .gitignore), or raise mlw.snapshotMaxMB.`,
      { label: 'Open Setting', command: 'workbench.action.openSettings', args: ['mlw.snapshotMaxMB'] },
    );
  }
  return { root, entries, files, bytes };
}

/** Copies a planned snapshot into `dest`. Symlinks are recreated only when they stay inside the workspace. */
export async function copySnapshot(plan: SnapshotPlan, dest: string): Promise<void> {
  await fs.promises.mkdir(dest, { recursive: true });
  const rootReal = await fs.promises.realpath(plan.root);
  for (const e of plan.entries) {
    const from = path.join(plan.root, e.rel);
    const to = path.join(dest, e.rel);
    if (e.kind === 'dir') {
      await fs.promises.mkdir(to, { recursive: true });
    } else if (e.kind === 'file') {
      await fs.promises.copyFile(from, to);
    } else {
      const target = await fs.promises.readlink(from);
      const resolved = await fs.promises.realpath(from).catch(() => undefined);
      if (resolved && (resolved === rootReal || resolved.startsWith(rootReal + path.sep))) {
        await fs.promises.symlink(target, to);
      }
    }
  }
}

export function formatMB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

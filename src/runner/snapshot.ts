import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { Ignore } from 'ignore';
import { UserFacingError } from '../model/common/errors';
import { isInsideFolder } from '../model/common/containment';
import { formatBytes, formatSizeAgainst } from '../model/common/format';

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
      .map(([name, size]) => `${name} (${formatBytes(size)})`)
      .join(', ');
    const sizes = formatSizeAgainst(bytes, maxBytes);
    throw new UserFacingError(
      `The workspace snapshot would be ${sizes.size}, above the ${sizes.limit} limit (setting mlw.snapshotMaxMB). ` +
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
      if (resolved && isInsideFolder(rootReal, resolved)) {
        await fs.promises.symlink(target, to);
      }
    }
  }
}

/** Workspace-relative files of a snapshot folder (regular files and symlinks), sorted. */
export async function snapshotFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const d of await fs.promises.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) await walk(r);
      else out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

/**
 * A content hash of a snapshot folder (paths, file bytes, symlink targets), so two runs can be proven to
 * have seen the same code.
 */
export async function hashSnapshot(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const rel of await snapshotFiles(dir)) {
    const abs = path.join(dir, rel);
    const st = await fs.promises.lstat(abs);
    hash.update(`\0${rel}\0`);
    hash.update(st.isSymbolicLink() ? `link:${await fs.promises.readlink(abs)}` : await fs.promises.readFile(abs));
  }
  return hash.digest('hex');
}

export interface SnapshotDiff {
  /** In both, with different content. */
  changed: string[];
  /** In the snapshot, gone from the workspace. */
  removed: string[];
  /** In the workspace (and not ignored), not in the snapshot. */
  added: string[];
}

/** Compares a run's snapshot with the workspace as it is now (ignore rules applied to the workspace). */
export async function diffSnapshot(snapshotDir: string, workspaceRoot: string): Promise<SnapshotDiff> {
  const snap = new Set(await snapshotFiles(snapshotDir));
  const plan = await planSnapshot(workspaceRoot, Number.MAX_SAFE_INTEGER);
  const current = new Set(plan.entries.filter((e) => e.kind !== 'dir').map((e) => e.rel));
  const changed: string[] = [];
  const removed: string[] = [];
  for (const rel of snap) {
    if (rel.startsWith('.mlw/')) continue;
    if (!current.has(rel)) {
      removed.push(rel);
      continue;
    }
    const [a, b] = await Promise.all([
      fs.promises.readFile(path.join(snapshotDir, rel)).catch(() => undefined),
      fs.promises.readFile(path.join(workspaceRoot, rel)).catch(() => undefined),
    ]);
    if (!a || !b || !a.equals(b)) changed.push(rel);
  }
  const added = [...current].filter((rel) => !snap.has(rel)).sort();
  return { changed, removed, added };
}

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { Ignore } from 'ignore';
import { UserFacingError } from '../model/common/errors';
import { isInsideFolder } from '../model/common/containment';
import { DroppedEntry } from '../model/runs/run';
import { walkTree } from './fileWalker';
import { formatBytes, formatSizeAgainst } from '../model/common/format';

/** Always left out, at every level: version control internals and ML Workbench's own data (runs would nest forever). */
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
  /** Links left out: the run could not see what they point to, so the user is told rather than left guessing. */
  dropped: DroppedEntry[];
}

interface Matcher {
  /** Directory (relative, '' for the root) whose ignore files built this matcher. */
  base: string;
  ig: Ignore;
}

/**
 * The ignore rules a folder holds. Like git (since 2.32), an ignore file that is a link is not read: it could
 * name any file on the machine, or a device that never ends.
 */
async function loadMatcher(absDir: string, relDir: string): Promise<Matcher | undefined> {
  const rules: string[] = [];
  for (const name of IGNORE_FILES) {
    const file = path.join(absDir, name);
    const st = await fs.promises.lstat(file).catch(() => undefined);
    if (st?.isFile()) rules.push(await fs.promises.readFile(file, 'utf8'));
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
 * (rules apply relative to the folder that holds them, as git does). `.git`, `.mlw`, `.hg` and `.svn` are left
 * out at every level (a nested repository's history is not code). Links are kept when they resolve inside the
 * workspace and listed in `dropped` otherwise (the run could not see what they point to). Throws a
 * UserFacingError naming the biggest folders when the total exceeds maxBytes, before anything is copied.
 */
export async function planSnapshot(root: string, maxBytes: number): Promise<SnapshotPlan> {
  const entries: SnapshotEntry[] = [];
  const dropped: DroppedEntry[] = [];
  let bytes = 0;
  let files = 0;
  const topLevelBytes = new Map<string, number>();
  const rootReal = await fs.promises.realpath(root);
  // The rules in force in each folder walked: its parent's plus its own ignore files.
  const matchers = new Map<string, Matcher[]>();

  await walkTree(root, {
    enterDir: async (rel, abs) => {
      const inherited = rel ? (matchers.get(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel)) ?? []) : [];
      const own = await loadMatcher(abs, rel);
      matchers.set(rel, own ? [...inherited, own] : inherited);
    },
    entry: async (e) => {
      if (ALWAYS_EXCLUDED.has(e.name)) return false;
      const isDir = e.kind === 'dir';
      if (isIgnored(matchers.get(e.parent) ?? [], e.rel, isDir)) return false;
      if (isDir) {
        entries.push({ rel: e.rel, kind: 'dir', size: 0 });
      } else if (e.kind === 'symlink') {
        const why = await linkLeavesWorkspace(rootReal, e.abs);
        if (why) {
          dropped.push({ path: e.rel, reason: why });
          return false;
        }
        entries.push({ rel: e.rel, kind: 'symlink', size: 0 });
      } else if (e.kind === 'file') {
        const { size } = await fs.promises.lstat(e.abs);
        entries.push({ rel: e.rel, kind: 'file', size });
        bytes += size;
        files += 1;
        const top = e.rel.split('/')[0];
        topLevelBytes.set(top, (topLevelBytes.get(top) ?? 0) + size);
      }
      return true;
    },
  }, { what: 'The workspace', hint: 'add large folders to .mlwignore (or .gitignore).' });

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
  return { root, entries, files, bytes, dropped };
}

/** Why a workspace link cannot go into the snapshot (it leads outside, or nowhere), or undefined when it can. */
async function linkLeavesWorkspace(rootReal: string, link: string): Promise<string | undefined> {
  const target = await fs.promises.readlink(link);
  const resolved = await fs.promises.realpath(link).catch(() => undefined);
  if (resolved === undefined) return `a link to ${target}, which does not exist`;
  if (!isInsideFolder(rootReal, resolved)) return `a link to ${target}, outside the workspace`;
  return undefined;
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

/** Workspace-relative files of a snapshot folder (regular files and symlinks, never followed), sorted. */
export async function snapshotFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  await walkTree(dir, { entry: (e) => void ((e.kind === 'file' || e.kind === 'symlink') && out.push(e.rel)) }, { what: "The run's snapshot" });
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
    const [a, b] = await Promise.all([readNoFollow(path.join(snapshotDir, rel)), readNoFollow(path.join(workspaceRoot, rel))]);
    if (!a || !b || !a.equals(b)) changed.push(rel);
  }
  const added = [...current].filter((rel) => !snap.has(rel)).sort();
  return { changed, removed, added };
}

/**
 * A file's bytes, or a link's own target text (marked, so a link never equals a file); never read through a link
 * (it could name any file on the machine) nor from a FIFO or device. Undefined when there is no such file.
 */
async function readNoFollow(abs: string): Promise<Buffer | undefined> {
  const st = await fs.promises.lstat(abs).catch(() => undefined);
  if (st?.isSymbolicLink()) return Buffer.from(`\0link:${await fs.promises.readlink(abs)}`);
  if (!st?.isFile()) return undefined;
  const handle = await fs.promises.open(abs, fs.constants.O_RDONLY | NO_FOLLOW).catch(() => undefined);
  if (!handle) return undefined;
  try {
    return (await handle.stat()).isFile() ? await handle.readFile() : undefined;
  } finally {
    await handle.close();
  }
}

const NO_FOLLOW = fs.constants.O_NOFOLLOW ?? 0;

export interface RestoreResult {
  /** Workspace-relative paths written (files, and links recreated as links). */
  restored: string[];
  /** Paths not written, with why (a link in the way in the workspace, a link in the snapshot leading out). */
  skipped: DroppedEntry[];
}

/**
 * Writes snapshot entries back into the workspace root, never following a link on either side. In the
 * workspace every folder on the way is checked with lstat (missing ones are created, one level at a time), and
 * a path that is a link, or goes through one, is skipped: writing through it could change a file anywhere. In
 * the snapshot a link is recreated as a link when its target stays inside the workspace, never copied as the
 * content it points to.
 */
export async function restoreFromSnapshot(snapshotDir: string, root: string, rels: readonly string[]): Promise<RestoreResult> {
  const result: RestoreResult = { restored: [], skipped: [] };
  for (const rel of rels) {
    const why = await restoreOne(snapshotDir, root, rel);
    if (why) result.skipped.push({ path: rel, reason: why });
    else result.restored.push(rel);
  }
  return result;
}

/** Restores one entry; returns why it was skipped, or undefined once written. */
async function restoreOne(snapshotDir: string, root: string, rel: string): Promise<string | undefined> {
  const segments = rel.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..') || path.isAbsolute(rel)) return 'not a plain relative path';
  // The destination's folders, from the workspace root down: real folders only.
  let dir = root;
  for (const [i, segment] of segments.slice(0, -1).entries()) {
    dir = path.join(dir, segment);
    const st = await fs.promises.lstat(dir).catch(() => undefined);
    const shown = segments.slice(0, i + 1).join('/');
    if (!st) await fs.promises.mkdir(dir);
    else if (st.isSymbolicLink()) return `its folder ${shown} is a symbolic link in the workspace; not written through it`;
    else if (!st.isDirectory()) return `${shown} is not a folder in the workspace`;
  }
  const dest = path.join(dir, segments[segments.length - 1]);
  const existing = await fs.promises.lstat(dest).catch(() => undefined);
  if (existing?.isSymbolicLink()) return 'it is a symbolic link in the workspace; not written through it';
  if (existing && !existing.isFile()) return 'it is not a regular file in the workspace';
  const source = path.join(snapshotDir, ...segments);
  const st = await fs.promises.lstat(source).catch(() => undefined);
  if (!st) return 'it is not in the snapshot';
  if (st.isSymbolicLink()) {
    const target = await fs.promises.readlink(source);
    if (path.isAbsolute(target) || !isInsideFolder(path.resolve(root), path.resolve(dir, target))) {
      return `it is a link to ${target} in the snapshot, outside the workspace`;
    }
    if (existing) await fs.promises.unlink(dest);
    await fs.promises.symlink(target, dest);
    return undefined;
  }
  if (!st.isFile()) return 'it is not a regular file in the snapshot';
  const input = await fs.promises.open(source, fs.constants.O_RDONLY | NO_FOLLOW);
  try {
    const inputStat = await input.stat();
    if (!inputStat.isFile()) return 'it is not a regular file in the snapshot';
    // A new file, not the old one truncated: the old one may be a hard link to a file outside. O_EXCL also
    // refuses a link put in its place since the lstat above rather than writing through it.
    if (existing) await fs.promises.unlink(dest);
    const output = await fs.promises.open(dest, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NO_FOLLOW, inputStat.mode & 0o777);
    try {
      await output.writeFile(await input.readFile());
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
  return undefined;
}

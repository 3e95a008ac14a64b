/**
 * The one walk over a folder tree, shared by the snapshot, the environment detection, the outputs sanitizer, the
 * size caps and the hand-back of a run's folders.
 * Asynchronous (the extension host must never freeze on a big or hostile tree), and loop-safe: links are reported
 * as links and never followed (a workspace with `a -> .` and `b -> .` is a tree of three entries, not 2^40
 * paths), and a folder met twice (bind mounts) is not entered again. Bounded in entries and depth, so no tree can
 * keep it going without end. No vscode.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserFacingError } from '../model/common/errors';

export type WalkKind = 'file' | 'dir' | 'symlink' | 'other';

export interface WalkEntry {
  /** Relative to the walked root, forward slashes. */
  rel: string;
  /** Relative path of the folder that holds it ('' for the root). */
  parent: string;
  name: string;
  abs: string;
  /** As found, without following a link: a link to a folder is 'symlink'. FIFOs, sockets, devices are 'other'. */
  kind: WalkKind;
  /** The entry's own lstat, when the walk was asked for stats (undefined if it vanished meanwhile). */
  stat?: fs.Stats;
}

/** What `entry` may answer: false leaves the entry out (a folder is not entered), 'stop' ends the whole walk. */
export type WalkAnswer = boolean | void | 'stop';

export interface WalkVisitor {
  /** Called for each folder ('' for the root) before its entries are visited. */
  enterDir?(rel: string, abs: string): void | Promise<void>;
  /** Called for each entry in name order; returning false leaves it out (a folder is then not entered). */
  entry(e: WalkEntry): WalkAnswer | Promise<WalkAnswer>;
  /**
   * Called when a folder cannot be listed (a run may take read permission off its own folders). Return true
   * to have it listed once more (after giving permission back). Without it, the error ends the walk; with it,
   * a folder still unreadable, or gone, is passed over.
   */
  unreadable?(abs: string, err: NodeJS.ErrnoException): boolean | Promise<boolean>;
}

export interface WalkLimits {
  /** The most entries visited before the walk gives up with a UserFacingError. */
  maxEntries?: number;
  /** The deepest folder nesting entered. */
  maxDepth?: number;
  /** How the error names the tree: "The workspace", "The run's outputs folder". */
  what?: string;
  /** What the user can do about a tree too big, appended to the error. */
  hint?: string;
  /** Give each entry its lstat, taken a batch at a time (one after another, 100,000 files take seconds). */
  stats?: boolean;
}

export const DEFAULT_MAX_ENTRIES = 500_000;
export const DEFAULT_MAX_DEPTH = 128;

const STAT_BATCH = 64;

function kindOfStat(st: fs.Stats): WalkKind {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  return 'other';
}

function kindOf(d: fs.Dirent): WalkKind {
  // readdir's types come from lstat (node falls back to lstat when the file system does not say), so a link to
  // a folder is a link here.
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isDirectory()) return 'dir';
  if (d.isFile()) return 'file';
  return 'other';
}

/** Visits every entry under root, depth first, in name order; see the module comment for what it never does. */
export async function walkTree(root: string, visitor: WalkVisitor, limits: WalkLimits = {}): Promise<void> {
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const what = limits.what ?? 'The folder';
  const seen = new Set<string>();
  let count = 0;
  let stopped = false;
  const tooBig = (detail: string) => new UserFacingError(`${what} ${detail}${limits.hint ? `; ${limits.hint}` : '.'}`);

  const walkDir = async (rel: string, depth: number): Promise<void> => {
    const abs = rel ? path.join(root, ...rel.split('/')) : root;
    // The root may be reached through a link (a workspace opened by a linked path); below it, only real folders
    // are entered (a link swapped in since readdir is not followed either).
    const st = await (rel ? fs.promises.lstat(abs) : fs.promises.stat(abs)).catch((err: unknown) => {
      // A walk that passes over unreadable folders also passes over one gone since its parent was listed.
      if (visitor.unreadable && rel) return undefined;
      throw err;
    });
    if (!st?.isDirectory()) return;
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
    await visitor.enterDir?.(rel, abs);
    const dirents = await listDir(abs);
    if (!dirents) return;
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 0; i < dirents.length; i += limits.stats ? STAT_BATCH : dirents.length) {
      const batch = dirents.slice(i, limits.stats ? i + STAT_BATCH : dirents.length);
      const paths = batch.map((d) => path.join(abs, d.name));
      const stats = limits.stats ? await Promise.all(paths.map((p) => fs.promises.lstat(p).catch(() => undefined))) : [];
      for (const [j, d] of batch.entries()) {
        if (++count > maxEntries) throw tooBig(`has more than ${maxEntries.toLocaleString('en-US')} files, folders and links`);
        const stat = stats[j];
        if (limits.stats && !stat) continue; // gone since the folder was listed
        const entry: WalkEntry = { rel: rel ? `${rel}/${d.name}` : d.name, parent: rel, name: d.name, abs: paths[j], kind: stat ? kindOfStat(stat) : kindOf(d), stat };
        // Awaited only when it is a promise: a microtask per entry is a third of the time on 100,000 files.
        const returned = visitor.entry(entry);
        const answer = returned instanceof Promise ? await returned : returned;
        if (answer === 'stop') {
          stopped = true;
          return;
        }
        if (answer === false) continue;
        if (entry.kind === 'dir') {
          if (depth + 1 > maxDepth) throw tooBig(`has folders nested more than ${maxDepth} deep (${entry.rel})`);
          await walkDir(entry.rel, depth + 1);
          if (stopped) return;
        }
      }
    }
  };
  const listDir = async (abs: string): Promise<fs.Dirent[] | undefined> => {
    try {
      return await fs.promises.readdir(abs, { withFileTypes: true });
    } catch (err) {
      if (!visitor.unreadable) throw err;
      if (!(await visitor.unreadable(abs, err as NodeJS.ErrnoException))) return undefined;
      return fs.promises.readdir(abs, { withFileTypes: true }).catch(() => undefined);
    }
  };
  await walkDir('', 0);
}

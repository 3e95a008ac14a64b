/**
 * The one walk over a folder tree, shared by the snapshot, the environment detection and the outputs sanitizer.
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
}

export interface WalkVisitor {
  /** Called for each folder ('' for the root) before its entries are visited. */
  enterDir?(rel: string, abs: string): void | Promise<void>;
  /** Called for each entry in name order; returning false leaves it out (a folder is then not entered). */
  entry(e: WalkEntry): boolean | void | Promise<boolean | void>;
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
}

export const DEFAULT_MAX_ENTRIES = 500_000;
export const DEFAULT_MAX_DEPTH = 128;

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
  const tooBig = (detail: string) => new UserFacingError(`${what} ${detail}${limits.hint ? `; ${limits.hint}` : '.'}`);

  const walkDir = async (rel: string, depth: number): Promise<void> => {
    const abs = rel ? path.join(root, ...rel.split('/')) : root;
    // The root may be reached through a link (a workspace opened by a linked path); below it, only real folders
    // are entered (a link swapped in since readdir is not followed either).
    const st = rel ? await fs.promises.lstat(abs) : await fs.promises.stat(abs);
    if (!st.isDirectory()) return;
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
    await visitor.enterDir?.(rel, abs);
    const dirents = await fs.promises.readdir(abs, { withFileTypes: true });
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      if (++count > maxEntries) throw tooBig(`has more than ${maxEntries.toLocaleString('en-US')} files, folders and links`);
      const entry: WalkEntry = { rel: rel ? `${rel}/${d.name}` : d.name, parent: rel, name: d.name, abs: path.join(abs, d.name), kind: kindOf(d) };
      if ((await visitor.entry(entry)) === false) continue;
      if (entry.kind === 'dir') {
        if (depth + 1 > maxDepth) throw tooBig(`has folders nested more than ${maxDepth} deep (${entry.rel})`);
        await walkDir(entry.rel, depth + 1);
      }
    }
  };
  await walkDir('', 0);
}

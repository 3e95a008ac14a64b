/**
 * After a run, its outputs folder keeps only what the host can hand to other tools without surprise: regular
 * files, folders, and links that resolve inside the folder. A link leading outside (`model.pt -> ~/.ssh/id_rsa`)
 * would be followed by the next tool that opens it; a FIFO blocks whoever reads it; a device or socket is no
 * output. Those are removed (a link is removed as a link, never through it) and what went is written to the
 * run's log and record, so nothing disappears unexplained. No vscode.
 */
import * as fs from 'node:fs';
import { isInsideFolder } from '../model/common/containment';
import { describeKind } from '../model/common/runWrittenFile';
import { DroppedEntry } from '../model/runs/run';
import type { RunStore } from '../model/runs/runStore';
import { walkTree } from './fileWalker';

/** Removes from outputsDir every entry that is not a regular file, a folder or a link staying inside; says which. */
export async function sanitizeOutputs(outputsDir: string): Promise<DroppedEntry[]> {
  const root = await fs.promises.realpath(outputsDir).catch(() => undefined);
  if (root === undefined) return [];
  const dropped: DroppedEntry[] = [];
  const links: { rel: string; abs: string }[] = [];
  await walkTree(root, {
    // A folder the script made unreadable (chmod 000) would hide what is inside from this check, not from a
    // tool that chmods it back: the host user owns it, so it gets its owner's permissions back first.
    enterDir: async (_rel, abs) => {
      const st = await fs.promises.lstat(abs);
      if ((st.mode & 0o700) !== 0o700 && st.uid === process.getuid?.()) await fs.promises.chmod(abs, (st.mode & 0o777) | 0o700);
    },
    entry: async (e) => {
      if (e.kind === 'symlink') {
        links.push(e);
      } else if (e.kind === 'other') {
        const st = await fs.promises.lstat(e.abs);
        await fs.promises.unlink(e.abs);
        dropped.push({ path: e.rel, reason: `${describeKind(st).replace(/^is /, '')}, not a regular file` });
      }
    },
  }, { what: "The run's outputs folder" });
  // Links are judged once the special files are gone: a link to a FIFO that was removed now leads nowhere.
  for (const link of links) {
    const target = await fs.promises.readlink(link.abs);
    const real = await fs.promises.realpath(link.abs).catch(() => undefined);
    const reason = real === undefined ? `a link to ${target}, which does not exist`
      : !isInsideFolder(root, real) ? `a link to ${target}, outside the outputs folder`
      : undefined;
    if (!reason) continue;
    await fs.promises.unlink(link.abs);
    dropped.push({ path: link.rel, reason });
  }
  return dropped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The lines a run's log gets for what it did not keep, one per entry. */
export function describeDropped(where: 'outputs' | 'snapshot', dropped: readonly DroppedEntry[]): string {
  const lead = where === 'outputs' ? 'removed from outputs/' : 'left out of the snapshot:';
  return dropped.map((d) => `[mlw] ${lead} ${d.path} (${d.reason})\n`).join('');
}

/**
 * The lifecycle's one step after outputs are collected: sanitizes the outputs folder, records what was removed
 * (`droppedOutputs`), and appends to logs.txt what the run did not keep, the snapshot's left-out links included
 * (they were shown as the run started; the log keeps them with the run). The logs are complete by then, so the
 * lines land after the script's output and the skip-bytes log follower is not thrown off. `notify` shows the
 * removed outputs live (CLI stderr, output channel).
 */
export async function keepOnlySafeOutputs(store: RunStore, id: string, notify: (text: string) => void): Promise<void> {
  const paths = store.paths(id);
  let dropped: DroppedEntry[] = [];
  let failure = '';
  try {
    dropped = await sanitizeOutputs(paths.outputs);
  } catch (err) {
    failure = `[mlw] the outputs folder could not be checked for links and special files: ${(err as Error).message}\n`;
  }
  const run = dropped.length ? await store.update(id, { droppedOutputs: dropped }) : await store.get(id);
  const live = describeDropped('outputs', dropped) + failure;
  const text = describeDropped('snapshot', run?.snapshot?.dropped ?? []) + live;
  if (!text) return;
  await fs.promises.appendFile(paths.logs, text);
  if (live) notify(live);
}

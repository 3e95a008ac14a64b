/**
 * Opening a file that a run's script could have written (its tracking folder, its outputs). The script decides
 * what the path names: a symbolic link (the host would read its target, e.g. ~/.ssh/id_rsa, into the record), a
 * FIFO (a plain open blocks until a writer comes, which is never), a device node. So: lstat first and refuse
 * anything but a regular file before opening it (opening a device can have effects of its own); open with
 * O_NOFOLLOW (the path may have been swapped for a link since) and O_NONBLOCK (or for a FIFO, so the open
 * cannot block); then fstat the descriptor and check it is the very file that was checked. Pure node, no vscode.
 */
import * as fs from 'node:fs';

/** A run-written file that was not opened, with the sentence to show (it names the file as `label`). */
export class RunFileRefused extends Error {
  constructor(readonly label: string, readonly why: string) {
    super(`${label} ${why}, so ML Workbench did not read it.`);
    this.name = 'RunFileRefused';
  }
}

// Windows has neither flag; there a script in a Linux container cannot make links or FIFOs on the host anyway.
const NO_FOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const NON_BLOCK = fs.constants.O_NONBLOCK ?? 0;

/** What a non-regular entry is, in words: "is a symbolic link", "is a FIFO (named pipe)"… */
export function describeKind(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (st.isDirectory()) return 'is a folder';
  if (st.isFIFO()) return 'is a FIFO (named pipe)';
  if (st.isSocket()) return 'is a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'is a device node';
  return 'is not a regular file';
}

/**
 * Opens a run-written regular file for reading, or undefined when it does not exist. Throws RunFileRefused for
 * a link, FIFO, socket, device or folder (also when one replaced the file between the checks); never blocks.
 */
export async function openRunWrittenFile(file: string, label: string): Promise<fs.promises.FileHandle | undefined> {
  let before: fs.Stats;
  try {
    before = await fs.promises.lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!before.isFile()) throw new RunFileRefused(label, describeKind(before));
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, fs.constants.O_RDONLY | NO_FOLLOW | NON_BLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // ELOOP: swapped for a link after the lstat; ENXIO: for a socket.
    if (code === 'ELOOP' || code === 'EMLINK') throw new RunFileRefused(label, 'is a symbolic link');
    if (code === 'ENXIO') throw new RunFileRefused(label, 'is a socket');
    throw err;
  }
  const st = await handle.stat();
  if (!st.isFile() || st.ino !== before.ino || st.dev !== before.dev) {
    await handle.close();
    throw new RunFileRefused(label, st.isFile() ? 'was replaced while it was being opened' : describeKind(st));
  }
  return handle;
}

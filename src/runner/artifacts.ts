/**
 * Host-side access to a run's outputs folder (`.mlw/runs/<id>/outputs`). The script decides what is in there,
 * including symbolic links to anywhere on the host (`ln -s /home/me/.ssh/id_rsa model.pt`), so every path is
 * resolved through its links and must land inside the outputs folder before the host reads it. No vscode.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserFacingError } from '../model/common/errors';
import { isInsideFolder } from '../model/common/containment';

export interface OutputEntry {
  /** Path relative to the outputs folder, forward slashes. */
  rel: string;
  /** Bytes; for a link inside the folder, those of the file it points to. */
  size: number;
}

/** Told about each entry left out, with why (a link leading outside, a folder link, a socket…). */
export type SkippedCallback = (rel: string, reason: string) => void;

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException)?.code === code;
}

/** The forward-slash segments of a requested relative path, refusing anything that could name a place outside. */
function checkRelative(rel: string): string[] {
  if (path.isAbsolute(rel) || path.posix.isAbsolute(rel) || path.win32.isAbsolute(rel)) {
    throw new UserFacingError(`"${rel}" is an absolute path; output paths are relative to the run's outputs folder.`);
  }
  if (rel.includes('\0')) throw new UserFacingError(`"${rel}" is not a valid path (it contains a NUL character).`);
  // Backslashes count as separators too: on Windows "..\\x" climbs out just as "../x" does.
  const segments = rel.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    throw new UserFacingError(`"${rel}" contains "..": output paths must stay inside the run's outputs folder.`);
  }
  return segments;
}

async function realOutputsRoot(outputsDir: string): Promise<string> {
  try {
    return await fs.promises.realpath(outputsDir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new UserFacingError(`The run's outputs folder ${outputsDir} does not exist.`);
    throw err;
  }
}

async function resolveIn(root: string, outputsDir: string, rel: string): Promise<string> {
  const segments = checkRelative(rel);
  let real: string;
  try {
    real = await fs.promises.realpath(path.join(outputsDir, ...segments));
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) {
      // Say "outside" rather than "does not exist" when the part that does exist already left the folder:
      // whether something exists out there is none of the run's business.
      if (!(await existingPrefixWithin(root, outputsDir, segments))) throw outsideError(rel);
      throw new UserFacingError(`"${rel}" does not exist in the run's outputs folder (or is a link to something that does not).`);
    }
    if (isErrno(err, 'ELOOP')) throw new UserFacingError(`"${rel}" is a loop of symbolic links.`);
    throw err;
  }
  if (!isInsideFolder(root, real)) throw outsideError(rel);
  return real;
}

function outsideError(rel: string): UserFacingError {
  return new UserFacingError(`"${rel}" leads outside the run's outputs folder (through a symbolic link), so ML Workbench will not open it.`);
}

/** Whether the longest prefix of segments that exists resolves inside the outputs folder. */
async function existingPrefixWithin(root: string, outputsDir: string, segments: string[]): Promise<boolean> {
  for (let n = segments.length - 1; n >= 0; n--) {
    const real = await fs.promises.realpath(path.join(outputsDir, ...segments.slice(0, n))).catch(() => undefined);
    if (real !== undefined) return isInsideFolder(root, real);
  }
  return true;
}

/**
 * The real path of `rel` inside the outputs folder, following links at every level. Throws UserFacingError for
 * an absolute path, a ".." segment, a path that does not exist, or one whose real path is outside the folder.
 */
export async function resolveOutputPath(outputsDir: string, rel: string): Promise<string> {
  return resolveIn(await realOutputsRoot(outputsDir), outputsDir, rel);
}

/**
 * Every regular file in the outputs folder, recursively, sorted by path. Links resolving inside the folder are
 * listed with their target's size; links leading outside, dangling links, links to folders (which could loop or
 * list files twice; their files are listed at their real path) and special files are skipped and reported.
 * A missing outputs folder lists as empty.
 */
export async function listOutputs(outputsDir: string, onSkipped?: SkippedCallback): Promise<OutputEntry[]> {
  let root: string;
  try {
    root = await fs.promises.realpath(outputsDir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const out: OutputEntry[] = [];
  const walk = async (dirReal: string, relDir: string): Promise<void> => {
    const dirents = await fs.promises.readdir(dirReal, { withFileTypes: true });
    for (const d of dirents) {
      const rel = relDir ? `${relDir}/${d.name}` : d.name;
      const abs = path.join(dirReal, d.name);
      if (d.isDirectory()) {
        await walk(abs, rel);
      } else if (d.isFile()) {
        out.push({ rel, size: (await fs.promises.lstat(abs)).size });
      } else if (d.isSymbolicLink()) {
        const target = await linkTarget(root, abs);
        if (typeof target === 'string') onSkipped?.(rel, target);
        else out.push({ rel, size: target.size });
      } else {
        onSkipped?.(rel, 'not a regular file');
      }
    }
  };
  await walk(root, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** The stats of the file a link leads to when it may be read, else why not. */
async function linkTarget(root: string, link: string): Promise<fs.Stats | string> {
  let real: string;
  try {
    real = await fs.promises.realpath(link);
  } catch {
    return 'a link to something that does not exist';
  }
  if (!isInsideFolder(root, real)) return 'a link leading outside the outputs folder';
  const st = await fs.promises.stat(real);
  if (st.isDirectory()) return 'a link to a folder (its files are listed where they really are)';
  if (!st.isFile()) return 'a link to something that is not a regular file';
  return st;
}

export interface CopyOutOptions {
  /** Replace an existing destination file. Default false: the user's files are never overwritten silently. */
  overwrite?: boolean;
  /** Entries of a copied folder left out (links leading outside, folder links, special files). */
  onSkipped?: SkippedCallback;
}

/**
 * Copies one output (a file, or a folder recursively) into destDir under its own name, returning the path of
 * the copy. Every entry is checked again as it is copied; links inside the folder are copied as the content they
 * point to, never as links.
 */
export async function copyOutputOut(outputsDir: string, rel: string, destDir: string, options: CopyOutOptions = {}): Promise<string> {
  const root = await realOutputsRoot(outputsDir);
  const source = await resolveIn(root, outputsDir, rel);
  const segments = checkRelative(rel);
  const name = segments.length ? segments[segments.length - 1] : path.basename(root);
  await fs.promises.mkdir(destDir, { recursive: true });
  const dest = path.join(destDir, name);
  if (!options.overwrite && (await fs.promises.lstat(dest).then(() => true, () => false))) {
    throw new UserFacingError(`${dest} already exists; not overwritten. Choose another folder or remove it first.`);
  }
  const st = await fs.promises.stat(source);
  if (st.isDirectory()) {
    await copyDir(root, source, dest, segments.join('/'), options);
  } else if (st.isFile()) {
    await copyFile(source, dest, rel, options.overwrite ?? false);
  } else {
    throw new UserFacingError(`"${rel}" is not a regular file or folder, so it cannot be copied.`);
  }
  return dest;
}

async function copyDir(root: string, sourceReal: string, dest: string, relDir: string, options: CopyOutOptions): Promise<void> {
  await fs.promises.mkdir(dest, { recursive: true });
  for (const d of await fs.promises.readdir(sourceReal, { withFileTypes: true })) {
    const rel = relDir ? `${relDir}/${d.name}` : d.name;
    const abs = path.join(sourceReal, d.name);
    if (d.isDirectory()) {
      // Re-resolved: the folder may have been swapped for a link since readdir (a script still running).
      const real = await fs.promises.realpath(abs);
      if (!isInsideFolder(root, real)) options.onSkipped?.(rel, 'a link leading outside the outputs folder');
      else await copyDir(root, real, path.join(dest, d.name), rel, options);
    } else if (d.isFile()) {
      await copyFile(abs, path.join(dest, d.name), rel, options.overwrite ?? false);
    } else if (d.isSymbolicLink()) {
      const target = await linkTarget(root, abs);
      if (typeof target === 'string') options.onSkipped?.(rel, target);
      else await copyFile(await fs.promises.realpath(abs), path.join(dest, d.name), rel, options.overwrite ?? false);
    } else {
      options.onSkipped?.(rel, 'not a regular file');
    }
  }
}

/**
 * Copies from a checked real path. O_NOFOLLOW refuses the file if it was replaced by a link after the check, and
 * fstat on the open descriptor confirms it is the regular file that will be read (O_NONBLOCK only matters for a
 * FIFO; reads of a regular file block as usual).
 */
async function copyFile(sourceReal: string, dest: string, rel: string, overwrite: boolean): Promise<void> {
  let input: fs.promises.FileHandle;
  try {
    // O_NONBLOCK: a FIFO swapped in since the check must not block the open (the fstat below then refuses it).
    input = await fs.promises.open(sourceReal, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, 'ELOOP')) throw new UserFacingError(`"${rel}" was replaced by a symbolic link while being copied; not copied.`);
    throw err;
  }
  try {
    if (!(await input.stat()).isFile()) throw new UserFacingError(`"${rel}" is not a regular file, so it cannot be copied.`);
    let output: fs.promises.FileHandle;
    try {
      output = await fs.promises.open(dest, overwrite ? 'w' : 'wx');
    } catch (err) {
      if (isErrno(err, 'EEXIST')) throw new UserFacingError(`${dest} already exists; not overwritten. Choose another folder or remove it first.`);
      throw err;
    }
    await pipeline(input.createReadStream({ autoClose: false }), output.createWriteStream());
  } finally {
    await input.close();
  }
}

import * as fs from 'node:fs';
import * as path from 'node:path';

let tempCounter = 0;

/**
 * Writes a file so that readers only ever see the old or the new content, never a torn one:
 * write a sibling temp file, fsync it, rename over the target (atomic on POSIX within one filesystem).
 * Resolves with the written file's stats (the rename keeps its inode and mtime), so a cache can tell later
 * whether the file is still the one written.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<fs.Stats> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${++tempCounter}.tmp`;
  const handle = await fs.promises.open(tmp, 'w');
  let stats: fs.Stats;
  try {
    await handle.writeFile(data);
    await handle.sync();
    stats = await handle.stat();
  } finally {
    await handle.close();
  }
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  return stats;
}

export function writeJsonAtomic(file: string, value: unknown): Promise<fs.Stats> {
  return writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** Reads a text file, returning undefined when it does not exist (including removed since it was listed). */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Names in a folder, or [] when the folder does not exist (yet). */
export async function readDirIfExists(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Reads JSON, returning undefined when the file does not exist. Malformed JSON throws with the file named. */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

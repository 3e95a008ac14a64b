import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserFacingError } from '../common/errors';

/** One file of a model version: where it sits in the model folder, and its bytes by hash. */
export interface StoredFile {
  /** Relative to the model folder, forward slashes. */
  path: string;
  sha256: string;
  bytes: number;
}

const HASH = /^[0-9a-f]{64}$/;

/**
 * Files by the SHA-256 of their bytes under `.mlw/model-store/objects/` (which git ignores): the same bytes,
 * whichever model or version they belong to, are stored once. Objects are written aside and renamed into place,
 * so a reader never sees half a file and two processes storing the same bytes both end with one whole copy.
 */
export class ContentStore {
  readonly objectsDir: string;

  constructor(readonly root: string) {
    this.objectsDir = path.join(root, 'objects');
  }

  objectPath(sha256: string): string {
    if (!HASH.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
    return path.join(this.objectsDir, sha256.slice(0, 2), sha256);
  }

  /** Stores a regular file's bytes (copied, hashed on the way) and says where they are now kept. */
  async put(file: string, relPath: string): Promise<StoredFile> {
    const tmpDir = path.join(this.root, 'tmp');
    await fs.promises.mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      // O_NOFOLLOW: a file that turned into a link after it was listed is refused, not followed.
      const src = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        if (!(await src.stat()).isFile()) throw new UserFacingError(`${relPath} is not a regular file`);
        await pipeline(src.createReadStream(), async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            bytes += chunk.length;
            yield chunk;
          }
        }, fs.createWriteStream(tmp, { mode: 0o444 }));
      } finally {
        await src.close().catch(() => undefined);
      }
      const sha256 = hash.digest('hex');
      const dest = this.objectPath(sha256);
      if (await exists(dest)) {
        // Fresh again: a prune running meanwhile leaves young objects alone (see ModelRegistry.prune).
        const now = new Date();
        await fs.promises.utimes(dest, now, now).catch(() => undefined);
        return { path: relPath, sha256, bytes };
      }
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      await fs.promises.rename(tmp, dest);
      return { path: relPath, sha256, bytes };
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }

  /** Whether every file's bytes are in the store (a store copied without its objects is not). */
  async missing(files: StoredFile[]): Promise<StoredFile[]> {
    const out: StoredFile[] = [];
    for (const f of files) if (!(await exists(this.objectPath(f.sha256)))) out.push(f);
    return out;
  }

  /** Writes the files into `dir` as the model folder a scorer loads (hard links when the file system allows). */
  async materialize(files: StoredFile[], dir: string): Promise<void> {
    for (const f of files) {
      const dest = path.join(dir, ...f.path.split('/'));
      if (!dest.startsWith(path.resolve(dir) + path.sep)) throw new Error(`model file path ${f.path} leaves its folder`);
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      await fs.promises.rm(dest, { force: true });
      await fs.promises.link(this.objectPath(f.sha256), dest).catch(() => fs.promises.copyFile(this.objectPath(f.sha256), dest));
    }
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.promises.lstat(p).then(() => true, () => false);
}

/** One hash for a set of files: unchanged paths and bytes give the same hash, whatever the order listed. */
export function contentHashOf(files: StoredFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) h.update(`${f.path}\0${f.sha256}\n`);
  return h.digest('hex');
}

/**
 * The regular files under `source` (a file or a folder), with their paths as the model folder will hold them.
 * Links, FIFOs and devices are refused by name: model files often come from a run's outputs, which a script wrote.
 */
export async function listModelFiles(source: string, label: string, where = ''): Promise<{ file: string; rel: string }[]> {
  const st = await fs.promises.lstat(source).catch(() => undefined);
  if (!st) throw new UserFacingError(`${label}${where} does not exist`);
  if (st.isFile()) return [{ file: source, rel: path.basename(source) }];
  if (!st.isDirectory()) throw new UserFacingError(`${label}${where} is ${st.isSymbolicLink() ? 'a link' : 'not a regular file or folder'}; only files and folders can be registered`);
  const out: { file: string; rel: string }[] = [];
  const walk = async (dir: string, rel: string) => {
    for (const entry of (await fs.promises.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(full, r);
      else if (entry.isFile()) out.push({ file: full, rel: r });
      else throw new UserFacingError(`${label}/${r}${where} is ${entry.isSymbolicLink() ? 'a link' : 'not a regular file'}; a model folder may hold only files and folders`);
    }
  };
  await walk(source, '');
  if (!out.length) throw new UserFacingError(`${label}${where} is an empty folder; there is nothing to register`);
  return out;
}

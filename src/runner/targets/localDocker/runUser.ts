/**
 * Which account a run's process is on this machine, and handing the run's writable folders to it and back.
 *
 * Why files a run writes cannot become setuid-root or devices on the host, even while it runs: its outputs and
 * tracking folders are bind mounts of host folders, and Docker cannot mount a bind `nosuid,nodev` (the flags
 * would only govern exec through the container's own mount anyway; the host's mount of the same files is the
 * host's). So the run is kept from *making* such files: it never runs as root (User below), gains no privilege
 * through a setuid binary of its image (no-new-privileges) and holds no capability (CapDrop ALL: no CAP_MKNOD
 * for device nodes, no CAP_CHOWN/CAP_FOWNER/CAP_FSETID to give a file to root or set a setuid bit on one it
 * does not own). What it can still make is a setuid file owned by its own uid; while it runs, the run's folder
 * is private to the account that started it (0700), so no other account can reach such a file to execute it,
 * and when it ends every setuid/setgid bit is stripped, any device node removed and every file given back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { walkTree } from '../../fileWalker';

export interface RunUser {
  uid: number;
  gid: number;
}

/**
 * Where the search for an id that owns nothing starts when mlw runs as root: above the regular-user range
 * (1000–60000) and systemd's homed and dynamic service users (60001–65519) and nobody (65534); below 100000,
 * where /etc/subuid ranges (rootless containers' users) start by default; not a multiple of 65536 (old 16-bit
 * id calls truncate those to 0, root). Ids in /etc/passwd, /etc/group, /etc/subuid or /etc/subgid are skipped.
 */
export const UNOWNED_ID_START = 70000;

export interface IdFiles {
  passwd: string;
  group: string;
  subuid: string;
  subgid: string;
}

/** The first id from UNOWNED_ID_START that no account, group or subordinate-id range in these files uses. */
export function unownedId(files: IdFiles): number {
  const taken = new Set<number>();
  for (const text of [files.passwd, files.group]) {
    for (const line of text.split('\n')) {
      const id = Number(line.split(':')[2]);
      if (line.trim() && !line.startsWith('#') && Number.isInteger(id)) taken.add(id);
    }
  }
  const ranges: Array<[number, number]> = [];
  for (const text of [files.subuid, files.subgid]) {
    for (const line of text.split('\n')) {
      const [, start, count] = line.split(':').map(Number);
      if (Number.isInteger(start) && Number.isInteger(count)) ranges.push([start, start + count]);
    }
  }
  let id = UNOWNED_ID_START;
  for (;;) {
    const range = ranges.find(([start, end]) => id >= start && id < end);
    if (range) id = range[1];
    else if (taken.has(id) || id % 65536 === 0) id++;
    else return id;
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The account running mlw; on a platform without uids (Windows), the conventional first user's. */
export function invokingUser(): RunUser {
  return { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
}

/**
 * The uid:gid a run's process uses: the caller's own when they are not root (so what the run writes is theirs),
 * else an id that owns nothing on this machine. Never uid 1000, the first real account on many machines.
 */
export function containerUser(): RunUser {
  const me = invokingUser();
  if (me.uid !== 0) return me;
  const id = unownedId({
    passwd: readOrEmpty('/etc/passwd'),
    group: readOrEmpty('/etc/group'),
    subuid: readOrEmpty('/etc/subuid'),
    subgid: readOrEmpty('/etc/subgid'),
  });
  return { uid: id, gid: id };
}

/** The folder holding a run's outputs and tracking folders, when they share one (.mlw/runs/<id>). */
export function runFolderOf(outputs: string, tracking: string): string | undefined {
  return path.dirname(outputs) === path.dirname(tracking) ? path.dirname(outputs) : undefined;
}

/** Gives the run its writable folders, and makes the run's folder private while it runs (see the top). */
export async function handFoldersToRun(folders: string[], runFolder: string | undefined, user: RunUser): Promise<void> {
  if (runFolder) await fs.promises.chmod(runFolder, 0o700);
  const me = invokingUser();
  if (me.uid === user.uid && me.gid === user.gid) return;
  for (const folder of folders) await fs.promises.chown(folder, user.uid, user.gid);
}

const SETID_BITS = 0o6000;

/**
 * After the run: every file in `folder` (links never followed) loses setuid/setgid bits and becomes the
 * invoking account's again; device nodes are removed (a run cannot make them; this holds if that ever changes).
 * Then the run's folder gets the mode its siblings have. Best effort per file: one that cannot be fixed must
 * not keep the others from being fixed.
 */
export async function reclaimFolder(folder: string, runFolder: string | undefined): Promise<void> {
  const me = invokingUser();
  const root = await fs.promises.lstat(folder).catch(() => undefined);
  if (root) await reclaimEntry(folder, root, me);
  if (root?.isDirectory()) {
    // Each folder is fixed (made readable again) by `entry`, before the walk lists it.
    await walkTree(folder, { entry: (e) => reclaimEntry(e.abs, e.stat!, me), unreadable: () => false }, { stats: true, maxEntries: Infinity, maxDepth: Infinity });
  }
  if (runFolder) {
    const mode = await fs.promises.stat(path.dirname(runFolder)).then((s) => s.mode & 0o777, () => 0o755);
    await fs.promises.chmod(runFolder, mode).catch(() => undefined);
  }
}

async function reclaimEntry(file: string, stat: fs.Stats, me: RunUser): Promise<void> {
  if (stat.isBlockDevice() || stat.isCharacterDevice()) {
    await fs.promises.unlink(file).catch(() => undefined);
    return;
  }
  if (stat.uid !== me.uid || stat.gid !== me.gid) await fs.promises.lchown(file, me.uid, me.gid).catch(() => undefined);
  // Links have no mode of their own (chmod would follow them); chown above already cleared set-id bits on most
  // file systems, and chmod here makes sure, also for the run's own files when mlw is not root.
  if (!stat.isSymbolicLink() && stat.mode & SETID_BITS) await fs.promises.chmod(file, stat.mode & 0o777).catch(() => undefined);
  // A directory the run made unreadable would hide what is under it.
  if (stat.isDirectory() && (stat.mode & 0o700) !== 0o700) await fs.promises.chmod(file, (stat.mode & 0o777) | 0o700).catch(() => undefined);
}

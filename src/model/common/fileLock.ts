import * as fs from 'node:fs';
import * as os from 'node:os';

export interface FileLockOptions {
  /** Give up (and throw) after waiting this long for another holder. */
  timeoutMs?: number;
  /** A lock older than this is taken over: its holder died or hangs. Holders keep it for milliseconds. */
  staleMs?: number;
}

const HOST = os.hostname();
/**
 * A lock is created whole (written aside, then linked into place), so an empty one is never being written: it
 * was left by a process killed between create and write in an older version, or by a full disk. Briefly
 * tolerated all the same, since a copy or sync tool may show a file before its content.
 */
const EMPTY_STALE_MS = 1000;

/** Whether the process that wrote a lock's content can still hold it (same host and still alive). */
function holderGone(content: string): boolean {
  const [pid, host] = content.split(' ');
  if (host !== HOST || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Runs `fn` while holding `lockFile`, created with O_EXCL so that one process at a time (on any host sharing the
 * folder) holds it. A lock whose holder died (its pid is gone on this host) or that is older than `staleMs` is
 * taken over, so a kill -9 in the middle of an update never blocks the store for good.
 */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 25)) {
    const holder = await tryAcquire(lockFile, staleMs);
    if (holder === undefined) break;
    if (Date.now() > deadline) throw new Error(`${lockFile} is held by another process (${holder || 'unknown'}) for more than ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, wait));
  }
  return holding(lockFile, fn);
}

/**
 * Runs `fn` holding `lockFile` if no live holder has it now, without waiting: for work that another process
 * doing the same makes unneeded (compacting a journal). Resolves `{ ran: false }` when the lock is held or
 * cannot be made (a read-only folder): such work is an economy, never needed for correctness.
 */
export async function tryWithFileLock<T>(lockFile: string, fn: () => Promise<T>, options: Pick<FileLockOptions, 'staleMs'> = {}): Promise<{ ran: true; value: T } | { ran: false }> {
  const held = await tryAcquire(lockFile, options.staleMs ?? 15_000).catch(() => 'unmakeable');
  if (held !== undefined) return { ran: false };
  return { ran: true, value: await holding(lockFile, fn) };
}

async function holding<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await fs.promises.rm(lockFile, { force: true });
  }
}

/**
 * Takes the lock (taking over a stale one) and resolves undefined, or resolves what the live holder wrote in
 * it ('' when unreadable) when it is held.
 */
async function tryAcquire(lockFile: string, staleMs: number): Promise<string | undefined> {
  for (;;) {
    try {
      await createWhole(lockFile, `${process.pid} ${HOST} ${Date.now()}`);
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [content, st] = await Promise.all([
        fs.promises.readFile(lockFile, 'utf8').catch(() => ''),
        fs.promises.stat(lockFile).catch(() => undefined),
      ]);
      const age = st ? Date.now() - st.mtimeMs : 0;
      if (st && ((content && holderGone(content)) || (!content && age > EMPTY_STALE_MS) || age > staleMs)) {
        await takeOver(lockFile, st.mtimeMs);
        continue;
      }
      // Gone between the failed create and the stat: try again at once.
      if (!st) continue;
      return content;
    }
  }
}

/**
 * Creates `lockFile` with its content in one step, failing with EEXIST when it exists: the content goes to a file
 * of this process's own first, then a hard link gives it the lock's name (link never replaces a file). A kill at
 * any moment leaves either no lock or a complete one naming its dead holder, never an empty lock.
 */
async function createWhole(lockFile: string, content: string): Promise<void> {
  const aside = `${lockFile}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.new`;
  await fs.promises.writeFile(aside, content, { flag: 'wx' });
  try {
    await fs.promises.link(aside, lockFile);
  } finally {
    await fs.promises.rm(aside, { force: true });
  }
}

/**
 * Removes a stale lock only if it is still the one judged stale: two processes that both found it stale must
 * not remove each other's fresh lock. Renaming to a name of our own first makes the check and the removal one step.
 */
async function takeOver(lockFile: string, staleMtimeMs: number): Promise<void> {
  const mine = `${lockFile}.${process.pid}.${Date.now()}.stale`;
  try {
    await fs.promises.rename(lockFile, mine);
  } catch {
    return; // someone else took it over first
  }
  const st = await fs.promises.stat(mine).catch(() => undefined);
  if (st && st.mtimeMs !== staleMtimeMs) {
    // We moved a fresh lock that replaced the stale one meanwhile: put it back if the name is still free.
    await fs.promises.link(mine, lockFile).catch(() => undefined);
  }
  await fs.promises.rm(mine, { force: true });
}

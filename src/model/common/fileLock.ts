import * as fs from 'node:fs';
import * as os from 'node:os';

export interface FileLockOptions {
  /** Give up (and throw) after waiting this long for another holder. */
  timeoutMs?: number;
  /** A lock older than this is taken over: its holder died or hangs. Holders keep it for milliseconds. */
  staleMs?: number;
}

const HOST = os.hostname();

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
    try {
      const handle = await fs.promises.open(lockFile, 'wx');
      try {
        await handle.writeFile(`${process.pid} ${HOST} ${Date.now()}`);
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [content, st] = await Promise.all([
        fs.promises.readFile(lockFile, 'utf8').catch(() => ''),
        fs.promises.stat(lockFile).catch(() => undefined),
      ]);
      // An empty lock is one being written right now, unless it stays empty past staleMs.
      if (st && ((content && holderGone(content)) || Date.now() - st.mtimeMs > staleMs)) {
        await takeOver(lockFile, st.mtimeMs);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lockFile} is held by another process (${content || 'unknown'}) for more than ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.promises.rm(lockFile, { force: true });
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

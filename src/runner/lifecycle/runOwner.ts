import * as os from 'node:os';
import { RunRecord } from '../../model/runs/run';

/** The process following a run, recorded so other processes leave its runs alone while it lives. */
export function currentOwner(): NonNullable<RunRecord['owner']> {
  return { pid: process.pid, host: os.hostname() };
}

/** Whether the run's owner is another process of this machine that is still alive. */
export function ownedByOtherLiveProcess(run: RunRecord): boolean {
  return !!run.owner && run.owner.host === os.hostname() && run.owner.pid !== process.pid && processAlive(run.owner.pid);
}

/** Whether the run's owner is a process of this machine that is still alive (this one included). */
export function ownerAlive(run: RunRecord): boolean {
  return !!run.owner && run.owner.host === os.hostname() && processAlive(run.owner.pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import type { RunDetailsPanel } from '../../src/views/details/runDetailsPanel';
import { RunDetailsState, isDeletedRun } from '../../src/views/protocol/runDetails';
import { waitForState } from './panelHelpers';

/** Waits for a state of the run itself (not the deleted-run state) that passes `ok`. */
export async function waitForRunState(panel: RunDetailsPanel, what: string, ok: (s: RunDetailsState) => boolean, timeoutMs?: number): Promise<RunDetailsState> {
  return (await waitForState(panel, what, (s) => !isDeletedRun(s) && ok(s), timeoutMs)) as RunDetailsState;
}

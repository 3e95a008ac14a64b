/**
 * Commands that change files or Docker images on the strength of what a workspace holds need a trusted
 * workspace: a cloned repository can ship its own `.mlw/runs` (run records naming any image id, snapshots full of
 * links), and Restricted Mode is the user saying "do not act on this folder yet". Pure (no vscode import), so
 * the gate is tested under plain mocha; callers pass `vscode.workspace.isTrusted`, and show the refusal with
 * showError so the command also returns its message (for tests and other extensions).
 */
import { UserFacingError } from '../../model/common/errors';

export type TrustedAction = 'restore' | 'delete' | 'cleanUp';

const WHY: Record<TrustedAction, string> = {
  restore: "Restoring a run's code writes files into this workspace",
  delete: 'Deleting runs removes files and Docker images named by the run records in this workspace',
  cleanUp: 'Cleaning up removes files and Docker images named by the run records in this workspace',
};

/** The refusal an untrusted workspace gets, with the button that opens the trust editor. */
export function untrustedWorkspaceError(action: TrustedAction): UserFacingError {
  return new UserFacingError(`${WHY[action]}, so it needs a trusted workspace. Trust the workspace first (Manage Workspace Trust).`, {
    label: 'Manage Workspace Trust',
    command: 'workbench.trust.manage',
  });
}

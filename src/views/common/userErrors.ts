import * as vscode from 'vscode';
import { UserFacingError } from '../../model/common/errors';
import { RunConfigError } from '../../model/runconfig/runConfig';

/**
 * Shows an error the way every command does: a UserFacingError as written (with its action button, and
 * "Open File" for a run configuration), anything else as unexpected. Returns the message for callers and tests.
 */
export async function showError(err: unknown): Promise<{ error: string }> {
  if (err instanceof UserFacingError) {
    const actions: { label: string; run: () => unknown }[] = [];
    if (err.action) actions.push({ label: err.action.label, run: () => vscode.commands.executeCommand(err.action!.command, ...(err.action!.args ?? [])) });
    if (err instanceof RunConfigError && err.file) actions.push({ label: 'Open File', run: () => vscode.window.showTextDocument(vscode.Uri.file(err.file)) });
    void vscode.window.showErrorMessage(err.message, ...actions.map((a) => a.label)).then((picked) => actions.find((a) => a.label === picked)?.run());
    return { error: err.message };
  }
  const message = `ML Workbench: unexpected error: ${(err as Error)?.message ?? err}`;
  void vscode.window.showErrorMessage(message);
  return { error: message };
}

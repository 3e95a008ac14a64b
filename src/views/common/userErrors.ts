import * as vscode from 'vscode';
import { UserFacingError } from '../../model/common/errors';

/** By shape, not instanceof: importing the class would load the YAML parser with the extension. */
function isRunConfigError(err: UserFacingError): err is UserFacingError & { file: string } {
  return err.name === 'RunConfigError' && typeof (err as { file?: unknown }).file === 'string';
}

/**
 * Shows an error the way every command does: a UserFacingError as written (with its action button, and
 * "Open File" for a run configuration), anything else as unexpected. Returns the message for callers and tests.
 */
export async function showError(err: unknown): Promise<{ error: string }> {
  if (err instanceof UserFacingError) {
    const actions: { label: string; run: () => unknown }[] = [];
    if (err.action) actions.push({ label: err.action.label, run: () => vscode.commands.executeCommand(err.action!.command, ...(err.action!.args ?? [])) });
    if (isRunConfigError(err) && err.file) actions.push({ label: 'Open File', run: () => vscode.window.showTextDocument(vscode.Uri.file(err.file)) });
    void vscode.window.showErrorMessage(err.message, ...actions.map((a) => a.label)).then((picked) => actions.find((a) => a.label === picked)?.run());
    return { error: err.message };
  }
  const message = `ML Workbench: unexpected error: ${(err as Error)?.message ?? err}`;
  void vscode.window.showErrorMessage(message);
  return { error: message };
}

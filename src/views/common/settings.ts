import * as vscode from 'vscode';
import { WorkbenchSettings, resolveSettings } from '../../model/common/settings';

export type { WorkbenchSettings } from '../../model/common/settings';

/** The `mlw.*` settings that apply to a workspace folder (or the window), cleaned as the CLI cleans them. */
export function readSettings(scope?: vscode.Uri): WorkbenchSettings {
  const c = vscode.workspace.getConfiguration('mlw', scope);
  return resolveSettings((name) => c.get(name));
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RestoreResult, SnapshotDiff, diffSnapshot, restoreFromSnapshot } from '../../runner/snapshot';
import { showError } from '../common/userErrors';
import { untrustedWorkspaceError } from '../common/workspaceTrust';
import { pickRun } from '../common/runPicker';
import type { WorkspaceRuns } from '../common/workspaceRuns';

/**
 * "Show Code Diff": compares a run's snapshot with the workspace now. Opens VS Code's diff editor on the
 * changed file the user picks (the run's script first); returns the comparison for callers and tests.
 */
export async function showSnapshotDiff(runs: WorkspaceRuns, arg?: unknown, fileArg?: string): Promise<(SnapshotDiff & { opened?: string }) | undefined> {
  const picked = await pickRun(runs, arg, 'Compare the code of which run with the workspace?');
  if (!picked) return undefined;
  const snapshot = picked.runs.store.paths(picked.run.id).snapshot;
  if (!fs.existsSync(snapshot)) throw new Error(`run ${picked.run.id} has no snapshot on disk`);
  const diff = await diffSnapshot(snapshot, picked.folder.uri.fsPath);
  const candidates = [...diff.changed, ...diff.removed];
  if (!candidates.length) {
    void vscode.window.showInformationMessage(
      `The workspace matches the code of run ${picked.run.id}${diff.added.length ? ` (plus ${diff.added.length} file(s) added since)` : ''}.`,
    );
    return diff;
  }
  let file = fileArg;
  if (!file) {
    const sorted = candidates.sort((a, b) => (a === picked.run.script ? -1 : b === picked.run.script ? 1 : a.localeCompare(b)));
    file = sorted.length === 1 ? sorted[0] : (await vscode.window.showQuickPick(sorted.map((f) => ({ label: f, description: diff.removed.includes(f) ? 'deleted since' : 'changed since' })), {
      title: `Files that differ from run ${picked.run.id}`,
    }))?.label;
    if (!file) return diff;
  }
  const left = vscode.Uri.file(path.join(snapshot, file));
  const current = path.join(picked.folder.uri.fsPath, file);
  const right = fs.existsSync(current) ? vscode.Uri.file(current) : vscode.Uri.parse('untitled:' + current);
  await vscode.commands.executeCommand('vscode.diff', left, right, `${file} (run ${picked.run.id.slice(-4)}) ↔ workspace`);
  return { ...diff, opened: file };
}

/**
 * "Restore Snapshot": writes a run's code back into the workspace after a modal confirmation that lists
 * what will be overwritten. Files added since are kept (nothing is deleted). `confirmed` skips the dialog.
 * Needs a trusted workspace; never writes through a link (see restoreFromSnapshot).
 */
export async function restoreSnapshot(runs: WorkspaceRuns, arg?: unknown, confirmed = false): Promise<(Partial<RestoreResult> & { message?: string }) | { error: string } | undefined> {
  if (!vscode.workspace.isTrusted) return showError(untrustedWorkspaceError('restore'));
  const picked = await pickRun(runs, arg, 'Restore the code of which run into the workspace?');
  if (!picked) return undefined;
  const root = picked.folder.uri.fsPath;
  const snapshot = picked.runs.store.paths(picked.run.id).snapshot;
  const diff = await diffSnapshot(snapshot, root);
  const toWrite = [...diff.changed, ...diff.removed];
  if (!toWrite.length) {
    void vscode.window.showInformationMessage(`The workspace already matches the code of run ${picked.run.id}.`);
    return { restored: [] };
  }
  if (!confirmed) {
    const detail = [
      diff.changed.length ? `Overwrites ${diff.changed.length} changed file(s): ${diff.changed.slice(0, 5).join(', ')}${diff.changed.length > 5 ? '…' : ''}` : '',
      diff.removed.length ? `Recreates ${diff.removed.length} deleted file(s).` : '',
      diff.added.length ? `Keeps ${diff.added.length} file(s) added since.` : '',
      'Commit or stash first if you want to keep the current version.',
    ].filter(Boolean).join('\n');
    const choice = await vscode.window.showWarningMessage(`Restore the code of run ${picked.run.id}?`, { modal: true, detail }, 'Restore');
    if (choice !== 'Restore') return undefined;
  }
  const result = await restoreFromSnapshot(snapshot, root, toWrite);
  const skipped = result.skipped.map((s) => `${s.path} (${s.reason})`).join('; ');
  const message = `Restored ${result.restored.length} file(s) from run ${picked.run.id}.` + (skipped ? ` Skipped ${result.skipped.length}: ${skipped}.` : '');
  if (result.skipped.length) void vscode.window.showWarningMessage(message);
  else void vscode.window.showInformationMessage(message);
  return { ...result, message };
}

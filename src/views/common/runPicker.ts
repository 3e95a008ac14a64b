import * as vscode from 'vscode';
import { RunRecord, RunStatus } from '../../model/runs/run';
import { RunStore } from '../../model/runs/runStore';

export interface PickedRun {
  folder: vscode.WorkspaceFolder;
  run: RunRecord;
}

/**
 * Resolves the run a command acts on: a run id argument (from a tree item, a test, another extension) or,
 * from the palette, a quick-pick of the workspace's runs (optionally only some statuses).
 */
export async function pickRun(arg: unknown, title: string, statuses?: RunStatus[]): Promise<PickedRun | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const wanted = typeof arg === 'string' ? arg : (arg as { id?: string } | undefined)?.id;
  const all: PickedRun[] = [];
  for (const folder of folders) {
    const store = new RunStore(folder.uri.fsPath);
    if (wanted) {
      const run = await store.get(wanted).catch(() => undefined);
      if (run) return { folder, run };
      continue;
    }
    for (const run of await store.list()) all.push({ folder, run });
  }
  if (wanted) {
    void vscode.window.showErrorMessage(`No run ${wanted} in this workspace.`);
    return undefined;
  }
  const candidates = statuses ? all.filter((p) => statuses.includes(p.run.status)) : all;
  if (!candidates.length) {
    void vscode.window.showInformationMessage('No ML Workbench runs to choose from yet. Run a script with "Run as Experiment" first.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((p) => ({
      label: p.run.script,
      description: `${p.run.status} · ${p.run.id}`,
      detail: `${new Date(p.run.createdAt).toLocaleString()}${p.run.args.length ? ' · ' + p.run.args.join(' ') : ''}${folders.length > 1 ? ' · ' + p.folder.name : ''}`,
      target: p,
    })),
    { title, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.target;
}

import * as vscode from 'vscode';
import { formatDate } from '../../model/common/format';
import type { RunRecord, RunStatus } from '../../model/runs/run';
import type { RunSummary } from '../../model/runs/runIndex';
import type { FolderRuns, WorkspaceRuns } from './workspaceRuns';

export interface PickedRun {
  folder: vscode.WorkspaceFolder;
  /** The owner of the run's folder: write through it, never through a store of your own. */
  runs: FolderRuns;
  run: RunRecord;
}

/**
 * Resolves the run a command acts on: a run id argument (from a tree item, a test, another extension) or,
 * from the palette, a quick-pick of the workspace's runs (optionally only some statuses). The pick lists
 * from the run index; only the chosen run's record is read.
 */
export async function pickRun(runs: WorkspaceRuns, arg: unknown, title: string, statuses?: RunStatus[]): Promise<PickedRun | undefined> {
  const wanted = typeof arg === 'string' ? arg : (arg as { id?: string } | undefined)?.id;
  if (wanted) {
    const found = await runs.find(wanted);
    if (found) return { folder: found.runs.folder, runs: found.runs, run: found.run };
    void vscode.window.showErrorMessage(`No run ${wanted} in this workspace.`);
    return undefined;
  }
  const owners = runs.all();
  const all: { owner: FolderRuns; summary: RunSummary }[] = [];
  for (const owner of owners) {
    for (const summary of await owner.list()) all.push({ owner, summary });
  }
  const candidates = statuses ? all.filter((p) => statuses.includes(p.summary.status)) : all;
  if (!candidates.length) {
    void vscode.window.showInformationMessage('No ML Workbench runs to choose from yet. Run a script with "Run as Experiment" first.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((p) => ({
      label: p.summary.script,
      description: `${p.summary.status} · ${p.summary.id}`,
      detail: `${formatDate(p.summary.createdAt)}${p.summary.args?.length ? ' · ' + p.summary.args.join(' ') : ''}${owners.length > 1 ? ' · ' + p.owner.folder.name : ''}`,
      target: p,
    })),
    { title, matchOnDescription: true, matchOnDetail: true },
  );
  if (!picked) return undefined;
  const run = await picked.target.owner.get(picked.target.summary.id);
  if (!run) {
    void vscode.window.showErrorMessage(`Run ${picked.target.summary.id} no longer exists.`);
    return undefined;
  }
  return { folder: picked.target.owner.folder, runs: picked.target.owner, run };
}

import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from './views/common/commandIds';
import { cancelRun, rerunCommand, runAsExperiment, runAsExperimentWithConfig } from './views/runs/runAsExperiment';
import { RunOutput } from './views/runs/runOutput';
import { RunService } from './views/runs/runService';
import { RunStatusBar } from './views/runs/runStatusBar';
import { restoreSnapshot, showSnapshotDiff } from './views/runs/snapshotCommands';
import { RunLogDocuments, cleanUpCommand, deleteRunsCommand, filterRunsCommand, openOutputs, openRunLogs, renameRun, setStarred, tagRun } from './views/runs/runCommands';
import { RunsView } from './views/runs/runsView';
import { RunDetailsPanel, openRunDetails } from './views/details/runDetailsPanel';
import { ComparePanel, compareRuns, compareWithBest } from './views/compare/comparePanel';

/** Composition root: owns every service; activation only wires things up (no Docker or disk work here). */
class Workbench implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly runs: RunService;
  readonly runsView: RunsView;

  constructor(extensionPath: string, extensionUri: vscode.Uri) {
    const output = this.own(new RunOutput());
    const statusBar = this.own(new RunStatusBar());
    this.runs = this.own(new RunService(output, statusBar, path.join(extensionPath, 'python')));
    this.own(
      vscode.commands.registerCommand(Commands.runAsExperiment, (uri?: unknown) => runAsExperiment(this.runs, uri)),
      vscode.commands.registerCommand(Commands.runAsExperimentWithConfig, (uri?: unknown, config?: string) =>
        runAsExperimentWithConfig(this.runs, uri, typeof config === 'string' ? config : undefined),
      ),
      vscode.commands.registerCommand(Commands.cancelRun, (run?: unknown) => cancelRun(this.runs, run)),
      vscode.commands.registerCommand(Commands.rerun, (run?: unknown) => rerunCommand(this.runs, run)),
      vscode.commands.registerCommand(Commands.showSnapshotDiff, (run?: unknown, file?: string) => showSnapshotDiff(run, file)),
      vscode.commands.registerCommand(Commands.restoreSnapshot, (run?: unknown, confirmed?: boolean) => restoreSnapshot(run, confirmed === true)),
      vscode.commands.registerCommand(Commands.showLogs, () => output.channel.show()),
      vscode.commands.registerCommand(Commands.openRunDetails, (run?: unknown) => openRunDetails(extensionUri, run)),
      RunDetailsPanel.registerSerializer(extensionUri),
      RunDetailsPanel.followRunEvents(this.runs.onDidChangeRun),
      vscode.commands.registerCommand('mlw.compareRuns', (node?: unknown, selection?: unknown, ids?: unknown) => compareRuns(extensionUri, node, selection, ids)),
      vscode.commands.registerCommand('mlw.compareWithBest', (node?: unknown) => compareWithBest(extensionUri, node)),
      ComparePanel.registerSerializer(extensionUri),
      ComparePanel.followRunEvents(this.runs.onDidChangeRun),
    );
    RunDetailsPanel.log = output.channel;
    ComparePanel.log = output.channel;
    const view = (this.runsView = this.own(new RunsView(output.channel, this.runs.onDidChangeRun)));
    this.own(
      new RunLogDocuments(),
      vscode.commands.registerCommand('mlw.openRunLogs', (node?: unknown) => openRunLogs(node)),
      vscode.commands.registerCommand('mlw.openOutputs', (node?: unknown) => openOutputs(node)),
      vscode.commands.registerCommand('mlw.renameRun', (node?: unknown, name?: string) => renameRun(node, typeof name === 'string' ? name : undefined)),
      vscode.commands.registerCommand('mlw.tagRun', (node?: unknown, labels?: unknown) => tagRun(node, Array.isArray(labels) ? labels : undefined)),
      vscode.commands.registerCommand('mlw.starRun', (node?: unknown, selection?: unknown) => setStarred(node, selection, true)),
      vscode.commands.registerCommand('mlw.unstarRun', (node?: unknown, selection?: unknown) => setStarred(node, selection, false)),
      vscode.commands.registerCommand('mlw.deleteRun', (node?: unknown, selection?: unknown, confirmed?: boolean) => deleteRunsCommand(node, selection, confirmed === true)),
      vscode.commands.registerCommand('mlw.cleanUp', (criteria?: unknown, confirmed?: boolean) =>
        cleanUpCommand(criteria && typeof criteria === 'object' ? criteria : undefined, confirmed === true),
      ),
      vscode.commands.registerCommand('mlw.filterRuns', (filter?: unknown) => filterRunsCommand(view, filter && typeof filter === 'object' ? filter : undefined)),
      vscode.commands.registerCommand('mlw.clearRunFilter', () => view.setFilter({})),
      vscode.commands.registerCommand('mlw.runs.showStarredOnly', () => view.setFilter({ ...view.provider.filter, starredOnly: true })),
      vscode.commands.registerCommand('mlw.runs.showAll', () => view.setFilter({ ...view.provider.filter, starredOnly: undefined })),
      vscode.commands.registerCommand('mlw.runs.groupByConfig', () => view.setGroupBy('config')),
      vscode.commands.registerCommand('mlw.runs.groupByScript', () => view.setGroupBy('script')),
      vscode.commands.registerCommand('mlw.runs.refresh', () => view.refreshNow()),
      vscode.commands.registerCommand('mlw.runs.loadMore', (node?: unknown) => view.provider.loadMore(node as never)),
    );
  }

  private own<T extends vscode.Disposable>(...items: T[]): T {
    this.disposables.push(...items);
    return items[0];
  }

  dispose(): void {
    for (const d of this.disposables.reverse()) d.dispose();
  }
}

/** What activate() returns: for tests and other extensions. */
export interface WorkbenchApi {
  runs: RunService;
  runsView: RunsView;
  /** Settles once runs left behind by an earlier session have been reconciled with Docker. */
  reconciled: Promise<unknown>;
}

export function activate(context: vscode.ExtensionContext): WorkbenchApi {
  const workbench = new Workbench(context.extensionPath, context.extensionUri);
  context.subscriptions.push(workbench);
  // Off the activation path: Docker may be slow or absent, and activation must stay cheap.
  const reconciled = new Promise((resolve) => setTimeout(resolve, 0)).then(() => workbench.runs.reconcileAll());
  return { runs: workbench.runs, runsView: workbench.runsView, reconciled };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

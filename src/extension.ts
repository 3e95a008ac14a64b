import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from './views/commandIds';
import { cancelRun, rerunCommand, runAsExperiment, runAsExperimentWithConfig } from './views/runAsExperiment';
import { RunOutput } from './views/runOutput';
import { RunService } from './views/runService';
import { RunStatusBar } from './views/runStatusBar';
import { restoreSnapshot, showSnapshotDiff } from './views/snapshotCommands';

/** Composition root: owns every service; activation only wires things up (no Docker or disk work here). */
class Workbench implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly runs: RunService;

  constructor(extensionPath: string) {
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
  /** Settles once runs left behind by an earlier session have been reconciled with Docker. */
  reconciled: Promise<unknown>;
}

export function activate(context: vscode.ExtensionContext): WorkbenchApi {
  const workbench = new Workbench(context.extensionPath);
  context.subscriptions.push(workbench);
  // Off the activation path: Docker may be slow or absent, and activation must stay cheap.
  const reconciled = new Promise((resolve) => setTimeout(resolve, 0)).then(() => workbench.runs.reconcileAll());
  return { runs: workbench.runs, reconciled };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

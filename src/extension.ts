import * as vscode from 'vscode';
import { Commands } from './views/commandIds';
import { cancelRun, runAsExperiment } from './views/runAsExperiment';
import { RunOutput } from './views/runOutput';
import { RunService } from './views/runService';
import { RunStatusBar } from './views/runStatusBar';

/** Composition root: owns every service; activation only wires things up (no Docker or disk work here). */
class Workbench implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly runs: RunService;

  constructor() {
    const output = this.own(new RunOutput());
    const statusBar = this.own(new RunStatusBar());
    this.runs = this.own(new RunService(output, statusBar));
    this.own(
      vscode.commands.registerCommand(Commands.runAsExperiment, (uri?: unknown) => runAsExperiment(this.runs, uri)),
      vscode.commands.registerCommand(Commands.cancelRun, (runId?: unknown) => cancelRun(this.runs, runId)),
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
}

export function activate(context: vscode.ExtensionContext): WorkbenchApi {
  const workbench = new Workbench();
  context.subscriptions.push(workbench);
  return { runs: workbench.runs };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

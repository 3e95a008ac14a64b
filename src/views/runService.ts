import * as vscode from 'vscode';
import { RunRecord, isTerminal } from '../model/run';
import { RunStore } from '../model/runStore';
import { connectDocker } from '../runner/docker';
import { ExperimentRunner, RunHandle } from '../runner/experimentRunner';
import { RunOutput } from './runOutput';
import { RunStatusBar } from './runStatusBar';
import { readSettings } from './settings';

export interface ActiveRun {
  handle: RunHandle;
  script: string;
  folder: vscode.WorkspaceFolder;
}

/**
 * The editor's side of running experiments: one ExperimentRunner per workspace folder (and Docker host),
 * the set of active runs, and the output channel and status bar that follow them.
 */
export class RunService implements vscode.Disposable {
  private readonly runners = new Map<string, ExperimentRunner>();
  private readonly active = new Map<string, ActiveRun>();
  private readonly statusChanged = new vscode.EventEmitter<RunRecord>();
  readonly onDidChangeRun = this.statusChanged.event;

  constructor(
    readonly output: RunOutput,
    private readonly statusBar: RunStatusBar,
  ) {}

  runnerFor(folder: vscode.WorkspaceFolder): ExperimentRunner {
    const { dockerHost } = readSettings(folder.uri);
    const key = `${folder.uri.fsPath}\0${dockerHost}`;
    let runner = this.runners.get(key);
    if (!runner) {
      runner = new ExperimentRunner(connectDocker(dockerHost), new RunStore(folder.uri.fsPath));
      this.runners.set(key, runner);
    }
    return runner;
  }

  get activeRuns(): ActiveRun[] {
    return [...this.active.values()];
  }

  /** Submits a run; the promise resolves once it is recorded (Queued), with its handle. */
  async start(folder: vscode.WorkspaceFolder, script: vscode.Uri, args: string[], onStatus?: (run: RunRecord) => void): Promise<RunHandle> {
    const settings = readSettings(folder.uri);
    const runner = this.runnerFor(folder);
    const handle = await runner.submit(
      {
        workspaceRoot: folder.uri.fsPath,
        script: script.fsPath,
        args,
        baseImage: settings.baseImage,
        snapshotMaxBytes: settings.snapshotMaxBytes,
      },
      this.output.listener((run) => {
        onStatus?.(run);
        this.statusChanged.fire(run);
        if (isTerminal(run.status)) this.active.delete(run.id);
        this.refreshStatusBar();
      }),
    );
    this.active.set(handle.id, { handle, script: vscode.workspace.asRelativePath(script), folder });
    this.refreshStatusBar();
    void handle.done.then(() => {
      this.active.delete(handle.id);
      this.refreshStatusBar();
    });
    return handle;
  }

  private refreshStatusBar(): void {
    this.statusBar.update(this.activeRuns.map((r) => r.script));
  }

  dispose(): void {
    // Runs are detached containers: leaving VS Code does not stop them.
    this.statusChanged.dispose();
  }
}

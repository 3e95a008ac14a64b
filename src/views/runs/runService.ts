import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunOptions, RunRecord, isTerminal } from '../../model/runs/run';
import { connectDocker } from '../../runner/docker/client';
import { ExperimentRunner, RunHandle } from '../../runner/experimentRunner';
import { RunQueue } from '../../runner/runQueue';
import { RunOutput } from './runOutput';
import { RunStatusBar } from './runStatusBar';
import { readSettings } from '../common/settings';
import { WorkspaceRuns } from '../common/workspaceRuns';

export interface ActiveRun {
  handle: RunHandle;
  script: string;
  folder: vscode.WorkspaceFolder;
}

/**
 * The editor's side of running experiments: one ExperimentRunner per workspace folder (and Docker host),
 * writing through that folder's one store (WorkspaceRuns), sharing one queue (mlw.maxConcurrentRuns); the set
 * of active runs, and the output channel and status bar that follow them.
 */
export class RunService implements vscode.Disposable {
  private readonly runners = new Map<string, ExperimentRunner>();
  private readonly active = new Map<string, ActiveRun>();
  private readonly statusChanged = new vscode.EventEmitter<RunRecord>();
  private readonly queue = new RunQueue(readSettings().maxConcurrentRuns);
  private readonly configListener: vscode.Disposable;
  readonly onDidChangeRun = this.statusChanged.event;

  constructor(
    readonly runs: WorkspaceRuns,
    readonly output: RunOutput,
    private readonly statusBar: RunStatusBar,
    private readonly helperDir: string,
  ) {
    this.configListener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('mlw.maxConcurrentRuns')) this.queue.setLimit(readSettings().maxConcurrentRuns);
    });
  }

  runnerFor(folder: vscode.WorkspaceFolder): ExperimentRunner {
    const { dockerHost } = readSettings(folder.uri);
    const key = `${folder.uri.fsPath}\0${dockerHost}`;
    let runner = this.runners.get(key);
    if (!runner) {
      runner = new ExperimentRunner(connectDocker(dockerHost), this.runs.of(folder).store, { queue: this.queue, helperDir: this.helperDir });
      this.runners.set(key, runner);
    }
    return runner;
  }

  /** mlw.revealOutput of the run's folder is always or onFailure (the default). */
  private revealsOnFailure(run: RunRecord): boolean {
    const folder = [...this.active.values()].find((a) => a.handle.id === run.id)?.folder ?? vscode.workspace.workspaceFolders?.[0];
    return readSettings(folder?.uri).revealOutput !== 'never';
  }

  get activeRuns(): ActiveRun[] {
    return [...this.active.values()];
  }

  private track(onStatus?: (run: RunRecord) => void, onBuild?: (text: string) => void) {
    const listener = this.output.listener((run) => {
      onStatus?.(run);
      this.statusChanged.fire(run);
      if ((run.status === 'Failed' || run.status === 'Lost') && this.revealsOnFailure(run)) this.output.channel.show(true);
      if (isTerminal(run.status)) this.active.delete(run.id);
      this.refreshStatusBar();
    });
    if (!onBuild) return listener;
    return {
      ...listener,
      onBuildOutput: (id: string, text: string) => {
        listener.onBuildOutput?.(id, text);
        onBuild(text);
      },
    };
  }

  private adopt(handle: RunHandle, script: string, folder: vscode.WorkspaceFolder): RunHandle {
    this.active.set(handle.id, { handle, script, folder });
    this.refreshStatusBar();
    void handle.done.then(() => {
      this.active.delete(handle.id);
      this.refreshStatusBar();
    });
    return handle;
  }

  /** Submits a run; the promise resolves once it is recorded (Queued), with its handle. */
  async start(
    folder: vscode.WorkspaceFolder,
    script: vscode.Uri,
    args: string[],
    options: RunOptions | undefined,
    onStatus?: (run: RunRecord) => void,
    onBuild?: (text: string) => void,
  ): Promise<RunHandle> {
    const settings = readSettings(folder.uri);
    const handle = await this.runnerFor(folder).submit(
      { workspaceRoot: folder.uri.fsPath, script: script.fsPath, args, baseImage: settings.baseImage, snapshotMaxBytes: settings.snapshotMaxBytes, options },
      this.track(onStatus, onBuild),
    );
    return this.adopt(handle, vscode.workspace.asRelativePath(script), folder);
  }

  /** Reruns from the run's snapshot; `args` replaces its arguments (Modify and Rerun). */
  async rerun(folder: vscode.WorkspaceFolder, runId: string, onStatus?: (run: RunRecord) => void, args?: string[]): Promise<RunHandle> {
    const handle = await this.runnerFor(folder).rerun(runId, this.track(onStatus), args);
    const run = await this.runnerFor(folder).store.get(handle.id);
    return this.adopt(handle, run?.script ?? runId, folder);
  }

  async cancel(folder: vscode.WorkspaceFolder, runId: string): Promise<RunRecord | undefined> {
    return this.runnerFor(folder).cancel(runId);
  }

  /**
   * Reattaches to runs an earlier window (or a CLI that was killed) left Queued/Running: still running →
   * follow its logs without duplicating lines; ended while away → finalize; container gone → Lost.
   */
  async reconcileAll(): Promise<RunRecord[]> {
    const touched: RunRecord[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (!fs.existsSync(path.join(folder.uri.fsPath, '.mlw', 'runs'))) continue;
      const runner = this.runnerFor(folder);
      try {
        const runs = await runner.reconcile('attach', this.track());
        for (const run of runs) {
          const handle = runner.handle(run.id);
          if (handle) this.adopt(handle, run.script, folder);
        }
        touched.push(...runs);
      } catch (err) {
        this.output.channel.warn(`Could not reconcile runs of ${folder.name} with Docker: ${(err as Error).message}`);
      }
    }
    return touched;
  }

  private refreshStatusBar(): void {
    this.statusBar.update(this.activeRuns.map((r) => r.script));
  }

  dispose(): void {
    // Runs are detached containers: leaving VS Code does not stop them; the next window reattaches.
    this.configListener.dispose();
    this.statusChanged.dispose();
  }
}

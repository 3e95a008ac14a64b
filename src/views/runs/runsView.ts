import * as vscode from 'vscode';
import { connectDocker } from '../../runner/docker/client';
import { watchRunContainers } from '../../runner/docker/events';
import { readSettings } from '../common/settings';
import { RunFilter, describeFilter, isFilterActive } from './runFilter';
import { GroupBy, RunsNode, RunsTreeProvider } from './runsTree';

const DEBOUNCE_MS = 200;
const TICK_MS = 1000;

/**
 * Owns the Runs tree view and decides when it refreshes: on store changes (this window's runs), on run.json
 * changes from other processes (file watcher), on Docker events of run containers, debounced, and only while
 * the view is visible (a hidden view
 * is marked stale and refreshed when shown). Durations of running runs tick once a second while visible;
 * with nothing running there is no timer at all.
 */
export class RunsView implements vscode.Disposable {
  readonly provider: RunsTreeProvider;
  readonly view: vscode.TreeView<RunsNode>;
  private readonly disposables: vscode.Disposable[] = [];
  private stale = false;
  private debounce: NodeJS.Timeout | undefined;
  private tick: NodeJS.Timeout | undefined;
  private stopEvents: (() => void) | undefined;
  private subscribing = false;
  private readonly refreshed = new vscode.EventEmitter<void>();
  /** Fires after each refresh the view really did (tests wait on it). */
  readonly onDidRefresh = this.refreshed.event;

  constructor(output: vscode.LogOutputChannel, runChanges: vscode.Event<unknown>) {
    this.provider = new RunsTreeProvider((folder, err) => output.warn(`Runs view (${folder}): ${err.message}`));
    this.view = vscode.window.createTreeView('mlw.runs', { treeDataProvider: this.provider, canSelectMany: true, showCollapseAll: true });
    const watcher = vscode.workspace.createFileSystemWatcher('**/.mlw/runs/*/run.json');
    this.disposables.push(
      this.view,
      watcher,
      watcher.onDidChange(() => this.schedule()),
      watcher.onDidCreate(() => this.schedule()),
      watcher.onDidDelete(() => this.schedule()),
      runChanges(() => this.schedule()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('mlw.primaryMetric') && this.schedule()),
      this.view.onDidChangeVisibility((e) => {
        if (e.visible) {
          void this.followDockerEvents();
          if (this.stale) this.refreshNow();
        } else {
          this.stopEvents?.();
          this.stopEvents = undefined;
        }
      }),
    );
    void this.applyContext();
    if (this.view.visible) void this.followDockerEvents();
  }

  /**
   * Container start/die/oom events of runs, while the view is visible: they reach the tree even for runs
   * another process follows (or nobody does). Docker being absent is not an error here: the view still
   * refreshes from the store and tries again next time it is shown.
   */
  private async followDockerEvents(): Promise<void> {
    if (this.stopEvents || this.subscribing) return;
    this.subscribing = true;
    try {
      const docker = connectDocker(readSettings(vscode.workspace.workspaceFolders?.[0]?.uri).dockerHost);
      this.stopEvents = await watchRunContainers(docker, () => this.schedule(), () => (this.stopEvents = undefined));
    } catch {
      this.stopEvents = undefined;
    } finally {
      this.subscribing = false;
    }
  }

  /** Debounced refresh, or a stale mark while hidden. */
  schedule(): void {
    if (!this.view.visible) {
      this.stale = true;
      return;
    }
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.refreshNow(), DEBOUNCE_MS);
  }

  refreshNow(): void {
    this.stale = false;
    clearTimeout(this.debounce);
    this.provider.refresh();
    // The provider loads lazily; once the root is read again, decide about ticking.
    void this.provider.getChildren().then(() => {
      this.refreshed.fire();
      this.scheduleTick();
    });
  }

  private scheduleTick(): void {
    clearTimeout(this.tick);
    this.tick = undefined;
    const running = this.provider.loadedRuns().some((r) => r.status === 'Running');
    if (running && this.view.visible) this.tick = setTimeout(() => this.refreshNow(), TICK_MS);
  }

  setGroupBy(groupBy: GroupBy): void {
    this.provider.groupBy = groupBy;
    void this.applyContext();
    this.refreshNow();
  }

  setFilter(filter: RunFilter): void {
    this.provider.filter = filter;
    void this.applyContext();
    this.refreshNow();
  }

  private async applyContext(): Promise<void> {
    const f = this.provider.filter;
    this.view.message = isFilterActive(f) ? `Filtered: ${describeFilter(f)}` : undefined;
    await vscode.commands.executeCommand('setContext', 'mlw.runs.groupBy', this.provider.groupBy);
    await vscode.commands.executeCommand('setContext', 'mlw.runs.filtered', isFilterActive(f));
    await vscode.commands.executeCommand('setContext', 'mlw.runs.starredOnly', !!f.starredOnly);
  }

  dispose(): void {
    this.stopEvents?.();
    clearTimeout(this.debounce);
    clearTimeout(this.tick);
    this.refreshed.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

import * as vscode from 'vscode';
import { ContextKeys, ViewIds } from '../common/commandIds';
import { Disposable, DisposableLike } from '../common/disposable';
import type { WorkspaceRuns } from '../common/workspaceRuns';
import { RunFilter, describeFilter, isFilterActive } from './runFilter';
import { GroupBy, RunsNode, RunsTreeProvider } from './runsTree';

const TICK_MS = 1000;

/**
 * Owns the Runs tree view and decides when it refreshes: on the workspace's runs feed (this window's writes,
 * other processes' writes and Docker events, already debounced there), and only while the view is visible —
 * a hidden view lets go of the feed's watchers, is marked stale and refreshes when shown. Durations of running
 * runs tick once a second while visible; with nothing running there is no timer at all.
 */
export class RunsView extends Disposable {
  readonly provider: RunsTreeProvider;
  readonly view: vscode.TreeView<RunsNode>;
  private stale = false;
  private tick: NodeJS.Timeout | undefined;
  private watching: DisposableLike | undefined;
  private lastSelection: readonly RunsNode[] = [];
  private readonly refreshed = this._register(new vscode.EventEmitter<void>());
  /** Fires after each refresh the view really did (tests wait on it). */
  readonly onDidRefresh = this.refreshed.event;

  constructor(output: vscode.LogOutputChannel, private readonly runs: WorkspaceRuns) {
    super();
    this.provider = new RunsTreeProvider(runs, (folder, err) => output.warn(`Runs view (${folder}): ${err.message}`));
    this.view = this._register(vscode.window.createTreeView(ViewIds.runs, { treeDataProvider: this.provider, canSelectMany: true, showCollapseAll: true }));
    this._register(this.view.onDidChangeSelection((e) => (this.lastSelection = e.selection)));
    // Logs and outputs growing (change.files) change nothing the tree shows.
    this._register(runs.onDidChange((c) => (c.anything || c.ids.size || c.deleted.size) && this.schedule()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('mlw.primaryMetric') && this.schedule()));
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.followWhileVisible()));
    this._register(this.view.onDidChangeVisibility(() => {
      this.followWhileVisible();
      if (this.view.visible && this.stale) this.refreshNow();
    }));
    this._register({ dispose: () => {
      this.watching?.dispose();
      clearTimeout(this.tick);
    } });
    void this.applyContext();
    this.followWhileVisible();
  }

  /** Holds the feed's file watcher and Docker events of every folder while the view is shown, and only then. */
  private followWhileVisible(): void {
    this.watching?.dispose();
    this.watching = this.view.visible ? this.runs.watchAll() : undefined;
  }

  /**
   * An update now when visible (the feed has debounced already), or a stale mark while hidden. Updates tell the
   * workbench only about the rows that changed; see RunsTreeProvider.
   */
  schedule(): void {
    if (!this.view.visible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    clearTimeout(this.tick);
    this.tick = undefined;
    void this.provider.update().then(() => this.afterRefresh(), () => this.afterRefresh());
  }

  /** Everything again (the Refresh button, a new grouping or filter). */
  refreshNow(): void {
    this.stale = false;
    this.provider.refresh();
    // The provider loads lazily; once the root is read again, decide about ticking.
    void this.provider.getChildren().then(() => this.afterRefresh());
  }

  private afterRefresh(): void {
    this.refreshed.fire();
    this.scheduleTick();
  }

  private scheduleTick(): void {
    clearTimeout(this.tick);
    this.tick = undefined;
    const running = this.provider.loadedRuns().some((r) => r.status === 'Running');
    if (running && this.view.visible) this.tick = setTimeout(() => this.schedule(), TICK_MS);
  }

  /**
   * The run row a click opened: rows run their command without arguments, and the workbench sends the
   * selection before the command, so the selection is the clicked row. The last selection event covers the
   * moment the view's own elements are being re-read.
   */
  selectedRun(): Extract<RunsNode, { kind: 'run' }> | undefined {
    const pick = (nodes: readonly RunsNode[]) => {
      const runs = nodes.filter((n): n is Extract<RunsNode, { kind: 'run' }> => n.kind === 'run');
      return nodes.length === 1 && runs.length === 1 ? runs[0] : undefined;
    };
    return pick(this.view.selection) ?? pick(this.lastSelection);
  }

  selectedMore(): RunsNode | undefined {
    return [...this.view.selection, ...this.lastSelection].find((n) => n.kind === 'more');
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
    await vscode.commands.executeCommand('setContext', ContextKeys.runsGroupBy, this.provider.groupBy);
    await vscode.commands.executeCommand('setContext', ContextKeys.runsFiltered, isFilterActive(f));
    await vscode.commands.executeCommand('setContext', ContextKeys.runsStarredOnly, !!f.starredOnly);
  }
}



import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatDate, formatDuration, formatNumber } from '../../model/common/format';
import { RunStatus, durationMs } from '../../model/runs/run';
import type { RunSummary } from '../../model/runs/runIndex';
import { TRACKING_FILE, TrackingData, TrackingTail, applyEvents, emptyTracking } from '../../model/runs/tracking';
import { Commands } from '../common/commandIds';
import { readSettings } from '../common/settings';
import type { WorkspaceRuns } from '../common/workspaceRuns';
import { escapeMarkdown } from './markdown';
import { differingParams, labelsPart, paramsPart } from './runDescription';
import { RunFilter, matchesFilter } from './runFilter';

export type GroupBy = 'script' | 'config';
const PAGE = 50;

export type RunsNode =
  | { kind: 'folder'; folder: vscode.WorkspaceFolder }
  | { kind: 'group'; folder: vscode.WorkspaceFolder; key: string; runs: RunSummary[] }
  | { kind: 'run'; folder: vscode.WorkspaceFolder; id: string; run: RunSummary }
  | { kind: 'more'; folder: vscode.WorkspaceFolder; key: string; remaining: number };

const STATUS_ICONS: Record<RunStatus, [string, string?]> = {
  Queued: ['clock'],
  Running: ['sync~spin'],
  Completed: ['pass', 'testing.iconPassed'],
  Failed: ['error', 'testing.iconFailed'],
  Canceled: ['circle-slash', 'disabledForeground'],
  Lost: ['question', 'problemsWarningIcon.foreground'],
  // Its run.json cannot be used; the tooltip shows the reason.
  Unreadable: ['warning', 'problemsErrorIcon.foreground'],
};

function shortId(id: string): string {
  return `#${id.slice(-4)}`;
}

/** The metric a run is judged by in the tree: mlw.primaryMetric when the run has it, else its first metric. */
export function primaryMetric(run: Pick<RunSummary, 'metrics'>, preferred: string): [string, number] | undefined {
  const metrics = run.metrics ?? {};
  if (preferred && preferred in metrics) return [preferred, metrics[preferred]];
  const first = Object.keys(metrics)[0];
  return first === undefined ? undefined : [first, metrics[first]];
}

/** The latest value of each metric a running run has logged so far (its record holds metrics only once it ends). */
function latestMetrics(data: TrackingData): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, points] of Object.entries(data.metrics)) if (points.length) out[name] = points[points.length - 1].value;
  return out;
}

/** What the workbench shows of an item: when this is unchanged, the item is not sent again. */
function signature(item: vscode.TreeItem): string {
  const icon = item.iconPath instanceof vscode.ThemeIcon ? `${item.iconPath.id}:${item.iconPath.color?.id ?? ''}` : '';
  const tooltip = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : item.tooltip;
  return JSON.stringify([item.label, item.description, item.contextValue, icon, tooltip, item.collapsibleState]);
}

/**
 * The Runs tree: experiments (grouped by script or run configuration) → runs, newest first, paged. A thin
 * provider: data comes from each folder's run index (plain summaries), mapped to TreeItems here; RunsView
 * decides when to refresh.
 *
 * Elements are stable objects, one per tree id, updated in place: `update()` re-reads the runs and tells the
 * workbench only about the items whose look or children changed. A full refresh makes the workbench drop and
 * re-create every item, and with them the command each row runs on click, so a click landing during one was lost
 * or failed with "Actual command not found" (issue 10). Rows also run their click command without arguments (the
 * view resolves the clicked run from the selection), so no per-item command handle exists to go stale.
 */
export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode> {
  private readonly changed = new vscode.EventEmitter<RunsNode | RunsNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private cache = new Map<string, RunSummary[]>();
  private loading: Promise<void> | undefined;
  private updating: Promise<unknown> = Promise.resolve();
  private readonly shown = new Map<string, number>();
  /** One element object per node key, reused across refreshes (the workbench knows elements by identity). */
  private readonly nodes = new Map<string, RunsNode>();
  /** Per parent key ('' for the root), the child keys last handed to the workbench. */
  private readonly handedChildren = new Map<string, string>();
  /** Per node key, the signature of the item last handed to the workbench. */
  private readonly handedItems = new Map<string, string>();
  /** Tracking events of running runs, read incrementally, for their latest metric. */
  private readonly live = new Map<string, { tail: TrackingTail; data: TrackingData }>();
  /** Differing params per group key, computed over the whole group (not only the page shown). */
  private readonly differing = new Map<string, string[]>();
  groupBy: GroupBy = 'script';
  filter: RunFilter = {};

  constructor(
    private readonly runs: WorkspaceRuns,
    private readonly onLoadError: (folder: string, err: Error) => void,
  ) {}

  /** Everything again (group-by or filter changed, the Refresh button): the workbench re-creates every item. */
  refresh(): void {
    this.cache.clear();
    this.refreshAll();
  }

  /**
   * Re-reads the runs and fires change events only for what looks different: a run row whose status,
   * duration or metric changed, a group whose runs changed, the root when groups came or went.
   * Resolves once the events are fired; returns how many elements were refreshed (-1: the whole tree).
   */
  update(): Promise<number> {
    const next = this.updating.then(() => this.updateNow());
    this.updating = next.catch(() => undefined);
    return next;
  }

  private async updateNow(): Promise<number> {
    // A read already under way may predate the change that asked for this update: read again after it.
    await this.loading?.catch(() => undefined);
    this.cache.clear();
    await this.ensureLoaded();
    await this.pollLive();
    const parents = [...this.handedChildren.keys()];
    const changedKeys = new Set<string>();
    for (const parentKey of parents) {
      const parent = parentKey ? this.nodes.get(parentKey) : undefined;
      if (parentKey && !parent) continue;
      const next = this.childrenNow(parent).map((n) => this.keyOf(n)).join('\n');
      if (next !== this.handedChildren.get(parentKey)) {
        if (!parentKey) {
          this.refreshAll();
          return -1;
        }
        changedKeys.add(parentKey);
      }
    }
    for (const [key, sig] of this.handedItems) {
      const node = this.nodes.get(key);
      if (node && signature(this.getTreeItem(node, false)) !== sig) changedKeys.add(key);
    }
    const elements = [...changedKeys].map((k) => this.nodes.get(k)).filter((n): n is RunsNode => !!n);
    if (elements.length) this.changed.fire(elements);
    return elements.length;
  }

  private refreshAll(): void {
    // The workbench forgets every element on a full refresh; so do we (deleted runs' elements go with it).
    this.nodes.clear();
    this.handedChildren.clear();
    this.handedItems.clear();
    this.changed.fire(undefined);
  }

  /** Loads each folder's runs once per refresh (concurrent callers share the read). */
  private ensureLoaded(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.every((f) => this.cache.has(f.uri.fsPath))) return Promise.resolve();
    if (!this.loading) {
      this.loading = (async () => {
        for (const folder of folders) {
          const runs = await this.runs.of(folder).list((id, err) => this.onLoadError(folder.name, new Error(`run ${id}: ${err.message}`)));
          this.cache.set(folder.uri.fsPath, runs);
        }
        this.forgetLiveOf(this.loadedRuns());
        await this.pollLive();
      })().finally(() => (this.loading = undefined));
    }
    return this.loading;
  }

  /** Runs of a folder as the tree sees them (filter applied), loading the index once per refresh. */
  async runsOf(folder: vscode.WorkspaceFolder): Promise<RunSummary[]> {
    await this.ensureLoaded();
    return (this.cache.get(folder.uri.fsPath) ?? []).filter((r) => matchesFilter(r, this.filter));
  }

  /** Every run currently loaded, unfiltered (for the view's live ticking and tests). */
  loadedRuns(): RunSummary[] {
    return [...this.cache.values()].flat();
  }

  /** The folder a loaded run belongs to. */
  folderOf(runId: string): vscode.WorkspaceFolder | undefined {
    const folders = vscode.workspace.workspaceFolders ?? [];
    return folders.find((f) => this.cache.get(f.uri.fsPath)?.some((r) => r.id === runId));
  }

  loadMore(node: RunsNode): void {
    if (node.kind !== 'more') return;
    const key = `${node.folder.uri.fsPath}\0${node.key}`;
    this.shown.set(key, (this.shown.get(key) ?? PAGE) + PAGE);
    const group = this.nodes.get(`group:${node.folder.uri.fsPath}:${this.groupBy}:${node.key}`);
    this.changed.fire(group ? [group] : undefined);
  }

  private async pollLive(): Promise<void> {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      for (const run of this.cache.get(folder.uri.fsPath) ?? []) {
        if (run.status !== 'Running') continue;
        let entry = this.live.get(run.id);
        if (!entry) {
          const file = path.join(this.runs.of(folder).store.paths(run.id).tracking, TRACKING_FILE);
          this.live.set(run.id, (entry = { tail: new TrackingTail(file), data: emptyTracking() }));
        }
        applyEvents(entry.data, await entry.tail.poll().catch(() => []));
      }
    }
  }

  private forgetLiveOf(runs: RunSummary[]): void {
    const running = new Set(runs.filter((r) => r.status === 'Running').map((r) => r.id));
    for (const id of this.live.keys()) if (!running.has(id)) this.live.delete(id);
  }

  private keyOf(node: RunsNode): string {
    switch (node.kind) {
      case 'folder': return `folder:${node.folder.uri.fsPath}`;
      case 'group': return `group:${node.folder.uri.fsPath}:${this.groupBy}:${node.key}`;
      case 'run': return `run:${node.folder.uri.fsPath}:${node.id}`;
      case 'more': return `more:${node.folder.uri.fsPath}:${this.groupBy}:${node.key}`;
    }
  }

  /** The stable element for `fresh`'s key, updated with fresh's data. */
  private stable<T extends RunsNode>(fresh: T): T {
    const key = this.keyOf(fresh);
    const existing = this.nodes.get(key) as T | undefined;
    if (!existing) {
      this.nodes.set(key, fresh);
      return fresh;
    }
    Object.assign(existing, fresh);
    return existing;
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    await this.ensureLoaded();
    const children = this.childrenNow(node);
    this.handedChildren.set(node ? this.keyOf(node) : '', children.map((n) => this.keyOf(n)).join('\n'));
    return children;
  }

  /** The children from what is loaded, as stable elements. */
  private childrenNow(node?: RunsNode): RunsNode[] {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (!node) {
      if (folders.length > 1) return folders.map((folder) => this.stable({ kind: 'folder' as const, folder }));
      return folders.length ? this.groups(folders[0]) : [];
    }
    if (node.kind === 'folder') return this.groups(node.folder);
    if (node.kind === 'group') {
      const key = `${node.folder.uri.fsPath}\0${node.key}`;
      const limit = this.shown.get(key) ?? PAGE;
      const page: RunsNode[] = node.runs.slice(0, limit).map((run) => this.stable({ kind: 'run' as const, folder: node.folder, id: run.id, run }));
      if (node.runs.length > limit) page.push(this.stable({ kind: 'more', folder: node.folder, key: node.key, remaining: node.runs.length - limit }));
      return page;
    }
    return [];
  }

  private groups(folder: vscode.WorkspaceFolder): RunsNode[] {
    const byKey = new Map<string, RunSummary[]>();
    const runs = (this.cache.get(folder.uri.fsPath) ?? []).filter((r) => matchesFilter(r, this.filter));
    for (const run of runs) {
      const key = this.groupBy === 'config' ? run.configName ?? '(no run configuration)' : run.script;
      const list = byKey.get(key);
      if (list) list.push(run);
      else byKey.set(key, [run]);
    }
    // Runs arrive newest first, so each group's first run is its latest: groups with recent work come first.
    return [...byKey.entries()]
      .sort((a, b) => b[1][0].createdAt.localeCompare(a[1][0].createdAt))
      .map(([key, groupRuns]) => {
        const group = this.stable({ kind: 'group' as const, folder, key, runs: groupRuns });
        this.differing.set(this.keyOf(group), differingParams(groupRuns));
        return group;
      });
  }

  getTreeItem(node: RunsNode, handed = true): vscode.TreeItem {
    const item = this.makeItem(node);
    if (handed) this.handedItems.set(this.keyOf(node), signature(item));
    return item;
  }

  private makeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'folder': {
        const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = this.keyOf(node);
        item.iconPath = vscode.ThemeIcon.Folder;
        item.contextValue = 'folder';
        return item;
      }
      case 'group': {
        const item = new vscode.TreeItem(node.key, vscode.TreeItemCollapsibleState.Expanded);
        item.id = this.keyOf(node);
        item.iconPath = new vscode.ThemeIcon(this.groupBy === 'config' ? 'settings-gear' : 'beaker');
        const running = node.runs.filter((r) => r.status === 'Running').length;
        item.description = `${node.runs.length} run${node.runs.length === 1 ? '' : 's'}${running ? ` · ${running} running` : ''}`;
        item.contextValue = 'experiment';
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Load more… (${node.remaining} older)`, vscode.TreeItemCollapsibleState.None);
        item.id = this.keyOf(node);
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        // No arguments: the view loads more of the selected "more" row (see the class comment).
        item.command = { command: Commands.loadMoreRuns, title: 'Load more' };
        item.contextValue = 'loadMore';
        return item;
      }
      case 'run':
        return this.runItem(node);
    }
  }

  private groupKeyOf(node: Extract<RunsNode, { kind: 'run' }>): string {
    const key = this.groupBy === 'config' ? node.run.configName ?? '(no run configuration)' : node.run.script;
    return `group:${node.folder.uri.fsPath}:${this.groupBy}:${key}`;
  }

  private runItem(node: Extract<RunsNode, { kind: 'run' }>): vscode.TreeItem {
    const run = node.run;
    const item = new vscode.TreeItem(run.name || shortId(run.id), vscode.TreeItemCollapsibleState.None);
    item.id = this.keyOf(node);
    const [icon, color] = STATUS_ICONS[run.status] ?? ['circle-outline'];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const preferred = readSettings(node.folder.uri).primaryMetric;
    const live = run.status === 'Running' ? this.live.get(run.id) : undefined;
    const metric = primaryMetric(live ? { metrics: latestMetrics(live.data) } : run, preferred);
    item.description = [
      run.starred ? '★' : '',
      run.name ? shortId(run.id) : '',
      paramsPart(run, this.differing.get(this.groupKeyOf(node)) ?? []),
      labelsPart(run),
      run.status === 'Queued' ? 'queued' : formatDuration(durationMs(run)),
      metric ? `${metric[0]} ${formatNumber(metric[1])}` : '',
      formatDate(run.createdAt),
    ].filter(Boolean).join(' · ');
    item.tooltip = this.tooltip(run);
    // State in contextValue, matched with viewItem =~ in package.json menus.
    item.contextValue = `run.${run.status.toLowerCase()}${run.starred ? '.starred' : ''}`;
    // No arguments: the view opens the selected run (see the class comment).
    item.command = { command: Commands.openSelectedRun, title: 'Open Run Details' };
    return item;
  }

  /** Every run-provided string (names, values, labels, reasons) is escaped: a script must not inject links or images. */
  private tooltip(run: RunSummary): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    const t = escapeMarkdown;
    md.appendMarkdown(`**${run.name ? `${t(run.name)} (${shortId(run.id)})` : run.id}** — $(${STATUS_ICONS[run.status]?.[0] ?? 'circle'}) ${run.status}\n\n`);
    md.appendMarkdown(`${t(`${run.script}${run.args?.length ? ' ' + run.args.join(' ') : ''}`, true)}${run.configName ? ` · config **${t(run.configName)}**` : ''}\n\n`);
    if (run.reason) md.appendMarkdown(`${t(run.reason, true)}\n\n`);
    const params = Object.entries(run.params ?? {});
    if (params.length) md.appendMarkdown(`**Params:** ${params.map(([k, v]) => `${t(k)}=${t(JSON.stringify(v))}`).join(', ')}\n\n`);
    const metrics = Object.entries(run.metrics ?? {});
    if (metrics.length) md.appendMarkdown(`**Metrics:** ${metrics.map(([k, v]) => `${t(k)}=${formatNumber(v)}`).join(', ')}\n\n`);
    if (run.commit) md.appendMarkdown(`**Commit:** ${t(run.commit.slice(0, 10))}${run.branch ? ` on ${t(run.branch)}` : ''}${run.dirty ? ' (uncommitted changes)' : ''}\n\n`);
    if (run.image) md.appendMarkdown(`**Image:** ${t(run.image)}\n\n`);
    if (run.labels?.length) md.appendMarkdown(`**Labels:** ${run.labels.map((l) => t(l)).join(', ')}\n\n`);
    if (run.parentId) md.appendMarkdown(`Rerun of ${t(run.parentId)}\n\n`);
    md.appendMarkdown(`Created ${formatDate(run.createdAt)}`);
    return md;
  }
}

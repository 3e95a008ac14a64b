import * as vscode from 'vscode';
import { formatDuration, formatNumber } from '../../model/common/format';
import { RunStatus, durationMs } from '../../model/runs/run';
import type { RunSummary } from '../../model/runs/runIndex';
import { Commands } from '../common/commandIds';
import { readSettings } from '../common/settings';
import type { WorkspaceRuns } from '../common/workspaceRuns';
import { escapeMarkdown } from './markdown';
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
export function primaryMetric(run: RunSummary, preferred: string): [string, number] | undefined {
  const metrics = run.metrics ?? {};
  if (preferred && preferred in metrics) return [preferred, metrics[preferred]];
  const first = Object.keys(metrics)[0];
  return first === undefined ? undefined : [first, metrics[first]];
}

/**
 * The Runs tree: experiments (grouped by script or run configuration) → runs, newest first, paged. A thin
 * provider: data comes from each folder's run index (plain summaries), mapped to TreeItems here; RunsView
 * decides when to refresh.
 */
export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode> {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private cache = new Map<string, RunSummary[]>();
  private readonly shown = new Map<string, number>();
  groupBy: GroupBy = 'script';
  filter: RunFilter = {};

  constructor(
    private readonly runs: WorkspaceRuns,
    private readonly onLoadError: (folder: string, err: Error) => void,
  ) {}

  refresh(): void {
    this.cache.clear();
    this.changed.fire(undefined);
  }

  /** Runs of a folder as the tree sees them (filter applied), loading the index once per refresh. */
  async runsOf(folder: vscode.WorkspaceFolder): Promise<RunSummary[]> {
    let runs = this.cache.get(folder.uri.fsPath);
    if (!runs) {
      runs = await this.runs.of(folder).list((id, err) => this.onLoadError(folder.name, new Error(`run ${id}: ${err.message}`)));
      this.cache.set(folder.uri.fsPath, runs);
    }
    return runs.filter((r) => matchesFilter(r, this.filter));
  }

  /** Every run currently loaded, unfiltered (for the view's live ticking and tests). */
  loadedRuns(): RunSummary[] {
    return [...this.cache.values()].flat();
  }

  loadMore(node: RunsNode): void {
    if (node.kind !== 'more') return;
    const key = `${node.folder.uri.fsPath}\0${node.key}`;
    this.shown.set(key, (this.shown.get(key) ?? PAGE) + PAGE);
    this.changed.fire(undefined);
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (!node) {
      if (folders.length > 1) return folders.map((folder) => ({ kind: 'folder' as const, folder }));
      return folders.length ? this.groups(folders[0]) : [];
    }
    if (node.kind === 'folder') return this.groups(node.folder);
    if (node.kind === 'group') {
      const key = `${node.folder.uri.fsPath}\0${node.key}`;
      const limit = this.shown.get(key) ?? PAGE;
      const page: RunsNode[] = node.runs.slice(0, limit).map((run) => ({ kind: 'run' as const, folder: node.folder, id: run.id, run }));
      if (node.runs.length > limit) page.push({ kind: 'more', folder: node.folder, key: node.key, remaining: node.runs.length - limit });
      return page;
    }
    return [];
  }

  private async groups(folder: vscode.WorkspaceFolder): Promise<RunsNode[]> {
    const byKey = new Map<string, RunSummary[]>();
    for (const run of await this.runsOf(folder)) {
      const key = this.groupBy === 'config' ? run.configName ?? '(no run configuration)' : run.script;
      const list = byKey.get(key);
      if (list) list.push(run);
      else byKey.set(key, [run]);
    }
    // Runs arrive newest first, so each group's first run is its latest: groups with recent work come first.
    return [...byKey.entries()]
      .sort((a, b) => b[1][0].createdAt.localeCompare(a[1][0].createdAt))
      .map(([key, runs]) => ({ kind: 'group' as const, folder, key, runs }));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'folder': {
        const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = vscode.ThemeIcon.Folder;
        item.contextValue = 'folder';
        return item;
      }
      case 'group': {
        const item = new vscode.TreeItem(node.key, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.folder.uri.fsPath}:${this.groupBy}:${node.key}`;
        item.iconPath = new vscode.ThemeIcon(this.groupBy === 'config' ? 'settings-gear' : 'beaker');
        const running = node.runs.filter((r) => r.status === 'Running').length;
        item.description = `${node.runs.length} run${node.runs.length === 1 ? '' : 's'}${running ? ` · ${running} running` : ''}`;
        item.contextValue = 'experiment';
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Load more… (${node.remaining} older)`, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: Commands.loadMoreRuns, title: 'Load more', arguments: [node] };
        item.contextValue = 'loadMore';
        return item;
      }
      case 'run':
        return this.runItem(node);
    }
  }

  private runItem(node: Extract<RunsNode, { kind: 'run' }>): vscode.TreeItem {
    const run = node.run;
    const item = new vscode.TreeItem(run.name || shortId(run.id), vscode.TreeItemCollapsibleState.None);
    item.id = `run:${node.folder.uri.fsPath}:${run.id}`;
    const [icon, color] = STATUS_ICONS[run.status] ?? ['circle-outline'];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const preferred = readSettings(node.folder.uri).primaryMetric;
    const metric = primaryMetric(run, preferred);
    item.description = [
      run.starred ? '★' : '',
      run.status === 'Queued' ? 'queued' : formatDuration(durationMs(run)),
      metric ? `${metric[0]} ${formatNumber(metric[1])}` : '',
      new Date(run.createdAt).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }),
    ].filter(Boolean).join(' · ');
    item.tooltip = this.tooltip(run);
    // State in contextValue, matched with viewItem =~ in package.json menus.
    item.contextValue = `run.${run.status.toLowerCase()}${run.starred ? '.starred' : ''}`;
    item.command = { command: Commands.openRunDetails, title: 'Open Run Details', arguments: [run.id] };
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
    return md;
  }

}

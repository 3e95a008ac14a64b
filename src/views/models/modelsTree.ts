import * as vscode from 'vscode';
import { formatDate, formatNumber } from '../../model/common/format';
import { showControls } from '../../model/common/terminalText';
import type { ModelSummary } from '../../model/models/modelRegistry';
import { ModelVersion, formatModelRef, keyMetricOf } from '../../model/models/modelVersion';
import type { WorkspaceModels } from '../common/workspaceModels';

export type ModelsNode =
  | { kind: 'model'; folder: vscode.WorkspaceFolder; name: string; summary: ModelSummary }
  | { kind: 'version'; folder: vscode.WorkspaceFolder; name: string; version: number; model: ModelVersion; aliases: string[] };

/** The Models view's rows: each model, then its versions newest first, with aliases and the key metric. */
export class ModelsTreeProvider implements vscode.TreeDataProvider<ModelsNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly models: WorkspaceModels, private readonly onError: (folder: string, err: Error) => void) {}

  refresh(): void {
    this.changed.fire();
  }

  async getChildren(node?: ModelsNode): Promise<ModelsNode[]> {
    if (!node) {
      const out: ModelsNode[] = [];
      for (const { folder, registry } of this.models.all()) {
        const list = await registry.list().catch((err: Error) => (this.onError(folder.name, err), []));
        for (const summary of list) out.push({ kind: 'model', folder, name: summary.name, summary });
      }
      return out;
    }
    if (node.kind === 'model') {
      return node.summary.versions.map((model) => ({
        kind: 'version', folder: node.folder, name: node.name, version: model.version, model,
        aliases: Object.entries(node.summary.aliases).filter(([, v]) => v === model.version).map(([a]) => a),
      }));
    }
    return [];
  }

  getTreeItem(node: ModelsNode): vscode.TreeItem {
    if (node.kind === 'model') {
      const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Expanded);
      const n = node.summary.versions.length;
      const aliases = Object.entries(node.summary.aliases).map(([a, v]) => `@${a}→${v}`);
      item.description = [`${n} version${n === 1 ? '' : 's'}`, ...aliases].join(' · ');
      item.iconPath = new vscode.ThemeIcon('package');
      item.contextValue = 'model';
      item.id = `${node.folder.uri.toString()}|${node.name}`;
      return item;
    }
    const v = node.model;
    const item = new vscode.TreeItem(`v${v.version}`, vscode.TreeItemCollapsibleState.None);
    const metric = keyMetricOf(v, vscode.workspace.getConfiguration('mlw', node.folder.uri).get<string>('primaryMetric') ?? '');
    const parts = [...node.aliases.map((a) => `@${a}`)];
    if (metric) parts.push(`${metric.name} ${formatNumber(metric.value)}`);
    parts.push(v.source.kind === 'run' ? `run #${v.source.runId.slice(-4)}` : v.source.path);
    item.description = showControls(parts.join(' · '));
    item.tooltip = versionTooltip(v, node.aliases);
    item.iconPath = new vscode.ThemeIcon(node.aliases.length ? 'verified' : 'circle-outline');
    item.contextValue = v.source.kind === 'run' ? 'modelVersion.run' : 'modelVersion.file';
    item.id = `${node.folder.uri.toString()}|${node.name}|${v.version}`;
    return item;
  }
}

/** Lineage as plain text in a Markdown tooltip: every value came from a script or a user, none is markup. */
function versionTooltip(v: ModelVersion, aliases: string[]): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  const line = (label: string, value: string) => {
    md.appendMarkdown(`**${label}** `);
    md.appendText(showControls(value));
    md.appendMarkdown('  \n');
  };
  line('Model', `${formatModelRef(v)}${aliases.length ? ` (${aliases.map((a) => '@' + a).join(', ')})` : ''}`);
  line('Registered', formatDate(v.createdAt));
  if (v.description) line('About', v.description);
  const s = v.source;
  if (s.kind === 'run') {
    line('Run', `${s.runId} — ${s.script}${s.args.length ? ' ' + s.args.join(' ') : ''}`);
    if (s.commit) line('Commit', `${s.commit.slice(0, 10)}${s.dirty ? ' (uncommitted changes)' : ''}`);
    const params = Object.entries(s.params).map(([k, val]) => `${k}=${typeof val === 'string' ? val : JSON.stringify(val)}`);
    if (params.length) line('Params', params.join(', '));
    const metrics = Object.entries(s.metrics).map(([k, val]) => `${k}=${formatNumber(val)}`);
    if (metrics.length) line('Metrics', metrics.join(', '));
  } else {
    line('File', s.path);
  }
  line('Files', v.files.map((f) => f.path).join(', '));
  line('Scoring', v.score ? v.score.path : 'built-in scorer');
  return md;
}

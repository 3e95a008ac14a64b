/**
 * CodeLens above Python scripts that have runs: "▶ Run as Experiment" runs it, "12 runs · best accuracy 0.973"
 * opens the Runs view filtered to the script. Summaries come from the run index (no run.json reads) and are
 * read again only after the runs change feed says something changed; `mlw.codeLens.enabled` turns it off.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunSummary } from '../../model/runs/runIndex';
import { UserFacingError } from '../../model/common/errors';
import { Commands, ViewIds } from '../common/commandIds';
import { readSettings } from '../common/settings';
import { Disposable, DisposableLike, toDisposable } from '../common/disposable';
import type { WorkspaceRuns } from '../common/workspaceRuns';
import { resolveGoal } from '../protocol/compareData';
import type { RunsView } from '../runs/runsView';

export interface ScriptRunsLens {
  count: number;
  best?: { metric: string; value: number };
}

/** The second lens's title: "12 runs · best accuracy 0.973" (or just "1 run" before any metric is logged). */
export function scriptLensTitle(lens: ScriptRunsLens): string {
  const runs = `${lens.count} ${lens.count === 1 ? 'run' : 'runs'}`;
  return lens.best ? `${runs} · best ${lens.best.metric} ${formatMetric(lens.best.value)}` : runs;
}

function formatMetric(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/**
 * The script's run count and its best value of the primary metric (mlw.primaryMetric when some run logged it,
 * else the first metric of the newest run that logged one), judged by the metric's goal.
 */
export function summarizeScriptRuns(runs: readonly RunSummary[], preferred: string, goals: Record<string, unknown>): ScriptRunsLens {
  const withMetrics = runs.filter((r) => r.metrics && Object.keys(r.metrics).length > 0);
  const metric = preferred && withMetrics.some((r) => Object.hasOwn(r.metrics!, preferred)) ? preferred : Object.keys(withMetrics[0]?.metrics ?? {})[0];
  if (metric === undefined) return { count: runs.length };
  const { goal } = resolveGoal(metric, [], goals);
  let best: number | undefined;
  for (const r of withMetrics) {
    const v = Object.hasOwn(r.metrics!, metric) ? r.metrics![metric] : NaN;
    if (!Number.isFinite(v)) continue;
    if (best === undefined || (goal === 'max' ? v > best : v < best)) best = v;
  }
  return { count: runs.length, best: best === undefined ? undefined : { metric, value: best } };
}

export class ScriptCodeLens extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly summaries = new Map<string, Promise<RunSummary[]>>();
  /** Folders whose scripts showed lenses: while one of their Python files is visible, their runs are watched. */
  private readonly lensed = new Set<string>();
  private readonly held = new Map<string, DisposableLike>();

  constructor(private readonly runs: WorkspaceRuns) {
    super();
    this._register(runs.onDidChange((change) => {
      this.summaries.delete(change.folder.uri.toString());
      this.changed.fire();
    }));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('mlw.codeLens.enabled')) this.updateWatches();
      if (e.affectsConfiguration('mlw.codeLens.enabled') || e.affectsConfiguration('mlw.primaryMetric') || e.affectsConfiguration('mlw.metricGoals')) this.changed.fire();
    }));
    this._register(vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file' }, this));
    this._register(vscode.window.onDidChangeVisibleTextEditors(() => this.updateWatches()));
    this._register(toDisposable(() => {
      for (const h of this.held.values()) h.dispose();
      this.held.clear();
    }));
  }

  /**
   * Runs written by other processes (the CLI, another window) reach the feed only while someone watches the
   * folder; a visible script with lenses is such a watcher, as the Runs view is while shown.
   */
  private updateWatches(): void {
    if (this.isDisposed) return;
    const wanted = new Set<string>();
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.languageId !== 'python') continue;
      const folder = vscode.workspace.getWorkspaceFolder(editor.document.uri);
      const key = folder?.uri.toString();
      if (key && this.lensed.has(key) && readSettings(editor.document.uri).codeLensEnabled) {
        wanted.add(key);
        if (!this.held.has(key)) this.held.set(key, this.runs.of(folder!).watch());
      }
    }
    for (const [key, hold] of this.held) {
      if (wanted.has(key)) continue;
      hold.dispose();
      this.held.delete(key);
    }
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const settings = readSettings(doc.uri);
    if (!settings.codeLensEnabled) return [];
    const owner = this.runs.forUri(doc.uri);
    if (!owner) return [];
    const script = path.relative(owner.folder.uri.fsPath, doc.uri.fsPath).split(path.sep).join('/');
    const key = owner.folder.uri.toString();
    let list = this.summaries.get(key);
    if (!list) {
      list = owner.list().catch(() => []);
      this.summaries.set(key, list);
    }
    const mine = (await list).filter((r) => r.script === script);
    if (mine.length === 0) return [];
    if (!this.lensed.has(key)) {
      this.lensed.add(key);
      this.updateWatches();
    }
    const lens = summarizeScriptRuns(mine, settings.primaryMetric, settings.metricGoals);
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, { title: '▶ Run as Experiment', command: Commands.runAsExperiment, arguments: [doc.uri] }),
      new vscode.CodeLens(top, { title: scriptLensTitle(lens), tooltip: `Show the runs of ${script} in the Runs view`, command: Commands.showScriptRuns, arguments: [doc.uri] }),
    ];
  }
}

/** The Runs view, filtered to the script's runs (by its workspace-relative path). */
export async function showScriptRuns(view: Pick<RunsView, 'setFilter'>, uri?: unknown): Promise<string | undefined> {
  const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
  if (!target) throw new UserFacingError('Open a Python script to see its runs.');
  const folder = vscode.workspace.getWorkspaceFolder(target);
  if (!folder) throw new UserFacingError(`${path.basename(target.fsPath)} is not in a workspace folder, so it has no runs.`);
  const script = path.relative(folder.uri.fsPath, target.fsPath).split(path.sep).join('/');
  view.setFilter({ text: script });
  await vscode.commands.executeCommand(`${ViewIds.runs}.focus`);
  return script;
}

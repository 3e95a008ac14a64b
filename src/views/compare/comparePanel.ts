/**
 * The Compare Runs webview panel: one for the window, comparing two or more runs of a workspace folder with
 * vega-lite charts (metrics over steps, final metrics, parallel coordinates, scatter) and a table. The extension
 * pushes the full state (src/views/protocol/compare.ts) and, while runs are live, `append` messages with new
 * metric points; the webview only sends intents, each validated here before use. The lifecycle (handshake,
 * refresh, poll, outcomes) is PanelHost's; this file says what to load and do.
 */
import { formatDate } from '../../model/common/format';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunRecord, isTerminal } from '../../model/runs/run';
import { TRACKING_FILE, TrackingData, TrackingTail, applyEvents, emptyTracking, readTracking } from '../../model/runs/tracking';
import { Commands } from '../common/commandIds';
import { Disposable, DisposableLike, toDisposable } from '../common/disposable';
import { Loaded, PanelContext, PanelHost, createWebviewPanel, registerPanelSerializer } from '../common/panelHost';
import { pickRun } from '../common/runPicker';
import { readSettings } from '../common/settings';
import type { FolderRuns } from '../common/workspaceRuns';
import { HandledMessage as Handled, isRunId, toDisplayNumber } from '../protocol/common';
import {
  COMPARE_VIEW_TYPE,
  CompareState,
  CompareView,
  ExportFormat,
  FromWebview,
  ToWebview,
  comparePage,
  parseFromWebview,
  parseWebviewState,
} from '../protocol/compare';
import { appendedPoints, buildCompareState, pickBestRun, primaryMetricOf, resolveGoal, tableToCsv, trackingStart } from '../protocol/compareData';

/** What happened to a message from the webview (for logs and tests). */
export type HandledMessage = Handled<FromWebview>;

const EXPORT_TIMEOUT_MS = 30_000;

interface Followed {
  record?: RunRecord;
  tracking: TrackingData;
  tail: TrackingTail;
  t0?: number;
}

function safeFileName(text: string): string {
  return text.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'chart';
}

function titleOf(count: number): string {
  return `Compare ${count === 1 ? '1 run' : `${count} runs`}`;
}

export class ComparePanel extends PanelHost<CompareState, FromWebview, ToWebview> {
  static readonly viewType = COMPARE_VIEW_TYPE;

  private followed = new Map<string, Followed>();
  /** Points of each run's metric the webview has (in the posted state or appends), keyed run id + NUL + metric. */
  private sentPoints = new Map<string, number>();
  private _lastAppended?: Extract<FromWebview, { type: 'appended' }>;
  private view?: CompareView;
  private requestSeq = 0;
  private readonly pendingExports = new Map<number, (m: Extract<FromWebview, { type: 'exportChart' }>) => void>();
  private readonly saveTargets: vscode.Uri[] = [];
  private feed?: DisposableLike;

  constructor(
    panel: vscode.WebviewPanel,
    ctx: PanelContext,
    private _owner: FolderRuns,
    runIds: readonly string[],
    view?: CompareView,
  ) {
    super(panel, {
      viewType: COMPARE_VIEW_TYPE,
      name: 'compare panel',
      page: comparePage(_owner.folder.uri.toString(), [...new Set(runIds)]),
      parse: parseFromWebview,
      extensionUri: ctx.extensionUri,
      log: ctx.log,
    });
    this.view = view;
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('mlw.metricGoals', this.folder.uri)) this.scheduleRefresh(0, true);
    }));
    this._register(toDisposable(() => this.feed?.dispose()));
    this.follow(runIds);
    this.start();
  }

  get owner(): FolderRuns {
    return this._owner;
  }

  get folder(): vscode.WorkspaceFolder {
    return this._owner.folder;
  }

  get runIds(): string[] {
    return [...this.followed.keys()];
  }

  get lastAppended(): Extract<FromWebview, { type: 'appended' }> | undefined {
    return this._lastAppended;
  }

  /** Replaces the run set (a second "Compare" invocation). */
  setRuns(owner: FolderRuns, runIds: readonly string[], view?: CompareView): void {
    const moved = owner !== this._owner;
    this._owner = owner;
    if (view) this.view = view;
    this.follow(runIds);
    if (moved) this.rewatch();
    this.scheduleRefresh(0, true);
  }

  protected whileVisible(): DisposableLike {
    return this._owner.watch();
  }

  private follow(runIds: readonly string[]): void {
    this.followed = new Map();
    this.sentPoints.clear();
    const unique = [...new Set(runIds)];
    this.panel.title = titleOf(unique.length);
    for (const id of unique) {
      if (!isRunId(id)) continue;
      this.followed.set(id, { tracking: emptyTracking(), tail: new TrackingTail(path.join(this._owner.store.paths(id).tracking, TRACKING_FILE)) });
    }
    this.feed?.dispose();
    this.feed = this._owner.onDidChange((change) => {
      if (change.anything || [...this.followed.keys()].some((id) => change.ids.has(id) || change.deleted.has(id))) this.scheduleRefresh();
    });
  }

  /** The next save (CSV or chart export) writes here instead of asking with a save dialog (tests, automation). */
  queueSaveTarget(file: string): void {
    this.saveTargets.push(vscode.Uri.file(file));
  }

  /** Re-reads the runs; the full state goes out when their shape changed, else appends with the new points. */
  protected async load(): Promise<Loaded<CompareState> | undefined> {
    const followed = this.followed;
    const missing: string[] = [];
    for (const [id, f] of followed) {
      const record = await this._owner.get(id).catch(() => undefined);
      f.record = record;
      if (!record) {
        missing.push(id);
        continue;
      }
      applyEvents(f.tracking, await f.tail.poll());
      f.tracking.skippedLines = f.tail.skippedLines;
      if (f.t0 === undefined && Object.keys(f.tracking.metrics).length) f.t0 = trackingStart(f.tracking);
    }
    // A newer run set came in meanwhile: its own refresh follows.
    if (followed !== this.followed) return undefined;
    const present = [...followed].filter(([, f]) => f.record) as [string, Followed & { record: RunRecord }][];
    const inputs = present.map(([, f]) => ({ run: f.record, tracking: f.tracking }));
    const settingGoals = readSettings(this.folder.uri).metricGoals;
    const state = buildCompareState(inputs, { folder: this.folder.uri.toString(), folderName: this.folder.name, settingGoals, missing, view: this.view });
    // The shape: everything but metric points. When only points were added, appends are enough.
    const key = JSON.stringify({
      missing,
      goals: settingGoals,
      runs: inputs.map((i) => ({ r: i.run, p: i.tracking.params, t: i.tracking.tags, g: i.tracking.goals, m: Object.keys(i.tracking.metrics) })),
    });
    return {
      state,
      title: state.title,
      live: inputs.some((i) => !isTerminal(i.run.status)),
      key,
      onPushed: () => {
        this.sentPoints.clear();
        for (const i of inputs) for (const [m, p] of Object.entries(i.tracking.metrics)) this.sentPoints.set(`${i.run.id}\0${m}`, p.length);
      },
      onUnchanged: async () => {
        for (const [id, f] of present) {
          for (const [metric, points] of Object.entries(f.tracking.metrics)) {
            const k = `${id}\0${metric}`;
            const already = this.sentPoints.get(k) ?? 0;
            if (points.length <= already) continue;
            this.sentPoints.set(k, points.length);
            const added = appendedPoints(points, already, f.t0 ?? trackingStart(f.tracking));
            await this.post({ type: 'append', version: this.stateVersion, runId: id, metric, points: added, final: toDisplayNumber(points[points.length - 1].value) });
          }
        }
      },
    };
  }

  /** The table as CSV (in the given order), saved where the user says (or the queued target). */
  async exportCsv(sort?: { key: string; descending: boolean }): Promise<vscode.Uri | undefined> {
    const state = this.lastState ?? (await this.refresh());
    if (!state) return undefined;
    return this.save(Buffer.from(tableToCsv(state.table, sort), 'utf8'), 'runs.csv', { CSV: ['csv'] });
  }

  /** Asks the webview for a chart as SVG or PNG and saves it (to the queued target, else where the user says). */
  async exportChart(chartId: string, format: ExportFormat): Promise<vscode.Uri | undefined> {
    const requestId = ++this.requestSeq;
    const reply = new Promise<Extract<FromWebview, { type: 'exportChart' }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingExports.delete(requestId);
        reject(new Error(`the webview did not export chart ${chartId} within ${EXPORT_TIMEOUT_MS / 1000} s`));
      }, EXPORT_TIMEOUT_MS);
      this.pendingExports.set(requestId, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    await this.post({ type: 'requestExport', requestId, chartId, format });
    const m = await reply;
    return this.saveChart(m);
  }

  private saveChart(m: Extract<FromWebview, { type: 'exportChart' }>): Promise<vscode.Uri | undefined> {
    const bytes = m.format === 'svg' ? Buffer.from(m.data, 'utf8') : Buffer.from(m.data.slice('data:image/png;base64,'.length), 'base64');
    return this.save(bytes, `${safeFileName(m.chartId)}.${m.format}`, m.format === 'svg' ? { SVG: ['svg'] } : { PNG: ['png'] });
  }

  private async save(bytes: Uint8Array, defaultName: string, filters: Record<string, string[]>): Promise<vscode.Uri | undefined> {
    const target = this.saveTargets.shift() ?? (await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(this.folder.uri, defaultName), filters, title: `Export ${defaultName}` }));
    if (!target) return undefined;
    await vscode.workspace.fs.writeFile(target, bytes);
    return target;
  }

  protected async act(intent: Exclude<FromWebview, { type: 'ready' | 'rendered' }>): Promise<string | undefined> {
    switch (intent.type) {
      case 'appended':
        this._lastAppended = intent;
        if (intent.errors?.length) this.log.warn(`compare view appended with errors: ${intent.errors.join('; ')}`);
        return undefined;
      case 'setView': {
        this.view = intent.view;
        const state = this.lastState;
        if (state) state.view = intent.view;
        return undefined;
      }
      case 'openRun':
        if (!this.followed.has(intent.id)) return `Run ${intent.id} is not one of the compared runs.`;
        await vscode.commands.executeCommand(Commands.openRunDetails, intent.id);
        return undefined;
      case 'exportCsv':
        if (intent.sort && !this.lastState?.table.columns.some((c) => c.key === intent.sort?.key)) return `There is no column "${intent.sort.key}" to sort by.`;
        await this.exportCsv(intent.sort);
        return undefined;
      case 'exportChart': {
        if (intent.requestId !== undefined) {
          const pending = this.pendingExports.get(intent.requestId);
          if (!pending) return `No export ${intent.requestId} was asked for.`;
          this.pendingExports.delete(intent.requestId);
          pending(intent);
          return undefined;
        }
        await this.saveChart(intent);
        return undefined;
      }
    }
  }
}

/**
 * The window's compare panel (one at a time): made by the composition root (createCompare), which registers
 * the commands on compareRuns and compareWithBest. Registers the serializer that restores it after a reload.
 */
export class ComparePanels extends Disposable {
  private panel?: ComparePanel;

  constructor(private readonly ctx: PanelContext) {
    super();
    this._register(registerPanelSerializer(COMPARE_VIEW_TYPE, (panel, state) => this.revive(panel, state)));
    this._register(toDisposable(() => this.panel?.dispose()));
  }

  current(): ComparePanel | undefined {
    return this.panel && !this.panel.disposed ? this.panel : undefined;
  }

  /** Opens the panel on these runs, or gives the open panel this run set (replacing the one it had). */
  show(owner: FolderRuns, runIds: readonly string[], view?: CompareView): ComparePanel {
    const existing = this.current();
    if (existing) {
      existing.setRuns(owner, runIds, view);
      existing.panel.reveal();
      return existing;
    }
    return this.adopt(createWebviewPanel(COMPARE_VIEW_TYPE, titleOf(new Set(runIds).size), this.ctx.extensionUri), owner, runIds, view);
  }

  /** Adopts a panel restored by VS Code; disposes it when the saved state no longer leads to runs of a folder. */
  async revive(panel: vscode.WebviewPanel, state: unknown): Promise<ComparePanel | undefined> {
    const saved = parseWebviewState(state);
    const folder = saved && vscode.workspace.workspaceFolders?.find((f) => f.uri.toString() === saved.folder);
    const owner = folder && this.ctx.runs.of(folder);
    const present: string[] = [];
    if (saved && owner) for (const id of saved.runIds) if (await owner.get(id).catch(() => undefined)) present.push(id);
    const why = !saved ? 'no saved state'
      : !owner ? `folder ${saved.folder} is not open`
      : present.length === 0 ? 'none of its runs are in this workspace'
      : this.current() ? 'a compare panel is already open'
      : undefined;
    if (why || !saved || !owner) {
      this.ctx.log.info(`not restoring a compare panel: ${why}`);
      panel.dispose();
      return undefined;
    }
    return this.adopt(panel, owner, saved.runIds, saved.view);
  }

  private adopt(webviewPanel: vscode.WebviewPanel, owner: FolderRuns, runIds: readonly string[], view?: CompareView): ComparePanel {
    const panel = (this.panel = new ComparePanel(webviewPanel, this.ctx, owner, runIds, view));
    webviewPanel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
    return panel;
  }

  /**
   * "Compare Runs": the tree's multi-selection, run ids (third argument, or an array as first: tests, other
   * commands), or from the palette a multi-pick. Returns the panel, or undefined when fewer than two runs were chosen.
   */
  async compareRuns(node?: unknown, selection?: unknown, ids?: unknown): Promise<ComparePanel | undefined> {
    const given = Array.isArray(ids) ? ids : Array.isArray(node) && node.every((n) => typeof n === 'string') ? node : undefined;
    let owner: FolderRuns | undefined;
    let runIds: string[] = [];
    if (given) {
      runIds = given.filter(isRunId);
      owner = runIds.length ? (await this.ctx.runs.find(runIds[0]))?.runs : undefined;
      if (!owner) {
        void vscode.window.showErrorMessage(`No run ${runIds[0] ?? ''} in this workspace.`);
        return undefined;
      }
    } else if (Array.isArray(selection) && selection.length > 1) {
      const refs = selection.flatMap((n) => {
        const r = n as { kind?: string; folder?: vscode.WorkspaceFolder; id?: string } | undefined;
        return r?.kind === 'run' && r.folder && typeof r.id === 'string' ? [{ folder: r.folder, id: r.id }] : [];
      });
      const folder = refs[0]?.folder;
      owner = folder && this.ctx.runs.of(folder);
      runIds = refs.filter((r) => r.folder.uri.toString() === folder?.uri.toString()).map((r) => r.id);
      if (refs.length > runIds.length) void vscode.window.showWarningMessage('Runs of different workspace folders cannot be compared together; comparing those of the first.');
    } else {
      const preselect = (node as { kind?: string; id?: string } | undefined)?.kind === 'run' ? (node as { id: string }).id : typeof node === 'string' ? node : undefined;
      const picked = await this.pickMany(preselect, 'Compare which runs? (two or more)');
      if (!picked) return undefined;
      owner = picked.owner;
      runIds = picked.ids;
    }
    if (!owner || runIds.length < 2) {
      if (owner) void vscode.window.showInformationMessage('Pick at least two runs to compare.');
      return undefined;
    }
    return this.show(owner, runIds);
  }

  /**
   * "Compare with Best": the run and the best other run of the same script by the primary metric
   * (mlw.primaryMetric, else the run's first metric) and its goal, found among the folder's run summaries.
   */
  async compareWithBest(node?: unknown): Promise<ComparePanel | undefined> {
    const picked = await pickRun(this.ctx.runs, node, 'Compare which run with the best of its script?');
    if (!picked) return undefined;
    const { runs: owner, run } = picked;
    const settings = readSettings(owner.folder.uri);
    const tracking = await readTracking(path.join(owner.store.paths(run.id).tracking, TRACKING_FILE));
    const metric = primaryMetricOf(run, tracking, settings.primaryMetric);
    if (!metric) {
      void vscode.window.showInformationMessage(`Run ${run.id} logged no metric to compare by.`);
      return undefined;
    }
    const { goal } = resolveGoal(metric, [tracking.goals], settings.metricGoals);
    const best = pickBestRun(run, await owner.list(), metric, goal);
    if (!best) {
      void vscode.window.showInformationMessage(`No other ended run of ${run.script} has ${metric} to compare with.`);
      return undefined;
    }
    return this.show(owner, [run.id, best.id]);
  }

  /** Every run of the workspace folders, from their run indexes, for the palette's multi-pick. */
  private async pickMany(preselect: string | undefined, title: string): Promise<{ owner: FolderRuns; ids: string[] } | undefined> {
    const owners = this.ctx.runs.all();
    const items: (vscode.QuickPickItem & { owner: FolderRuns; id: string })[] = [];
    for (const owner of owners) {
      for (const run of await owner.list()) {
        items.push({
          label: run.name ? `${run.name} · ${run.script}` : run.script,
          description: `${run.status} · ${run.id}`,
          detail: `${formatDate(run.createdAt)}${run.args?.length ? ' · ' + run.args.join(' ') : ''}${owners.length > 1 ? ' · ' + owner.folder.name : ''}`,
          picked: run.id === preselect,
          owner,
          id: run.id,
        });
      }
    }
    if (items.length < 2) {
      void vscode.window.showInformationMessage('Comparing needs at least two ML Workbench runs.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(items, { title, canPickMany: true, matchOnDescription: true, matchOnDetail: true });
    if (!picked?.length) return undefined;
    const owner = picked[0].owner;
    return { owner, ids: picked.filter((p) => p.owner === owner).map((p) => p.id) };
  }
}

/** For the composition root: the compare panel's owner, with its serializer registered. */
export function createCompare(ctx: PanelContext): ComparePanels {
  return new ComparePanels(ctx);
}

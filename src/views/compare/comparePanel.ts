/**
 * The Compare Runs webview panel: one for the window, comparing two or more runs of a workspace folder with
 * vega-lite charts (metrics over steps, final metrics, parallel coordinates, scatter) and a table. The extension
 * pushes the full state (src/views/protocol/compare.ts) and, while runs are live, `append` messages with new
 * metric points; the webview only sends intents, each validated here before use.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunRecord, isTerminal } from '../../model/runs/run';
import { RunStore } from '../../model/runs/runStore';
import { TRACKING_FILE, TrackingData, TrackingTail, applyEvents, emptyTracking, readTracking } from '../../model/runs/tracking';
import {
  COMPARE_VIEW_TYPE,
  CompareState,
  CompareView,
  ExportFormat,
  FromWebview,
  TestClick,
  TestPost,
  ToWebview,
  compareHtml,
  parseFromWebview,
  parseWebviewState,
} from '../protocol/compare';
import { appendedPoints, buildCompareState, pickBestRun, primaryMetricOf, resolveGoal, tableToCsv, trackingStart } from '../protocol/compareData';
import { toDisplayNumber } from '../protocol/runDetails';
import { resolveRuns } from '../runs/runCommands';
import { pickRun } from '../common/runPicker';
import { LIVE_POLL_MS, REFRESH_DEBOUNCE_MS, HandledMessage as SharedHandledMessage, PanelLog, nonce } from '../common/webviewSupport';

/** What happened to a message from the webview (for logs and tests). */
export type HandledMessage = SharedHandledMessage<FromWebview>;

type Log = PanelLog;
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

export class ComparePanel implements vscode.Disposable {
  static readonly viewType = COMPARE_VIEW_TYPE;
  private static instance?: ComparePanel;
  /** Where refused or invalid messages and failures are logged; the lead may point it at the ML Workbench channel. */
  static log: Log = {
    info: (m: string) => console.log(`[mlw compare] ${m}`),
    warn: (m: string) => console.warn(`[mlw compare] ${m}`),
    error: (m: string | Error) => console.error(`[mlw compare] ${m}`),
  };

  private readonly disposables: vscode.Disposable[] = [];
  private runDisposables: vscode.Disposable[] = [];
  private readonly messages = new vscode.EventEmitter<FromWebview>();
  private readonly handled = new vscode.EventEmitter<HandledMessage>();
  private readonly posted = new vscode.EventEmitter<ToWebview>();
  /** Valid messages from the webview, before they are acted on. */
  readonly onDidReceiveMessage = this.messages.event;
  /** Every message from the webview once handled: done, refused (valid but not allowed), invalid, or failed. */
  readonly onDidHandleMessage = this.handled.event;
  /** Every message posted to the webview (state, append, …), for tests. */
  readonly onDidPost = this.posted.event;

  private store: RunStore;
  private followed = new Map<string, Followed>();
  /** Points of each run's metric the webview has (in the posted state or appends), keyed run id + NUL + metric. */
  private sentPoints = new Map<string, number>();
  private signature = '';
  private _lastState?: CompareState;
  private _lastRendered?: Extract<FromWebview, { type: 'rendered' }>;
  private _lastAppended?: Extract<FromWebview, { type: 'appended' }>;
  private version = 0;
  private ready = false;
  private disposed = false;
  private view?: CompareView;
  private refreshTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private refreshing: Promise<unknown> = Promise.resolve();
  private requestSeq = 0;
  private readonly pendingExports = new Map<number, (m: Extract<FromWebview, { type: 'exportChart' }>) => void>();
  private readonly saveTargets: vscode.Uri[] = [];

  /** Opens the panel on these runs, or gives the open panel this run set (replacing the one it had). */
  static createOrShow(extensionUri: vscode.Uri, folder: vscode.WorkspaceFolder, runIds: readonly string[], view?: CompareView): ComparePanel {
    const existing = ComparePanel.instance;
    if (existing && !existing.disposed) {
      existing.setRuns(folder, runIds, view);
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(ComparePanel.viewType, 'Compare Runs', vscode.ViewColumn.Active, ComparePanel.webviewOptions(extensionUri));
    return new ComparePanel(panel, extensionUri, folder, runIds, view);
  }

  /** Restores the panel after a window reload, from the state the webview saved (vscodeApi.setState). */
  static registerSerializer(extensionUri: vscode.Uri): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(ComparePanel.viewType, {
      deserializeWebviewPanel: async (panel, state) => {
        ComparePanel.revive(panel, extensionUri, state);
      },
    });
  }

  /** Adopts a panel restored by VS Code; disposes it when the saved state no longer leads to runs of a folder. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown): ComparePanel | undefined {
    const saved = parseWebviewState(state);
    const folder = saved && vscode.workspace.workspaceFolders?.find((f) => f.uri.toString() === saved.folder);
    const store = folder && new RunStore(folder.uri.fsPath);
    const present = saved && store ? saved.runIds.filter((id) => fs.existsSync(store.paths(id).record)) : [];
    const why = !saved ? 'no saved state'
      : !folder ? `folder ${saved.folder} is not open`
      : present.length === 0 ? 'none of its runs are in this workspace'
      : ComparePanel.instance && !ComparePanel.instance.disposed ? 'a compare panel is already open'
      : undefined;
    if (why || !saved || !folder) {
      ComparePanel.log.info(`not restoring a compare panel: ${why}`);
      panel.dispose();
      return undefined;
    }
    panel.webview.options = ComparePanel.webviewOptions(extensionUri);
    return new ComparePanel(panel, extensionUri, folder, saved.runIds, saved.view);
  }

  /** Refreshes the panel when this window's runner reports on one of its runs, sooner than the file watcher. */
  static followRunEvents(onDidChangeRun: vscode.Event<RunRecord>): vscode.Disposable {
    return onDidChangeRun((run) => {
      const p = ComparePanel.instance;
      if (p && !p.disposed && p.followed.has(run.id)) p.scheduleRefresh();
    });
  }

  static current(): ComparePanel | undefined {
    return ComparePanel.instance && !ComparePanel.instance.disposed ? ComparePanel.instance : undefined;
  }

  private static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webviews')],
    };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private _folder: vscode.WorkspaceFolder,
    runIds: readonly string[],
    view?: CompareView,
  ) {
    ComparePanel.instance = this;
    this.store = new RunStore(_folder.uri.fsPath);
    this.view = view;
    panel.webview.html = this.buildHtml();
    this.disposables.push(
      this.messages,
      this.handled,
      this.posted,
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      panel.onDidChangeViewState(() => {
        // Without retainContextWhenHidden the page goes away when hidden and says ready again when shown.
        if (!panel.visible) this.ready = false;
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('mlw.metricGoals', this._folder.uri)) this.scheduleRefresh(0, true);
      }),
    );
    this.follow(runIds);
  }

  get folder(): vscode.WorkspaceFolder {
    return this._folder;
  }

  get runIds(): string[] {
    return [...this.followed.keys()];
  }

  get lastState(): CompareState | undefined {
    return this._lastState;
  }

  /** The webview's last render acknowledgement (charts drawn, state version, errors). */
  get lastRendered(): Extract<FromWebview, { type: 'rendered' }> | undefined {
    return this._lastRendered;
  }

  get lastAppended(): Extract<FromWebview, { type: 'appended' }> | undefined {
    return this._lastAppended;
  }

  /** Version of the last state posted to the webview (the `rendered` ack echoes it). */
  get stateVersion(): number {
    return this.version;
  }

  get html(): string {
    return this.panel.webview.html;
  }

  /** Replaces the run set (a second "Compare" invocation). */
  setRuns(folder: vscode.WorkspaceFolder, runIds: readonly string[], view?: CompareView): void {
    if (folder.uri.toString() !== this._folder.uri.toString()) {
      this._folder = folder;
      this.store = new RunStore(folder.uri.fsPath);
    }
    if (view) this.view = view;
    this.follow(runIds);
  }

  private follow(runIds: readonly string[]): void {
    for (const d of this.runDisposables.splice(0)) d.dispose();
    this.followed = new Map();
    this.sentPoints.clear();
    this.signature = '';
    const unique = [...new Set(runIds)];
    this.panel.title = `Compare ${unique.length === 1 ? '1 run' : `${unique.length} runs`}`;
    for (const id of unique) {
      if (!/^[\w.-]+$/.test(id)) continue;
      this.followed.set(id, { tracking: emptyTracking(), tail: new TrackingTail(path.join(this.store.paths(id).tracking, TRACKING_FILE)) });
    }
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(this.store.runsDir), '*/{run.json,tracking/*}'));
    const onChange = (uri: vscode.Uri) => {
      const id = path.relative(this.store.runsDir, uri.fsPath).split(path.sep)[0];
      if (this.followed.has(id)) this.scheduleRefresh();
    };
    this.runDisposables.push(watcher, watcher.onDidChange(onChange), watcher.onDidCreate(onChange), watcher.onDidDelete(onChange));
    this.scheduleRefresh(0, true);
  }

  /** Tests only: ask the webview to click an element, or to post a message back as is. */
  postTest(message: TestClick | TestPost): Thenable<boolean> {
    return this.post(message);
  }

  /** The next save (CSV or chart export) writes here instead of asking with a save dialog (tests, automation). */
  queueSaveTarget(file: string): void {
    this.saveTargets.push(vscode.Uri.file(file));
  }

  private post(message: ToWebview): Thenable<boolean> {
    this.posted.fire(message);
    return this.panel.webview.postMessage(message);
  }

  private forceFull = false;

  /** Debounced: a burst of file events (runs writing records and events) makes one refresh. */
  private scheduleRefresh(delay = REFRESH_DEBOUNCE_MS, full = false): void {
    if (this.disposed) return;
    if (full) this.forceFull = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, delay);
  }

  /** Re-reads the runs; posts the full state when their shape changed, else appends new points. Never overlaps. */
  refresh(): Promise<CompareState | undefined> {
    const next = this.refreshing.then(() => this.load());
    this.refreshing = next.then(
      () => undefined,
      (err) => ComparePanel.log.error(`refresh of the compare panel failed: ${(err as Error).message}`),
    );
    return next;
  }

  private async load(): Promise<CompareState | undefined> {
    if (this.disposed) return undefined;
    const missing: string[] = [];
    const fresh = new Map<string, { followed: Followed; before: Map<string, number> }>();
    for (const [id, f] of this.followed) {
      const record = await this.store.get(id).catch(() => undefined);
      if (!record) {
        missing.push(id);
        f.record = undefined;
        continue;
      }
      f.record = record;
      const before = new Map(Object.entries(f.tracking.metrics).map(([m, p]) => [m, p.length]));
      applyEvents(f.tracking, await f.tail.poll());
      f.tracking.skippedLines = f.tail.skippedLines;
      if (f.t0 === undefined && Object.keys(f.tracking.metrics).length) f.t0 = trackingStart(f.tracking);
      fresh.set(id, { followed: f, before });
    }
    if (this.disposed) return undefined;
    const inputs = [...this.followed.values()].filter((f) => f.record).map((f) => ({ run: f.record as RunRecord, tracking: f.tracking }));
    const settingGoals = vscode.workspace.getConfiguration('mlw', this._folder.uri).get<Record<string, unknown>>('metricGoals', {}) ?? {};
    const state = buildCompareState(inputs, { folder: this._folder.uri.toString(), folderName: this._folder.name, settingGoals, missing, view: this.view });
    this._lastState = state;
    this.panel.title = state.title;
    this.livePoll(inputs.some((i) => !isTerminal(i.run.status)));

    // The shape: everything but metric points. When only points were added, appends are enough.
    const signature = JSON.stringify({
      missing,
      goals: settingGoals,
      runs: inputs.map((i) => ({ r: i.run, p: i.tracking.params, t: i.tracking.tags, g: i.tracking.goals, m: Object.keys(i.tracking.metrics) })),
    });
    if (!this.ready) return state;
    if (this.forceFull || signature !== this.signature || this.sentPoints.size === 0) {
      this.forceFull = false;
      this.signature = signature;
      this.sentPoints.clear();
      for (const i of inputs) for (const [m, p] of Object.entries(i.tracking.metrics)) this.sentPoints.set(`${i.run.id}\0${m}`, p.length);
      this.version++;
      await this.post({ type: 'state', version: this.version, state });
      return state;
    }
    for (const [id, { followed }] of fresh) {
      for (const [metric, points] of Object.entries(followed.tracking.metrics)) {
        const key = `${id}\0${metric}`;
        const already = this.sentPoints.get(key) ?? 0;
        if (points.length <= already) continue;
        this.sentPoints.set(key, points.length);
        const added = appendedPoints(points, already, followed.t0 ?? trackingStart(followed.tracking));
        await this.post({ type: 'append', version: this.version, runId: id, metric, points: added, final: toDisplayNumber(points[points.length - 1].value) });
      }
    }
    return state;
  }

  private livePoll(on: boolean): void {
    if (on && !this.pollTimer) {
      this.pollTimer = setInterval(() => {
        if (this.panel.visible) this.scheduleRefresh(0);
      }, LIVE_POLL_MS);
    } else if (!on && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  /** The table as CSV (in the given order), saved where the user says (or the queued target). */
  async exportCsv(sort?: { key: string; descending: boolean }): Promise<vscode.Uri | undefined> {
    const state = this._lastState ?? (await this.refresh());
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
    const target = this.saveTargets.shift() ?? (await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(this._folder.uri, defaultName), filters, title: `Export ${defaultName}` }));
    if (!target) return undefined;
    await vscode.workspace.fs.writeFile(target, bytes);
    return target;
  }

  private async receive(raw: unknown): Promise<void> {
    const intent = parseFromWebview(raw);
    if (!intent) {
      const detail = `ignored an invalid message from the compare webview: ${JSON.stringify(raw)?.slice(0, 200)}`;
      ComparePanel.log.warn(detail);
      this.handled.fire({ message: raw, outcome: 'invalid', detail });
      return;
    }
    this.messages.fire(intent);
    try {
      const refusal = await this.act(intent);
      if (refusal) {
        ComparePanel.log.warn(`refused ${intent.type} from the compare webview: ${refusal}`);
        void vscode.window.showWarningMessage(refusal);
      }
      this.handled.fire({ message: raw, intent, outcome: refusal ? 'refused' : 'done', detail: refusal });
    } catch (err) {
      const detail = (err as Error).message ?? String(err);
      ComparePanel.log.error(`${intent.type} failed in the compare panel: ${detail}`);
      void vscode.window.showErrorMessage(`ML Workbench: ${detail}`);
      this.handled.fire({ message: raw, intent, outcome: 'failed', detail });
    }
  }

  /** Carries out an intent; returns why it was refused, or undefined when done. */
  private async act(intent: FromWebview): Promise<string | undefined> {
    switch (intent.type) {
      case 'ready':
        this.ready = true;
        this.forceFull = true;
        await this.refresh();
        return undefined;
      case 'rendered':
        this._lastRendered = intent;
        if (intent.errors?.length) ComparePanel.log.warn(`compare view rendered with errors: ${intent.errors.join('; ')}`);
        return undefined;
      case 'appended':
        this._lastAppended = intent;
        if (intent.errors?.length) ComparePanel.log.warn(`compare view appended with errors: ${intent.errors.join('; ')}`);
        return undefined;
      case 'setView':
        this.view = intent.view;
        if (this._lastState) this._lastState.view = intent.view;
        return undefined;
      case 'openRun':
        if (!this.followed.has(intent.id)) return `Run ${intent.id} is not one of the compared runs.`;
        await vscode.commands.executeCommand('mlw.openRunDetails', intent.id);
        return undefined;
      case 'exportCsv':
        if (intent.sort && !this._lastState?.table.columns.some((c) => c.key === intent.sort?.key)) return `There is no column "${intent.sort.key}" to sort by.`;
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

  private buildHtml(): string {
    const webview = this.panel.webview;
    const n = nonce();
    const root = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webviews');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(root, 'compare.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(root, 'compare.css'));
    return compareHtml({ nonce: n, cspSource: webview.cspSource, script: script.toString(), style: style.toString(), folder: this._folder.uri.toString(), runIds: this.runIds });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (ComparePanel.instance === this) ComparePanel.instance = undefined;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.livePoll(false);
    this.panel.dispose();
    for (const d of this.runDisposables.splice(0)) d.dispose();
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}

/** All runs of the workspace folders, for the palette's multi-pick. */
async function pickRunsMany(preselect: string | undefined, title: string): Promise<{ folder: vscode.WorkspaceFolder; ids: string[] } | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const items: (vscode.QuickPickItem & { folder: vscode.WorkspaceFolder; id: string })[] = [];
  for (const folder of folders) {
    for (const run of await new RunStore(folder.uri.fsPath).list()) {
      items.push({
        label: run.name ? `${run.name} · ${run.script}` : run.script,
        description: `${run.status} · ${run.id}`,
        detail: `${new Date(run.createdAt).toLocaleString()}${run.args.length ? ' · ' + run.args.join(' ') : ''}${folders.length > 1 ? ' · ' + folder.name : ''}`,
        picked: run.id === preselect,
        folder,
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
  const folder = picked[0].folder;
  return { folder, ids: picked.filter((p) => p.folder === folder).map((p) => p.id) };
}

/** The folder holding all these run ids (the first folder that has the first one). */
async function folderOf(ids: readonly string[]): Promise<vscode.WorkspaceFolder | undefined> {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (fs.existsSync(new RunStore(folder.uri.fsPath).paths(ids[0]).record)) return folder;
  }
  return undefined;
}

/**
 * "Compare Runs": the tree's multi-selection, run ids (third argument, or an array as first: tests, other
 * commands), or from the palette a multi-pick. Returns the panel, or undefined when fewer than two runs were chosen.
 */
export async function compareRuns(extensionUri: vscode.Uri, node?: unknown, selection?: unknown, ids?: unknown): Promise<ComparePanel | undefined> {
  const given = Array.isArray(ids) ? ids : Array.isArray(node) && node.every((n) => typeof n === 'string') ? node : undefined;
  let folder: vscode.WorkspaceFolder | undefined;
  let runIds: string[] = [];
  if (given) {
    runIds = given.filter((id): id is string => typeof id === 'string' && /^[\w.-]+$/.test(id));
    folder = runIds.length ? await folderOf(runIds) : undefined;
    if (!folder) {
      void vscode.window.showErrorMessage(`No run ${runIds[0] ?? ''} in this workspace.`);
      return undefined;
    }
  } else if (Array.isArray(selection) && selection.length > 1) {
    const refs = await resolveRuns(node, selection, 'Compare which runs?');
    folder = refs[0]?.folder;
    runIds = refs.filter((r) => r.folder === folder).map((r) => r.id);
    if (refs.length > runIds.length) void vscode.window.showWarningMessage('Runs of different workspace folders cannot be compared together; comparing those of the first.');
  } else {
    const preselect = (node as { kind?: string; id?: string } | undefined)?.kind === 'run' ? (node as { id: string }).id : typeof node === 'string' ? node : undefined;
    const picked = await pickRunsMany(preselect, 'Compare which runs? (two or more)');
    if (!picked) return undefined;
    folder = picked.folder;
    runIds = picked.ids;
  }
  if (!folder || runIds.length < 2) {
    if (folder) void vscode.window.showInformationMessage('Pick at least two runs to compare.');
    return undefined;
  }
  return ComparePanel.createOrShow(extensionUri, folder, runIds);
}

/**
 * "Compare with Best": the run and the best other run of the same script by the primary metric
 * (mlw.primaryMetric, else the run's first metric) and its goal.
 */
export async function compareWithBest(extensionUri: vscode.Uri, node?: unknown): Promise<ComparePanel | undefined> {
  const picked = await pickRun(node, 'Compare which run with the best of its script?');
  if (!picked) return undefined;
  const { folder, run } = picked;
  const store = new RunStore(folder.uri.fsPath);
  const config = vscode.workspace.getConfiguration('mlw', folder.uri);
  const tracking = await readTracking(path.join(store.paths(run.id).tracking, TRACKING_FILE));
  const metric = primaryMetricOf(run, tracking, config.get<string>('primaryMetric', '').trim());
  if (!metric) {
    void vscode.window.showInformationMessage(`Run ${run.id} logged no metric to compare by.`);
    return undefined;
  }
  const { goal } = resolveGoal(metric, [tracking.goals], config.get<Record<string, unknown>>('metricGoals', {}) ?? {});
  const best = pickBestRun(run, await store.list(), metric, goal);
  if (!best) {
    void vscode.window.showInformationMessage(`No other ended run of ${run.script} has ${metric} to compare with.`);
    return undefined;
  }
  return ComparePanel.createOrShow(extensionUri, folder, [run.id, best.id]);
}

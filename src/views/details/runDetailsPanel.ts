/**
 * The Run details webview panel: one per run, showing its summary, params, metrics (with sparklines), outputs,
 * git lineage, environment and timeline, following the run live until it ends. The extension pushes the full
 * state (src/views/protocol/runDetails.ts); the webview only sends intents, each validated here before use.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunRecord } from '../../model/runs/run';
import { RunStore } from '../../model/runs/runStore';
import { TRACKING_FILE, TrackingData, TrackingTail, applyEvents, emptyTracking } from '../../model/runs/tracking';
import { listOutputs, resolveOutputPath } from '../../runner/artifacts';
import {
  FromWebview,
  OpenFileTarget,
  RUN_DETAILS_VIEW_TYPE,
  RunDetailsState,
  TestClick,
  TestPost,
  ToWebview,
  parseFromWebview,
  parseWebviewState,
} from '../protocol/runDetails';
import { buildRunDetailsState, runTitle } from '../protocol/runDetailsData';
import { pickRun } from '../common/runPicker';
import { webviewPage } from '../protocol/pagePieces';
import { LIVE_POLL_MS, REFRESH_DEBOUNCE_MS, HandledMessage as SharedHandledMessage, PanelLog, nonce } from '../common/webviewSupport';
import { isInsideFolder } from '../../model/common/containment';

/** What happened to a message from the webview (for logs and tests). */
export type HandledMessage = SharedHandledMessage<FromWebview>;

type Log = PanelLog;

function exists(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export class RunDetailsPanel implements vscode.Disposable {
  static readonly viewType = RUN_DETAILS_VIEW_TYPE;
  private static readonly panels = new Map<string, RunDetailsPanel>();
  /** Where refused or invalid messages and failures are logged; the lead may point it at the ML Workbench channel. */
  static log: Log = {
    info: (m: string) => console.log(`[mlw run details] ${m}`),
    warn: (m: string) => console.warn(`[mlw run details] ${m}`),
    error: (m: string | Error) => console.error(`[mlw run details] ${m}`),
  };

  private readonly disposables: vscode.Disposable[] = [];
  private readonly store: RunStore;
  private readonly messages = new vscode.EventEmitter<FromWebview>();
  private readonly handled = new vscode.EventEmitter<HandledMessage>();
  /** Valid messages from the webview, before they are acted on. */
  readonly onDidReceiveMessage = this.messages.event;
  /** Every message from the webview once handled: done, refused (valid but not allowed), invalid, or failed. */
  readonly onDidHandleMessage = this.handled.event;

  private _lastState?: RunDetailsState;
  private _lastRendered?: Extract<FromWebview, { type: 'rendered' }>;
  private version = 0;
  private postedJson = '';
  private ready = false;
  private disposed = false;
  private tracking: TrackingData = emptyTracking();
  private tail: TrackingTail;
  private run?: RunRecord;
  private refreshTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private refreshing: Promise<unknown> = Promise.resolve();

  static createOrShow(extensionUri: vscode.Uri, folder: vscode.WorkspaceFolder, runId: string): RunDetailsPanel {
    const existing = RunDetailsPanel.panels.get(runId);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(RunDetailsPanel.viewType, `Run ${runId.slice(-4)}`, vscode.ViewColumn.Active, RunDetailsPanel.webviewOptions(extensionUri));
    return new RunDetailsPanel(panel, extensionUri, folder, runId);
  }

  /** Restores panels after a window reload, from the state the webview saved (vscodeApi.setState). */
  static registerSerializer(extensionUri: vscode.Uri): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(RunDetailsPanel.viewType, {
      deserializeWebviewPanel: async (panel, state) => {
        RunDetailsPanel.revive(panel, extensionUri, state);
      },
    });
  }

  /** Adopts a panel restored by VS Code; disposes it when the saved state no longer leads to a run. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown): RunDetailsPanel | undefined {
    const saved = parseWebviewState(state);
    const folder = saved && vscode.workspace.workspaceFolders?.find((f) => f.uri.toString() === saved.folder);
    const why = !saved ? 'no saved state'
      : !folder || !fs.existsSync(new RunStore(folder.uri.fsPath).paths(saved.runId).record) ? `run ${saved.runId} is not in this workspace`
      : RunDetailsPanel.panels.has(saved.runId) ? `run ${saved.runId} already has a panel`
      : undefined;
    if (why || !saved || !folder) {
      RunDetailsPanel.log.info(`not restoring a run details panel: ${why}`);
      panel.dispose();
      return undefined;
    }
    panel.webview.options = RunDetailsPanel.webviewOptions(extensionUri);
    return new RunDetailsPanel(panel, extensionUri, folder, saved.runId);
  }

  /**
   * Refreshes the panel of each run this window's runner reports on (RunService.onDidChangeRun), sooner than
   * the file watcher would. Optional: the watcher and the live poll follow runs of any process without it.
   */
  static followRunEvents(onDidChangeRun: vscode.Event<RunRecord>): vscode.Disposable {
    return onDidChangeRun((run) => RunDetailsPanel.panels.get(run.id)?.scheduleRefresh());
  }

  static current(runId: string): RunDetailsPanel | undefined {
    return RunDetailsPanel.panels.get(runId);
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
    readonly folder: vscode.WorkspaceFolder,
    readonly runId: string,
  ) {
    this.store = new RunStore(folder.uri.fsPath);
    this.tail = new TrackingTail(path.join(this.store.paths(runId).tracking, TRACKING_FILE));
    RunDetailsPanel.panels.set(runId, this);
    panel.webview.html = this.buildHtml();
    this.disposables.push(
      this.messages,
      this.handled,
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      panel.onDidChangeViewState(() => {
        // Without retainContextWhenHidden the page goes away when hidden and says ready again when shown.
        if (!panel.visible) this.ready = false;
      }),
    );
    this.watch();
    this.scheduleRefresh(0);
  }

  get lastState(): RunDetailsState | undefined {
    return this._lastState;
  }

  /** The webview's last render acknowledgement (sparklines drawn, state version, errors). */
  get lastRendered(): Extract<FromWebview, { type: 'rendered' }> | undefined {
    return this._lastRendered;
  }

  /** Version of the last state posted to the webview (the `rendered` ack echoes it). */
  get stateVersion(): number {
    return this.version;
  }

  get html(): string {
    return this.panel.webview.html;
  }

  /** Tests only: ask the webview to click an element, or to post a message back as is. */
  postTest(message: TestClick | TestPost): Thenable<boolean> {
    return this.post(message);
  }

  private post(message: ToWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  private watch(): void {
    const paths = this.store.paths(this.runId);
    const pattern = new vscode.RelativePattern(vscode.Uri.file(paths.dir), '{run.json,build.txt,logs.txt,git.patch,tracking/*,outputs/**}');
    const watcher = vscode.workspace.createFileSystemWatcher(pattern);
    const onChange = () => this.scheduleRefresh();
    this.disposables.push(watcher, watcher.onDidChange(onChange), watcher.onDidCreate(onChange), watcher.onDidDelete(onChange));
  }

  /** Debounced: a burst of file events (a run writing its record and events) makes one refresh. */
  private scheduleRefresh(delay = REFRESH_DEBOUNCE_MS): void {
    if (this.disposed) return;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      // A hidden webview is not there to receive state; it asks again (ready) when shown.
      if (this.panel.visible) void this.refresh();
    }, delay);
  }

  /** Re-reads the run from disk and pushes the full state when it changed; refreshes never overlap. */
  refresh(): Promise<RunDetailsState | undefined> {
    const next = this.refreshing.then(() => this.load());
    this.refreshing = next.then(
      () => undefined,
      (err) => RunDetailsPanel.log.error(`refresh of run ${this.runId} failed: ${(err as Error).message}`),
    );
    return next;
  }

  private async load(): Promise<RunDetailsState | undefined> {
    if (this.disposed) return undefined;
    const paths = this.store.paths(this.runId);
    let run: RunRecord | undefined;
    try {
      run = await this.store.get(this.runId);
    } catch (err) {
      await this.post({ type: 'error', message: (err as Error).message });
      return undefined;
    }
    if (!run) {
      await this.post({ type: 'error', message: `Run ${this.runId} no longer exists in ${this.folder.name}.` });
      return undefined;
    }
    this.run = run;
    applyEvents(this.tracking, await this.tail.poll());
    this.tracking.skippedLines = this.tail.skippedLines;
    const skipped: { path: string; reason: string }[] = [];
    const outputs = await listOutputs(paths.outputs, (rel, reason) => skipped.push({ path: rel, reason }));
    const envFile = run.environment?.file;
    const state = buildRunDetailsState(run, this.tracking, outputs, {
      folder: this.folder.uri.toString(),
      folderName: this.folder.name,
      hasPatch: exists(this.patchFile(run)),
      hasBuildLog: exists(paths.buildLog),
      hasLogs: exists(paths.logs),
      environmentFileAvailable: envFile !== undefined && (await this.environmentFile(run)) !== undefined,
      skippedOutputs: skipped,
    });
    if (this.disposed) return state;
    this._lastState = state;
    this.panel.title = runTitle(run);
    this.livePoll(!state.summary.terminal);
    const json = JSON.stringify(state);
    if (this.ready && json !== this.postedJson) {
      this.postedJson = json;
      this.version++;
      await this.post({ type: 'state', version: this.version, state });
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

  private patchFile(run: RunRecord): string {
    return path.join(this.store.paths(run.id).dir, path.basename(run.git?.patch ?? 'git.patch'));
  }

  /** The environment file as it was in the run's snapshot, when it is there (and really inside it). */
  private async environmentFile(run: RunRecord): Promise<string | undefined> {
    const file = run.environment?.file;
    if (!file) return undefined;
    const snapshot = this.store.paths(run.id).snapshot;
    try {
      const root = await fs.promises.realpath(snapshot);
      const real = await fs.promises.realpath(path.join(snapshot, ...file.split('/')));
      return isInsideFolder(root, real) && (await fs.promises.stat(real)).isFile() ? real : undefined;
    } catch {
      return undefined;
    }
  }

  private async receive(raw: unknown): Promise<void> {
    const intent = parseFromWebview(raw);
    if (!intent) {
      const detail = `ignored an invalid message from the run details webview: ${JSON.stringify(raw)?.slice(0, 200)}`;
      RunDetailsPanel.log.warn(detail);
      this.handled.fire({ message: raw, outcome: 'invalid', detail });
      return;
    }
    this.messages.fire(intent);
    try {
      const refusal = await this.act(intent);
      if (refusal) {
        RunDetailsPanel.log.warn(`refused ${intent.type} from the run details webview of ${this.runId}: ${refusal}`);
        void vscode.window.showWarningMessage(refusal);
      }
      this.handled.fire({ message: raw, intent, outcome: refusal ? 'refused' : 'done', detail: refusal });
    } catch (err) {
      const detail = (err as Error).message ?? String(err);
      RunDetailsPanel.log.error(`${intent.type} failed for run ${this.runId}: ${detail}`);
      void vscode.window.showErrorMessage(`ML Workbench: ${detail}`);
      this.handled.fire({ message: raw, intent, outcome: 'failed', detail });
    }
  }

  /** Carries out an intent; returns why it was refused, or undefined when done. */
  private async act(intent: FromWebview): Promise<string | undefined> {
    const paths = this.store.paths(this.runId);
    switch (intent.type) {
      case 'ready':
        this.ready = true;
        this.postedJson = '';
        await this.refresh();
        return undefined;
      case 'rendered':
        this._lastRendered = intent;
        if (intent.errors?.length) RunDetailsPanel.log.warn(`run details of ${this.runId} rendered with errors: ${intent.errors.join('; ')}`);
        return undefined;
      case 'openOutput':
      case 'revealOutput': {
        // Only a path the outputs listing gives (fresh, not the webview's copy), resolved again through its links.
        const listed = await listOutputs(paths.outputs);
        if (!listed.some((o) => o.rel === intent.path)) return `"${intent.path}" is not one of the outputs of run ${this.runId}.`;
        const uri = vscode.Uri.file(await resolveOutputPath(paths.outputs, intent.path));
        if (intent.type === 'openOutput') {
          await vscode.commands.executeCommand('vscode.open', uri);
        } else {
          const commands = await vscode.commands.getCommands(true);
          // revealFileInOS is desktop only; in a browser (code-server) show it in the Explorer instead.
          await vscode.commands.executeCommand(commands.includes('revealFileInOS') ? 'revealFileInOS' : 'revealInExplorer', uri);
        }
        return undefined;
      }
      case 'showDiff':
        // Not awaited: the command may wait on a quick pick (which file to compare) and reports its own errors.
        void Promise.resolve(vscode.commands.executeCommand('mlw.showSnapshotDiff', this.runId)).catch((err) =>
          RunDetailsPanel.log.error(`showing the code diff of run ${this.runId} failed: ${(err as Error).message}`),
        );
        return undefined;
      case 'openRun': {
        const run = this.run ?? (await this.store.get(this.runId));
        if (intent.id !== run?.parentId) return `Run ${intent.id} is not linked from run ${this.runId}.`;
        if (!(await this.store.get(intent.id).catch(() => undefined))) return `Run ${intent.id} no longer exists in ${this.folder.name}.`;
        RunDetailsPanel.createOrShow(this.extensionUri, this.folder, intent.id);
        return undefined;
      }
      case 'openFile': {
        const file = await this.fileFor(intent.which);
        if (!file) return `Run ${this.runId} has no ${describe(intent.which)}.`;
        await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
        return undefined;
      }
    }
  }

  private async fileFor(which: OpenFileTarget): Promise<string | undefined> {
    const paths = this.store.paths(this.runId);
    const run = this.run ?? (await this.store.get(this.runId));
    if (!run) return undefined;
    const file =
      which === 'patch' ? (run.git?.patch ? this.patchFile(run) : undefined)
      : which === 'buildLog' ? paths.buildLog
      : which === 'logs' ? paths.logs
      : await this.environmentFile(run);
    return file && exists(file) ? file : undefined;
  }

  private buildHtml(): string {
    const webview = this.panel.webview;
    const n = nonce();
    const root = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webviews');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(root, 'runDetails.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(root, 'runDetails.css'));
    return webviewPage({
      nonce: n,
      cspSource: webview.cspSource,
      script: script.toString(),
      style: style.toString(),
      title: `Run ${this.runId.slice(-4)}`,
      data: { 'run-id': this.runId, folder: encodeURIComponent(this.folder.uri.toString()) },
      loading: `Loading run ${this.runId}…`,
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (RunDetailsPanel.panels.get(this.runId) === this) RunDetailsPanel.panels.delete(this.runId);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.livePoll(false);
    this.panel.dispose();
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}

function describe(which: OpenFileTarget): string {
  return which === 'patch' ? 'git patch' : which === 'buildLog' ? 'build log' : which === 'logs' ? 'logs' : 'environment file in its snapshot';
}

/**
 * "Open Run Details": for a run id, a tree item ({id}) or, from the palette, a quick-pick. Returns the panel
 * (tests and callers use it), or undefined when no run was chosen.
 */
export async function openRunDetails(extensionUri: vscode.Uri, arg?: unknown): Promise<RunDetailsPanel | undefined> {
  const picked = await pickRun(arg, 'Show the details of which run?');
  if (!picked) return undefined;
  return RunDetailsPanel.createOrShow(extensionUri, picked.folder, picked.run.id);
}

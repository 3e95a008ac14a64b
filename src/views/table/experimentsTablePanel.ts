/**
 * The experiments table: one panel per window showing every run of a workspace folder (from the run index,
 * through the folder's one owner and change feed), refreshed while runs go. The webview filters, sorts and
 * scrolls; this side loads rows, remembers the view per workspace (workspaceState), runs row actions through
 * the existing run commands and saves CSV. The lifecycle is PanelHost's.
 */
import * as vscode from 'vscode';
import { isTerminal } from '../../model/runs/run';
import { columnsOf, rowsToCsv, toQueryRow } from '../../model/runs/runQuery';
import { Commands } from '../common/commandIds';
import { Disposable, DisposableLike, toDisposable } from '../common/disposable';
import { Loaded, PanelContext, PanelHost, createWebviewPanel, registerPanelSerializer } from '../common/panelHost';
import type { FolderRuns } from '../common/workspaceRuns';
import {
  EMPTY_VIEW,
  EXPERIMENTS_TABLE_VIEW_TYPE,
  ExperimentsTableState,
  FromWebview,
  RowAction,
  TableView,
  ToWebview,
  experimentsTablePage,
  parseFromWebview,
  parseView,
  parseWebviewState,
} from '../protocol/experimentsTable';

const VIEW_KEY = 'mlw.experimentsTable.view';

/** A Runs view node for a run: what the run commands take as their clicked node and selection. */
function runNode(folder: vscode.WorkspaceFolder, id: string): { kind: 'run'; folder: vscode.WorkspaceFolder; id: string } {
  return { kind: 'run', folder, id };
}

/**
 * What each row action does, through the commands the Runs view uses (so confirmations, trust checks and the
 * one store per folder are theirs). A new action is one entry here and one in ROW_ACTIONS.
 */
const ACTIONS: Record<RowAction, (folder: vscode.WorkspaceFolder, ids: string[]) => Promise<unknown>> = {
  openDetails: async (_folder, [id]) => vscode.commands.executeCommand(Commands.openRunDetails, id),
  compare: async (_folder, ids) => vscode.commands.executeCommand(Commands.compareRuns, undefined, undefined, ids),
  star: async (folder, ids) => vscode.commands.executeCommand(Commands.starRun, runNode(folder, ids[0]), ids.map((id) => runNode(folder, id))),
  unstar: async (folder, ids) => vscode.commands.executeCommand(Commands.unstarRun, runNode(folder, ids[0]), ids.map((id) => runNode(folder, id))),
  delete: async (folder, ids) => vscode.commands.executeCommand(Commands.deleteRun, runNode(folder, ids[0]), ids.map((id) => runNode(folder, id))),
  label: async (folder, ids) => {
    const text = await vscode.window.showInputBox({ title: `Labels of ${ids.length === 1 ? `run ${ids[0]}` : `${ids.length} runs`}`, prompt: 'Comma-separated, e.g. baseline, best (replaces their labels)' });
    if (text === undefined) return;
    for (const id of ids) await vscode.commands.executeCommand(Commands.tagRun, runNode(folder, id), text.split(','));
  },
  registerModel: async (_folder, [id]) => vscode.commands.executeCommand(Commands.registerModel, id),
  // A rerun's command follows the run to its end: start them all without waiting for that.
  rerun: async (_folder, ids) => {
    for (const id of ids) void vscode.commands.executeCommand(Commands.rerun, id);
  },
};

export class ExperimentsTablePanel extends PanelHost<ExperimentsTableState, FromWebview, ToWebview> {
  private readonly saveTargets: vscode.Uri[] = [];
  private feed?: DisposableLike;

  constructor(
    panel: vscode.WebviewPanel,
    ctx: PanelContext,
    private _owner: FolderRuns,
    private readonly memento: vscode.Memento,
  ) {
    super(panel, { viewType: EXPERIMENTS_TABLE_VIEW_TYPE, name: 'experiments table', page: experimentsTablePage(_owner.folder.uri.toString()), parse: parseFromWebview, extensionUri: ctx.extensionUri, log: ctx.log });
    this._register(toDisposable(() => this.feed?.dispose()));
    this.follow();
    this.start();
  }

  get owner(): FolderRuns {
    return this._owner;
  }

  /** Shows another folder's runs. */
  setOwner(owner: FolderRuns): void {
    if (owner === this._owner) return;
    this._owner = owner;
    this.follow();
    this.rewatch();
    this.scheduleRefresh(0, true);
  }

  private follow(): void {
    this.feed?.dispose();
    this.feed = this._owner.onDidChange(() => this.scheduleRefresh());
  }

  protected whileVisible(): DisposableLike {
    return this._owner.watch();
  }

  private get viewKey(): string {
    return `${VIEW_KEY}:${this._owner.folder.uri.toString()}`;
  }

  /** The view remembered for this folder (layout, filters, sort). */
  get savedView(): TableView {
    return parseView(this.memento.get(this.viewKey)) ?? EMPTY_VIEW;
  }

  protected async load(): Promise<Loaded<ExperimentsTableState> | undefined> {
    const owner = this._owner;
    const summaries = await owner.list();
    if (owner !== this._owner) return undefined;
    const now = Date.now();
    const rows = summaries.map((s) => toQueryRow(s, now));
    const folder = owner.folder;
    const state: ExperimentsTableState = { folder: folder.uri.toString(), folderName: folder.name, columns: columnsOf(rows), rows, view: this.savedView };
    const live = summaries.some((s) => !isTerminal(s.status));
    return { state, title: `Experiments: ${folder.name}`, live };
  }

  /** The next CSV export writes here instead of asking with a save dialog (tests, automation). */
  queueSaveTarget(file: string): void {
    this.saveTargets.push(vscode.Uri.file(file));
  }

  protected async act(intent: Exclude<FromWebview, { type: 'ready' | 'rendered' }>): Promise<string | undefined> {
    const state = this.lastState;
    switch (intent.type) {
      case 'setView':
        await this.memento.update(this.viewKey, intent.view);
        if (state) state.view = intent.view;
        return undefined;
      case 'action': {
        const known = new Set(state?.rows.map((r) => r.id));
        const missing = intent.ids.find((id) => !known.has(id));
        if (missing) return `Run ${missing} is not in the table.`;
        await ACTIONS[intent.action](this._owner.folder, intent.ids);
        return undefined;
      }
      case 'exportCsv': {
        if (!state) return 'The table has no runs loaded yet.';
        const byId = new Map(state.rows.map((r) => [r.id, r]));
        const byKey = new Map(state.columns.map((c) => [c.key, c]));
        const rows = intent.ids.flatMap((id) => byId.get(id) ?? []);
        const columns = intent.columns.flatMap((k) => byKey.get(k) ?? []);
        const target = this.saveTargets.shift() ?? (await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(this._owner.folder.uri, 'experiments.csv'), filters: { CSV: ['csv'] }, title: 'Export the experiments table' }));
        if (!target) return undefined;
        await vscode.workspace.fs.writeFile(target, Buffer.from(rowsToCsv(rows, columns), 'utf8'));
        return undefined;
      }
    }
  }
}

/** The window's experiments table (one at a time), and the serializer that restores it after a reload. */
export class ExperimentsTables extends Disposable {
  private panel?: ExperimentsTablePanel;

  constructor(
    private readonly ctx: PanelContext,
    private readonly memento: vscode.Memento,
  ) {
    super();
    this._register(registerPanelSerializer(EXPERIMENTS_TABLE_VIEW_TYPE, async (panel, state) => {
      const saved = parseWebviewState(state);
      const folder = saved && vscode.workspace.workspaceFolders?.find((f) => f.uri.toString() === saved.folder);
      if (!folder || this.current()) {
        panel.dispose();
        return undefined;
      }
      return this.adopt(panel, this.ctx.runs.of(folder));
    }));
    this._register(toDisposable(() => this.panel?.dispose()));
  }

  current(): ExperimentsTablePanel | undefined {
    return this.panel && !this.panel.disposed ? this.panel : undefined;
  }

  /** "Open Experiments Table": the folder of a given URI or node, the only folder, or a pick among several. */
  async open(arg?: unknown): Promise<ExperimentsTablePanel | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const given = (arg as { folder?: vscode.WorkspaceFolder } | undefined)?.folder ?? (arg instanceof vscode.Uri ? vscode.workspace.getWorkspaceFolder(arg) : undefined);
    const folder = given ?? (folders.length > 1 ? await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Show the runs of which folder?' }) : folders[0]);
    if (!folder) {
      if (!folders.length) void vscode.window.showInformationMessage('Open a folder first: the experiments table shows the runs of a workspace folder.');
      return undefined;
    }
    const owner = this.ctx.runs.of(folder);
    const existing = this.current();
    if (existing) {
      existing.setOwner(owner);
      existing.panel.reveal();
      return existing;
    }
    return this.adopt(createWebviewPanel(EXPERIMENTS_TABLE_VIEW_TYPE, `Experiments: ${folder.name}`, this.ctx.extensionUri), owner);
  }

  private adopt(webviewPanel: vscode.WebviewPanel, owner: FolderRuns): ExperimentsTablePanel {
    const panel = (this.panel = new ExperimentsTablePanel(webviewPanel, this.ctx, owner, this.memento));
    webviewPanel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
    return panel;
  }
}

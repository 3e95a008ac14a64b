/**
 * The Run details webview panel: one per run, showing its summary, params, metrics (with sparklines), outputs,
 * git lineage, environment and timeline, following the run live until it ends. The extension pushes the full
 * state (src/views/protocol/runDetails.ts); the webview only sends intents, each validated here before use.
 * The lifecycle (handshake, refresh, poll, outcomes) is PanelHost's; this file says what to load and do.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isInsideFolder } from '../../model/common/containment';
import { RunRecord, isTerminal } from '../../model/runs/run';
import { TRACKING_FILE, TrackingData, TrackingTail, applyEvents, emptyTracking } from '../../model/runs/tracking';
import { listOutputs, resolveOutputPath } from '../../runner/artifacts';
import { Commands } from '../common/commandIds';
import { Disposable, DisposableLike, toDisposable } from '../common/disposable';
import { Loaded, PanelContext, PanelHost, createWebviewPanel, registerPanelSerializer } from '../common/panelHost';
import { pickRun } from '../common/runPicker';
import { readSettings } from '../common/settings';
import { lastTraceback } from '../../model/runs/traceback';
import { OutputPreviews } from './outputPreviews';
import type { FolderRuns } from '../common/workspaceRuns';
import type { HandledMessage as Handled } from '../protocol/common';
import {
  FromWebview,
  OpenFileTarget,
  RUN_DETAILS_VIEW_TYPE,
  RunAction,
  RunDetailsView,
  ToWebview,
  parseFromWebview,
  parseWebviewState,
  runDetailsPage,
} from '../protocol/runDetails';
import { buildRunDetailsState, deletedRunState, runTitle } from '../protocol/runDetailsData';

/** What happened to a message from the webview (for logs and tests). */
export type HandledMessage = Handled<FromWebview>;

/** The end of logs.txt read for a traceback: a failed run's traceback is at its end. */
const TRACEBACK_TAIL_BYTES = 64 * 1024;

async function logTail(file: string): Promise<{ size: number; text: string } | undefined> {
  const fd = await fs.promises.open(file, 'r').catch(() => undefined);
  if (!fd) return undefined;
  try {
    const { size } = await fd.stat();
    const buf = Buffer.alloc(Math.min(TRACEBACK_TAIL_BYTES, size));
    const { bytesRead } = await fd.read(buf, 0, buf.length, size - buf.length);
    return { size, text: buf.subarray(0, bytesRead).toString('utf8') };
  } finally {
    await fd.close();
  }
}

/** Which command each header button runs (the same commands as the Runs view's menu). */
const ACTION_COMMANDS: Record<RunAction, string> = {
  cancel: Commands.cancelRun,
  rerun: Commands.rerun,
  modifyAndRerun: Commands.modifyAndRerun,
  star: Commands.starRun,
  unstar: Commands.unstarRun,
  delete: Commands.deleteRun,
};

function exists(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export class RunDetailsPanel extends PanelHost<RunDetailsView, FromWebview, ToWebview> {
  static readonly viewType = RUN_DETAILS_VIEW_TYPE;

  private readonly tracking: TrackingData = emptyTracking();
  private readonly tail: TrackingTail;
  private readonly previews: OutputPreviews;
  private run?: RunRecord;
  /** The run was deleted: the panel says so and reads nothing more. */
  private gone = false;
  private readonly feed: DisposableLike;
  private traceback?: { size: number; text?: string };

  constructor(
    panel: vscode.WebviewPanel,
    ctx: PanelContext,
    readonly owner: FolderRuns,
    readonly runId: string,
    /** Opens (or reveals) another run's panel: the parent link. */
    private readonly openRun: (owner: FolderRuns, runId: string) => void,
  ) {
    super(panel, {
      viewType: RUN_DETAILS_VIEW_TYPE,
      name: `run details of ${runId}`,
      page: runDetailsPage(runId, owner.folder.uri.toString()),
      parse: parseFromWebview,
      extensionUri: ctx.extensionUri,
      log: ctx.log,
    });
    this.tail = new TrackingTail(path.join(this.paths.tracking, TRACKING_FILE));
    this.previews = new OutputPreviews(this.paths.outputs);
    this.feed = this._register(owner.onDidChange((change) => {
      if (change.anything || change.ids.has(runId) || change.files.has(runId) || change.deleted.has(runId)) this.scheduleRefresh();
    }));
    this.start();
  }

  get folder(): vscode.WorkspaceFolder {
    return this.owner.folder;
  }

  private get paths() {
    return this.owner.store.paths(this.runId);
  }

  /** Whether the panel's run was deleted (it then shows only that). */
  get deleted(): boolean {
    return this.gone;
  }

  protected whileVisible(): DisposableLike | undefined {
    return this.gone ? undefined : this.owner.watch();
  }

  protected async load(): Promise<Loaded<RunDetailsView> | undefined> {
    if (this.gone) return this.deletedState();
    const paths = this.paths;
    let run: RunRecord | undefined;
    try {
      run = await this.owner.get(this.runId);
    } catch (err) {
      await this.post({ type: 'error', message: (err as Error).message });
      return undefined;
    }
    if (!run) {
      // Deleted (here, in another window, by the CLI): drop what was read of it, stop following it.
      this.gone = true;
      this.run = undefined;
      this.traceback = undefined;
      this.feed.dispose();
      this.rewatch();
      return this.deletedState();
    }
    this.run = run;
    applyEvents(this.tracking, await this.tail.poll());
    this.tracking.skippedLines = this.tail.skippedLines;
    const skipped: { path: string; reason: string }[] = [];
    const outputs = await listOutputs(paths.outputs, (rel, reason) => skipped.push({ path: rel, reason }));
    const envFile = run.environment?.file;
    const state = buildRunDetailsState(run, this.tracking, outputs, {
      settingGoals: readSettings(this.folder.uri).metricGoals,
      traceback: run.status === 'Failed' ? await this.lastTraceback() : undefined,
      previews: await this.previews.read(outputs),
      folder: this.folder.uri.toString(),
      folderName: this.folder.name,
      hasPatch: exists(this.patchFile(run)),
      hasBuildLog: exists(paths.buildLog),
      hasLogs: exists(paths.logs),
      environmentFileAvailable: envFile !== undefined && (await this.environmentFile(run)) !== undefined,
      skippedOutputs: skipped,
    });
    // Compared without the images' bytes: they changed only when their keys did.
    const key = JSON.stringify({ ...state, previews: state.previews.map((p) => (p.kind === 'image' ? { ...p, src: '' } : p)), images: this.previews.imageKeys() });
    return { state, title: runTitle(run), live: !state.summary.terminal, key };
  }

  private deletedState(): Loaded<RunDetailsView> {
    const state = deletedRunState(this.runId, this.folder.uri.toString(), this.folder.name);
    return { state, title: state.title, live: false };
  }

  /** The last traceback in logs.txt, read again only when the file grew. */
  private async lastTraceback(): Promise<string | undefined> {
    const size = await fs.promises.stat(this.paths.logs).then((st) => st.size, () => -1);
    if (this.traceback?.size !== size) {
      const tail = size < 0 ? undefined : await logTail(this.paths.logs);
      this.traceback = { size, text: tail && lastTraceback(tail.text)?.text };
    }
    return this.traceback.text;
  }

  private patchFile(run: RunRecord): string {
    return path.join(this.paths.dir, path.basename(run.git?.patch ?? 'git.patch'));
  }

  /** The environment file as it was in the run's snapshot, when it is there (and really inside it). */
  private async environmentFile(run: RunRecord): Promise<string | undefined> {
    const file = run.environment?.file;
    if (!file) return undefined;
    const snapshot = this.paths.snapshot;
    try {
      const root = await fs.promises.realpath(snapshot);
      const real = await fs.promises.realpath(path.join(snapshot, ...file.split('/')));
      return isInsideFolder(root, real) && (await fs.promises.stat(real)).isFile() ? real : undefined;
    } catch {
      return undefined;
    }
  }

  protected async act(intent: Exclude<FromWebview, { type: 'ready' | 'rendered' }>): Promise<string | undefined> {
    if (this.gone) return `Run ${this.runId} was deleted.`;
    const paths = this.paths;
    switch (intent.type) {
      case 'runAction':
        return this.runAction(intent.action);
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
        void Promise.resolve(vscode.commands.executeCommand(Commands.showSnapshotDiff, this.runId)).catch((err) =>
          this.log.error(`showing the code diff of run ${this.runId} failed: ${(err as Error).message}`),
        );
        return undefined;
      case 'openRun': {
        const run = this.run ?? (await this.owner.get(this.runId));
        if (intent.id !== run?.parentId) return `Run ${intent.id} is not linked from run ${this.runId}.`;
        if (!(await this.owner.get(intent.id).catch(() => undefined))) return `Run ${intent.id} no longer exists in ${this.folder.name}.`;
        this.openRun(this.owner, intent.id);
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

  /**
   * A header button: the very command the Runs view runs on this run. Not awaited: the command may confirm
   * (Delete), ask (Modify and Rerun) or follow the new run to its end (Rerun), and reports its own errors.
   */
  private async runAction(action: RunAction): Promise<string | undefined> {
    const run = await this.owner.get(this.runId);
    if (!run) return `Run ${this.runId} no longer exists in ${this.folder.name}.`;
    const live = !isTerminal(run.status);
    if (action === 'cancel' && !live) return `Run ${this.runId} already ended (${run.status}); there is nothing to cancel.`;
    if (action === 'modifyAndRerun' && live) return `Run ${this.runId} is still going: modify and rerun it once it ended.`;
    if ((action === 'star' || action === 'unstar') && (action === 'star') === !!run.starred) return `Run ${this.runId} is ${run.starred ? 'already' : 'not'} starred.`;
    const command = ACTION_COMMANDS[action];
    void Promise.resolve(vscode.commands.executeCommand(command, this.runId)).catch((err) =>
      this.log.error(`${command} on run ${this.runId} failed: ${(err as Error).message}`),
    );
    return undefined;
  }

  private async fileFor(which: OpenFileTarget): Promise<string | undefined> {
    const paths = this.paths;
    const run = this.run ?? (await this.owner.get(this.runId));
    if (!run) return undefined;
    const file =
      which === 'patch' ? (run.git?.patch ? this.patchFile(run) : undefined)
      : which === 'buildLog' ? paths.buildLog
      : which === 'logs' ? paths.logs
      : await this.environmentFile(run);
    return file && exists(file) ? file : undefined;
  }
}

function describe(which: OpenFileTarget): string {
  return which === 'patch' ? 'git patch' : which === 'buildLog' ? 'build log' : which === 'logs' ? 'logs' : 'environment file in its snapshot';
}

/**
 * The run details panels of the window, one per run: made by the composition root (createRunDetails), which
 * registers the command on `open`. Registers the serializer that restores panels after a reload.
 */
export class RunDetailsPanels extends Disposable {
  private readonly panels = new Map<string, RunDetailsPanel>();

  constructor(private readonly ctx: PanelContext) {
    super();
    this._register(registerPanelSerializer(RUN_DETAILS_VIEW_TYPE, (panel, state) => this.revive(panel, state)));
    this._register(toDisposable(() => {
      for (const p of [...this.panels.values()]) p.dispose();
    }));
  }

  /**
   * "Open Run Details": for a run id, a tree item ({id}) or, from the palette, a quick-pick. Returns the panel
   * (tests and callers use it), or undefined when no run was chosen.
   */
  async open(runArg?: unknown): Promise<RunDetailsPanel | undefined> {
    const picked = await pickRun(this.ctx.runs, runArg, 'Show the details of which run?');
    return picked && this.show(picked.runs, picked.run.id);
  }

  /** The run's panel, revealed, or a new one. */
  show(owner: FolderRuns, runId: string): RunDetailsPanel {
    const existing = this.panels.get(runId);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    return this.adopt(createWebviewPanel(RUN_DETAILS_VIEW_TYPE, `Run ${runId.slice(-4)}`, this.ctx.extensionUri), owner, runId);
  }

  current(runId: string): RunDetailsPanel | undefined {
    return this.panels.get(runId);
  }

  /** Every open panel (tests). */
  all(): RunDetailsPanel[] {
    return [...this.panels.values()];
  }

  /** Adopts a panel restored by VS Code; disposes it when the saved state no longer leads to a run. */
  async revive(panel: vscode.WebviewPanel, state: unknown): Promise<RunDetailsPanel | undefined> {
    const saved = parseWebviewState(state);
    const folder = saved && vscode.workspace.workspaceFolders?.find((f) => f.uri.toString() === saved.folder);
    const owner = folder && this.ctx.runs.of(folder);
    const run = saved && owner ? await owner.get(saved.runId).catch(() => undefined) : undefined;
    const why = !saved ? 'no saved state'
      : !owner || !run ? `run ${saved.runId} is not in this workspace`
      : this.panels.has(saved.runId) ? `run ${saved.runId} already has a panel`
      : undefined;
    if (why || !saved || !owner) {
      this.ctx.log.info(`not restoring a run details panel: ${why}`);
      panel.dispose();
      return undefined;
    }
    return this.adopt(panel, owner, saved.runId);
  }

  private adopt(webviewPanel: vscode.WebviewPanel, owner: FolderRuns, runId: string): RunDetailsPanel {
    const panel = new RunDetailsPanel(webviewPanel, this.ctx, owner, runId, (o, id) => this.show(o, id));
    this.panels.set(runId, panel);
    webviewPanel.onDidDispose(() => {
      if (this.panels.get(runId) === panel) this.panels.delete(runId);
    });
    return panel;
  }
}

/** For the composition root: the run details panels, with their serializer registered. */
export function createRunDetails(ctx: PanelContext): RunDetailsPanels {
  return new RunDetailsPanels(ctx);
}

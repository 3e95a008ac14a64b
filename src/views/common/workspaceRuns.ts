import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord } from '../../model/runs/run';
import type { RunSummary } from '../../model/runs/runIndex';
import { RunStore } from '../../model/runs/runStore';
import { Disposable, DisposableLike, toDisposable } from './disposable';
import { readSettings } from './settings';

/** How long changes gather before subscribers hear of them: a run writing its record and events makes one change. */
export const FEED_DEBOUNCE_MS = 150;

/** What a subscriber hears: which runs of which folder changed (or were deleted), after the debounce. */
export interface RunsChange {
  readonly folder: vscode.WorkspaceFolder;
  /** Runs whose record or tracking changed. Empty with `anything` set when the source could not tell. */
  readonly ids: ReadonlySet<string>;
  /** Runs whose other files (logs, build log, patch, outputs) changed, seen while watched: what a details panel shows. */
  readonly files: ReadonlySet<string>;
  readonly deleted: ReadonlySet<string>;
  /** Something changed that names no run (a workspace folder added, Docker reconnecting): re-read all. */
  readonly anything: boolean;
}

/** The Docker event stream of one engine, started while some folder using that host is watched. */
export type DockerEventSource = (host: string, onRun: (runId: string) => void, onEnd: () => void) => Promise<() => void>;

/** The default source: the engine's container events of ML Workbench runs. Docker's client loads only here, on first use. */
const dockerEvents: DockerEventSource = async (host, onRun, onEnd) => {
  const [{ connectDocker }, { watchRunContainers }] = await Promise.all([import('../../runner/docker/client'), import('../../runner/docker/events')]);
  return watchRunContainers(connectDocker(host), (e) => onRun(e.runId), onEnd);
};

/**
 * The one owner of a workspace folder's runs: its RunStore (so every write in this window goes through one
 * per-run update queue) and one debounced change feed. The feed hears the store's own events always (they
 * cost nothing), and, only while some visible consumer holds `watch()`, one file watcher for what other
 * processes (the CLI, another window) write and the Docker events of the folder's engine.
 */
export class FolderRuns extends Disposable {
  readonly store: RunStore;
  private readonly emitter = this._register(new vscode.EventEmitter<RunsChange>());
  readonly onDidChange = this.emitter.event;
  private pendingIds = new Set<string>();
  private pendingFiles = new Set<string>();
  private pendingDeleted = new Set<string>();
  private pendingAnything = false;
  private timer: NodeJS.Timeout | undefined;
  private watchers = 0;
  /** The run ids the last listing returned (to tell deletions by other processes). */
  private listed: Set<string> | undefined;
  private checking: Promise<void> | undefined;
  private recheck = false;
  private external: DisposableLike | undefined;

  constructor(
    readonly folder: vscode.WorkspaceFolder,
    private readonly hostEvents: (folder: FolderRuns) => DisposableLike,
  ) {
    super();
    this.store = new RunStore(folder.uri.fsPath);
    const onChanged = (run: RunRecord) => this.note(run.id);
    const onDeleted = (id: string) => this.noteDeleted(id);
    this.store.on('changed', onChanged);
    this.store.on('deleted', onDeleted);
    this._register(toDisposable(() => {
      this.store.off('changed', onChanged);
      this.store.off('deleted', onDeleted);
      clearTimeout(this.timer);
      this.external?.dispose();
    }));
  }

  /** Summaries of every run, newest first, from the run index (never every run.json). */
  async list(onError?: (id: string, err: Error) => void): Promise<RunSummary[]> {
    const runs = await this.store.listSummaries(onError);
    this.listed = new Set(runs.map((r) => r.id));
    return runs;
  }

  /** One check at a time; a request during one runs another after it (the check under way may predate it). */
  private requestDeleteCheck(): void {
    if (this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = this.checkDeleted().finally(() => {
      this.checking = undefined;
      if (this.recheck) {
        this.recheck = false;
        this.requestDeleteCheck();
      }
    });
  }

  /**
   * Another process journaled to the run index (every run write and delete does): runs listed before and gone
   * now were deleted. File watchers may drop the events of a folder removed as a whole; the index line is one
   * append to a file that stays.
   */
  private async checkDeleted(): Promise<void> {
    const before = this.listed;
    if (!before) return;
    const now = new Set((await this.store.listSummaries().catch(() => [])).map((r) => r.id));
    this.listed = now;
    for (const id of before) if (!now.has(id)) this.noteDeleted(id);
  }

  get(id: string): Promise<RunRecord | undefined> {
    return this.store.get(id);
  }

  /** Through the store's per-run queue: two updates in this window never lose each other's fields. */
  update(id: string, patch: Partial<RunRecord>): Promise<RunRecord> {
    return this.store.update(id, patch);
  }

  /**
   * Held by a consumer while it is visible (a shown tree, an open panel): starts the file watcher and the
   * Docker events, which stop again when the last holder lets go.
   */
  watch(): DisposableLike {
    if (this.watchers++ === 0 && !this.isDisposed) this.external = this.startExternal();
    return toDisposable(() => {
      if (--this.watchers === 0) {
        this.external?.dispose();
        this.external = undefined;
      }
    });
  }

  get watched(): boolean {
    return this.watchers > 0;
  }

  /** Called by the file watcher and Docker events; also usable by anything else that learns of a change. */
  note(id: string): void {
    this.pendingIds.add(id);
    this.schedule();
  }

  noteFiles(id: string): void {
    this.pendingFiles.add(id);
    this.schedule();
  }

  noteDeleted(id: string): void {
    this.pendingDeleted.add(id);
    this.schedule();
  }

  noteAnything(): void {
    this.pendingAnything = true;
    this.schedule();
  }

  private startExternal(): DisposableLike {
    const runsDir = this.store.runsDir;
    // Relative to the folder, not to .mlw/runs: the folder is watched already and exists; the runs folder may not yet.
    // Three plain patterns rather than one with paths and ** inside braces, which glob matchers disagree on.
    const watchers = ['{run.json,logs.txt,build.txt,git.patch}', 'tracking/*', 'outputs/**'].map((glob) =>
      vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(this.folder, `.mlw/runs/*/${glob}`)),
    );
    const fromUri = (uri: vscode.Uri, deleted: boolean) => {
      const [id, ...rest] = path.relative(runsDir, uri.fsPath).split(path.sep);
      if (!id || id.startsWith('.')) return;
      const file = rest.join('/');
      if (deleted && file === 'run.json') this.noteDeleted(id);
      else if (file === 'run.json' || file.startsWith('tracking/')) this.note(id);
      else this.noteFiles(id);
    };
    // A run folder removed as a whole (`mlw runs delete`, another window's Clean Up) is reported as the folder
    // alone: file watchers drop the deletes of what was inside it, so the patterns above never hear of it. Likewise
    // a new run: the store builds its folder aside and renames it into place, so only the folder is created here.
    const folders = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(this.folder, '.mlw/runs/*'), false, true, false);
    const runFolder = (u: vscode.Uri) => {
      const id = path.basename(u.fsPath);
      return path.dirname(u.fsPath) === runsDir && !id.startsWith('.') ? id : undefined;
    };
    const index = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(this.folder, '.mlw/index.jsonl'));
    const parts: DisposableLike[] = [
      ...watchers.flatMap((w) => [w, w.onDidChange((u) => fromUri(u, false)), w.onDidCreate((u) => fromUri(u, false)), w.onDidDelete((u) => fromUri(u, true))]),
      index,
      ...[index.onDidChange, index.onDidCreate, index.onDidDelete].map((on) => on(() => this.requestDeleteCheck())),
      folders,
      folders.onDidDelete((u) => {
        const id = runFolder(u);
        if (id) this.noteDeleted(id);
      }),
      folders.onDidCreate((u) => {
        const id = runFolder(u);
        if (id) this.note(id);
      }),
      this.hostEvents(this),
    ];
    return toDisposable(() => parts.forEach((p) => p.dispose()));
  }

  private schedule(): void {
    if (this.isDisposed || this.timer) return;
    this.timer = setTimeout(() => this.flush(), FEED_DEBOUNCE_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const change: RunsChange = { folder: this.folder, ids: this.pendingIds, files: this.pendingFiles, deleted: this.pendingDeleted, anything: this.pendingAnything };
    this.pendingIds = new Set();
    this.pendingFiles = new Set();
    this.pendingDeleted = new Set();
    this.pendingAnything = false;
    this.emitter.fire(change);
  }
}

/**
 * Every workspace folder's FolderRuns, made by the composition root; views ask it for a folder's runs and
 * subscribe to one feed for all folders. Docker events are followed once per engine in use, shared by the
 * folders on that engine, and only while one of them is watched.
 */
export class WorkspaceRuns extends Disposable {
  private readonly byFolder = new Map<string, FolderRuns>();
  private readonly emitter = this._register(new vscode.EventEmitter<RunsChange>());
  /** Changes of any folder's runs, debounced per folder. */
  readonly onDidChange = this.emitter.event;
  private readonly hosts = new Map<string, { folders: Set<FolderRuns>; stop?: () => void; starting?: boolean }>();

  constructor(
    private readonly log: Pick<vscode.LogOutputChannel, 'warn'>,
    private readonly dockerEventSource: DockerEventSource = dockerEvents,
  ) {
    super();
    this._register(vscode.workspace.onDidChangeWorkspaceFolders((e) => {
      for (const removed of e.removed) {
        this.byFolder.get(removed.uri.toString())?.dispose();
        this.byFolder.delete(removed.uri.toString());
      }
      for (const folder of [...e.added, ...e.removed]) this.emitter.fire({ folder, ids: new Set(), files: new Set(), deleted: new Set(), anything: true });
    }));
    this._register(toDisposable(() => {
      for (const f of this.byFolder.values()) f.dispose();
      for (const h of this.hosts.values()) h.stop?.();
    }));
  }

  /** The folder's owner, made on first use. */
  of(folder: vscode.WorkspaceFolder): FolderRuns {
    const key = folder.uri.toString();
    let runs = this.byFolder.get(key);
    if (!runs) {
      runs = new FolderRuns(folder, (f) => this.followHost(f));
      runs.onDidChange((change) => this.emitter.fire(change));
      this.byFolder.set(key, runs);
    }
    return runs;
  }

  /** The owner of the folder that holds `uri`, if any. */
  forUri(uri: vscode.Uri): FolderRuns | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    return folder && this.of(folder);
  }

  /** One owner per open workspace folder, in the workspace's order. */
  all(): FolderRuns[] {
    return (vscode.workspace.workspaceFolders ?? []).map((f) => this.of(f));
  }

  /** The folder whose store holds run `id` (its record exists), first match in workspace order. */
  async find(id: string): Promise<{ runs: FolderRuns; run: RunRecord } | undefined> {
    for (const runs of this.all()) {
      const run = await runs.get(id).catch(() => undefined);
      if (run) return { runs, run };
    }
    return undefined;
  }

  /** Holds every folder's watch (e.g. while the Runs view, which shows them all, is visible). */
  watchAll(): DisposableLike {
    const held = this.all().map((f) => f.watch());
    return toDisposable(() => held.forEach((h) => h.dispose()));
  }

  /** One Docker event stream per host string, shared by the watched folders on it; re-read later if it ends. */
  private followHost(folder: FolderRuns): DisposableLike {
    const host = readSettings(folder.folder.uri).dockerHost;
    let entry = this.hosts.get(host);
    if (!entry) this.hosts.set(host, (entry = { folders: new Set() }));
    const e = entry;
    e.folders.add(folder);
    if (!e.stop && !e.starting) {
      e.starting = true;
      this.dockerEventSource(
        host,
        (runId) => {
          for (const f of e.folders) f.note(runId);
        },
        () => {
          // Docker went away: the stream restarts with the next watch; views still hear the store and files.
          e.stop = undefined;
        },
      ).then(
        (stop) => {
          e.starting = false;
          if (e.folders.size) e.stop = stop;
          else stop();
        },
        (err: Error) => {
          e.starting = false;
          this.log.warn(`Not following Docker events${host ? ` of ${host}` : ''}: ${err.message}`);
        },
      );
    }
    return toDisposable(() => {
      e.folders.delete(folder);
      if (!e.folders.size) {
        e.stop?.();
        e.stop = undefined;
      }
    });
  }
}

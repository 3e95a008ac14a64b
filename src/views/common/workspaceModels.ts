import * as vscode from 'vscode';
import { ModelRegistry } from '../../model/models/modelRegistry';
import { Disposable, DisposableLike, toDisposable } from './disposable';
import type { WorkspaceRuns } from './workspaceRuns';

/**
 * One model registry per workspace folder (sharing the folder's run store, so lineage reads the same runs the
 * Runs view shows) and one change feed: this window's writes, and, while someone watches, files other processes
 * write (`mlw model register` in a terminal, a git pull bringing new versions).
 */
export class WorkspaceModels extends Disposable {
  private readonly byFolder = new Map<string, ModelRegistry>();
  private readonly emitter = this._register(new vscode.EventEmitter<vscode.WorkspaceFolder | undefined>());
  readonly onDidChange = this.emitter.event;
  private watchers = 0;
  private watcher: vscode.FileSystemWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;

  constructor(private readonly runs: WorkspaceRuns) {
    super();
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.emitter.fire(undefined)));
    this._register(toDisposable(() => {
      this.watcher?.dispose();
      clearTimeout(this.debounce);
    }));
  }

  of(folder: vscode.WorkspaceFolder): ModelRegistry {
    const key = folder.uri.toString();
    let registry = this.byFolder.get(key);
    if (!registry) {
      registry = new ModelRegistry(folder.uri.fsPath, this.runs.of(folder).store);
      registry.on('changed', () => this.emitter.fire(folder));
      this.byFolder.set(key, registry);
    }
    return registry;
  }

  all(): { folder: vscode.WorkspaceFolder; registry: ModelRegistry }[] {
    return (vscode.workspace.workspaceFolders ?? []).map((folder) => ({ folder, registry: this.of(folder) }));
  }

  forUri(uri: vscode.Uri): { folder: vscode.WorkspaceFolder; registry: ModelRegistry } | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    return folder && { folder, registry: this.of(folder) };
  }

  /** Follows version files written by other processes while held (the Models view holds it while visible). */
  watch(): DisposableLike {
    if (this.watchers++ === 0) {
      this.watcher = vscode.workspace.createFileSystemWatcher('**/.mlw/models/**');
      const changed = () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.emitter.fire(undefined), 150);
      };
      this.watcher.onDidCreate(changed);
      this.watcher.onDidChange(changed);
      this.watcher.onDidDelete(changed);
    }
    let released = false;
    return toDisposable(() => {
      if (released) return;
      released = true;
      if (--this.watchers === 0) {
        this.watcher?.dispose();
        this.watcher = undefined;
      }
    });
  }
}

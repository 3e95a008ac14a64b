import * as vscode from 'vscode';
import { ViewIds } from '../common/commandIds';
import { Disposable, DisposableLike } from '../common/disposable';
import type { WorkspaceModels } from '../common/workspaceModels';
import { ModelsNode, ModelsTreeProvider } from './modelsTree';

/** Owns the Models tree view: refreshes on the models feed, and follows other processes' writes only while shown. */
export class ModelsView extends Disposable {
  readonly provider: ModelsTreeProvider;
  readonly view: vscode.TreeView<ModelsNode>;
  private watching: DisposableLike | undefined;
  private readonly refreshed = this._register(new vscode.EventEmitter<void>());
  /** Fires after each refresh (tests wait on it). */
  readonly onDidRefresh = this.refreshed.event;

  constructor(output: vscode.LogOutputChannel, private readonly models: WorkspaceModels) {
    super();
    this.provider = new ModelsTreeProvider(models, (folder, err) => output.warn(`Models view (${folder}): ${err.message}`));
    this.view = this._register(vscode.window.createTreeView(ViewIds.models, { treeDataProvider: this.provider, showCollapseAll: true }));
    this._register(models.onDidChange(() => this.refresh()));
    this._register(this.view.onDidChangeVisibility(() => this.follow()));
    this._register({ dispose: () => this.watching?.dispose() });
    this.follow();
  }

  private follow(): void {
    this.watching?.dispose();
    this.watching = this.view.visible ? this.models.watch() : undefined;
    if (this.view.visible) this.refresh();
  }

  refresh(): void {
    this.provider.refresh();
    this.refreshed.fire();
  }
}

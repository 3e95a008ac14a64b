/**
 * Starts the run configuration language server (dist/languageServer.js, over IPC) the first time a
 * `.mlw/runconfigs/*.yaml` document is open, never at activation: the client library is its own bundle
 * (dist/languageClient.js) and is only required then. vscode-languageclient restarts a crashed server.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Disposable, toDisposable } from '../common/disposable';
import { UserFacingError } from '../../model/common/errors';
import { readSettings } from '../common/settings';

export const RUN_CONFIG_SELECTOR = [
  { scheme: 'file', pattern: '**/.mlw/runconfigs/*.yaml' },
  { scheme: 'file', pattern: '**/.mlw/runconfigs/*.yml' },
];

export function isRunConfigDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && /[\\/]\.mlw[\\/]runconfigs[\\/][^\\/]+\.ya?ml$/i.test(doc.uri.fsPath);
}

export class RunConfigLanguageClient extends Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;

  constructor(
    private readonly extensionPath: string,
    private readonly log: Pick<vscode.LogOutputChannel, 'error'>,
  ) {
    super();
    const onOpen = this._register(vscode.workspace.onDidOpenTextDocument((doc) => {
      if (isRunConfigDocument(doc)) {
        onOpen.dispose();
        void this.start();
      }
    }));
    // Documents restored with the window are open before activation and fire no event.
    if (vscode.workspace.textDocuments.some(isRunConfigDocument)) {
      onOpen.dispose();
      void this.start();
    }
    this._register(toDisposable(() => void this.client?.stop().catch(() => undefined)));
  }

  /** The running client (started on first use); for tests. */
  start(): Promise<LanguageClient> {
    this.starting ??= this.launch().catch((err: Error) => {
      this.log.error(`The run configuration language server did not start: ${err.message}`);
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  private async launch(): Promise<LanguageClient> {
    // A require, not import(): bundled, it loads dist/languageClient.js (scripts/bundles.mjs), a CommonJS file.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LanguageClient, TransportKind } = require('vscode-languageclient/node') as typeof import('vscode-languageclient/node');
    const module = path.join(this.extensionPath, 'dist', 'languageServer.js');
    const client = new LanguageClient(
      'mlw.runConfigs',
      'ML Workbench Run Configurations',
      {
        run: { module, transport: TransportKind.ipc },
        debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
      },
      {
        documentSelector: RUN_CONFIG_SELECTOR,
        initializationOptions: { dockerHost: readSettings().dockerHost },
        // Scripts coming and going change whether "script:" exists; the watcher lives as long as the client.
        synchronize: { configurationSection: 'mlw', fileEvents: vscode.workspace.createFileSystemWatcher('**/*.py') },
      },
    );
    if (this.isDisposed) throw new Error('the extension was deactivated');
    this.client = client;
    await client.start();
    return client;
  }
}

/**
 * "Pick a script…", the quick fix for a script that does not exist: every .py of the config's workspace folder
 * in a picker, the choice written over the old value. `script` skips the picker (tests, other callers).
 */
export async function pickRunConfigScript(uri: unknown, range: unknown, script?: string): Promise<string | undefined> {
  const target = typeof uri === 'string' ? vscode.Uri.parse(uri) : uri instanceof vscode.Uri ? uri : undefined;
  const r = range as { start?: { line?: unknown; character?: unknown }; end?: { line?: unknown; character?: unknown } } | undefined;
  const n = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  const [sl, sc, el, ec] = [n(r?.start?.line), n(r?.start?.character), n(r?.end?.line), n(r?.end?.character)];
  if (!target || sl === undefined || sc === undefined || el === undefined || ec === undefined) {
    throw new UserFacingError('Pick a script works from the quick fix on a run configuration\'s "script:" line.');
  }
  const root = path.dirname(path.dirname(path.dirname(target.fsPath)));
  let chosen = script;
  if (chosen === undefined) {
    const files = await vscode.workspace.findFiles(new vscode.RelativePattern(root, '**/*.py'), '{**/.git/**,**/.mlw/**,**/node_modules/**,**/.venv/**,**/__pycache__/**}', 5000);
    const items = files.map((f) => path.relative(root, f.fsPath).split(path.sep).join('/')).sort();
    if (items.length === 0) throw new UserFacingError(`There is no Python script in ${root} to pick.`);
    chosen = await vscode.window.showQuickPick(items, { title: 'Script for the run configuration', placeHolder: 'Type to filter the workspace\'s Python scripts' });
    if (chosen === undefined) return undefined;
  }
  const edit = new vscode.WorkspaceEdit();
  edit.replace(target, new vscode.Range(sl, sc, el, ec), chosen);
  if (!(await vscode.workspace.applyEdit(edit))) throw new UserFacingError(`Could not change the script in ${path.basename(target.fsPath)}.`);
  return chosen;
}

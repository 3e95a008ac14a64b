import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserFacingError } from '../../model/common/errors';
import { RunOptions, RunRecord, isTerminal } from '../../model/runs/run';
import type { RunConfig } from '../../model/runconfig/runConfig';

/** Run configurations (and the YAML parser under them) load on the first run command, not with the extension. */
const runConfigs = () => import('../../model/runconfig/runConfig');
import { RunHandle } from '../../runner/experimentRunner';
import { optionsFromConfig } from '../../runner/runRequest';
import { pickRun } from '../common/runPicker';
import { readSettings } from '../common/settings';
import { joinArgs } from './argLine';
import { showError } from '../common/userErrors';
import { RunService } from './runService';

/**
 * What the run commands return, so callers (tests, other extensions) learn the run id or why there is none: these
 * keep their own catch (to return the message) where other commands rely on registerCommand's.
 */
export type RunCommandResult = { runId: string } | { error: string } | { canceled: true } | { createdConfig: string };

export interface Target {
  uri: vscode.Uri;
  folder: vscode.WorkspaceFolder;
}

/** `<folder>/.mlw/runconfigs/<name>.yaml` (or .yml) → the configuration's name and folder. */
function runConfigFileOf(uri: vscode.Uri | undefined): { folder: vscode.WorkspaceFolder; name: string } | undefined {
  if (!uri || uri.scheme !== 'file') return undefined;
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder) return undefined;
  const rel = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep);
  const m = rel.length === 3 && rel[0] === '.mlw' && rel[1] === 'runconfigs' ? /^(.+)\.ya?ml$/.exec(rel[2]) : null;
  return m ? { folder, name: m[1] } : undefined;
}

/** The uri a run command acts on: its argument, else the active editor's document. */
function targetUri(arg: unknown): vscode.Uri | undefined {
  return arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
}

/** The script a run command acts on, with every reason it cannot run spelled out. */
export async function resolveTarget(arg: unknown): Promise<Target> {
  const uri = targetUri(arg);
  if (!uri) throw new UserFacingError('Open a Python script (or right-click one in the Explorer) to run it as an experiment.');
  if (!vscode.workspace.isTrusted) {
    throw new UserFacingError('Running an experiment executes code from this workspace. Trust the workspace first (Manage Workspace Trust).', {
      label: 'Manage Workspace Trust',
      command: 'workbench.trust.manage',
    });
  }
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  const isPython = doc ? doc.languageId === 'python' : path.extname(uri.fsPath).toLowerCase() === '.py';
  if (!isPython || uri.scheme !== 'file') {
    throw new UserFacingError(`Run as Experiment works on Python scripts (.py) saved on disk; ${path.basename(uri.fsPath)} is not one.`);
  }
  if (!vscode.workspace.workspaceFolders?.length) {
    throw new UserFacingError('Open a folder first (File > Open Folder…): a run takes a snapshot of the workspace folder that holds the script.');
  }
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder) {
    throw new UserFacingError(`${uri.fsPath} is not inside an open workspace folder. Add its folder to the workspace (File > Add Folder to Workspace…) to run it.`);
  }
  if (doc?.isDirty && !(await doc.save())) {
    throw new UserFacingError(`Could not save ${path.basename(uri.fsPath)}; save it and try again.`);
  }
  return { uri, folder };
}

/**
 * Shows a cancellable progress notification from submission until the container starts (or the run ends
 * first), with the image build's current step as its message; cancelling it cancels the run.
 */
export async function withRunProgress(title: string, submit: (onStatus: (run: RunRecord) => void, onBuild: (text: string) => void) => Promise<RunHandle>): Promise<RunCommandResult> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    progress.report({ message: 'taking a snapshot…' });
    let settle: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (settle = resolve));
    const handle = await submit(
      (run) => {
        if (run.status === 'Running' || isTerminal(run.status)) settle();
      },
      (text) => {
        const step = /Step (\d+\/\d+) : (.*)/.exec(text);
        if (step) progress.report({ message: `building the environment image: step ${step[1]} (${step[2].slice(0, 60)})` });
      },
    );
    const cancel = token.onCancellationRequested(() => void handle.cancel());
    progress.report({ message: 'preparing the environment (output in the ML Workbench channel)…' });
    await started;
    cancel.dispose();
    return { runId: handle.id };
  });
}

/** mlw.revealOutput = always: the output comes into view (without the focus) as the run starts. Failures: RunService. */
export function revealOutputOnStart(service: RunService, folder: vscode.WorkspaceFolder): void {
  if (readSettings(folder.uri).revealOutput === 'always') service.output.channel.show(true);
}

export async function runWithConfig(service: RunService, target: Target, config: RunConfig | undefined, args?: string[]): Promise<RunCommandResult> {
  let scriptUri = target.uri;
  if (config?.script) scriptUri = vscode.Uri.file(path.join(target.folder.uri.fsPath, config.script));
  const options: RunOptions | undefined = config ? optionsFromConfig(config) : undefined;
  revealOutputOnStart(service, target.folder);
  return withRunProgress(`Run ${path.basename(scriptUri.fsPath)}${config ? ` (${config.name})` : ''}`, (onStatus, onBuild) =>
    service.start(target.folder, scriptUri, args ?? config?.args ?? [], options, (run) => onStatus(run), onBuild),
  );
}

/**
 * Runs the configuration whose file is open (or was right-clicked): its own script and args. A configuration
 * without `script:` names no script to run from its file.
 */
async function runConfigFile(service: RunService, file: { folder: vscode.WorkspaceFolder; name: string }): Promise<RunCommandResult> {
  if (!vscode.workspace.isTrusted) throw new UserFacingError('Running an experiment executes code from this workspace. Trust the workspace first (Manage Workspace Trust).');
  const doc = vscode.workspace.textDocuments.find((d) => runConfigFileOf(d.uri)?.name === file.name && d.isDirty);
  if (doc && !(await doc.save())) throw new UserFacingError(`Could not save ${path.basename(doc.uri.fsPath)}; save it and try again.`);
  const config = await (await runConfigs()).loadRunConfig(file.folder.uri.fsPath, file.name);
  if (!config) throw new UserFacingError(`No run configuration "${file.name}" in .mlw/runconfigs/.`);
  if (!config.script) {
    throw new UserFacingError(`Run configuration "${file.name}" names no script, so running it from its file has nothing to run. Add "script: path/to/train.py", or use "Run as Experiment…" from the script's editor.`);
  }
  const uri = vscode.Uri.file(path.join(file.folder.uri.fsPath, config.script));
  return runWithConfig(service, { uri: (await resolveTarget(uri)).uri, folder: file.folder }, config);
}

/** "Run as Experiment": the script, with the `default` run configuration when the workspace has one. */
export async function runAsExperiment(service: RunService, arg?: unknown): Promise<RunCommandResult> {
  try {
    const configFile = runConfigFileOf(targetUri(arg));
    if (configFile) return await runConfigFile(service, configFile);
    const target = await resolveTarget(arg);
    const config = await (await runConfigs()).loadRunConfig(target.folder.uri.fsPath, 'default');
    return await runWithConfig(service, target, config ? { ...config, script: undefined } : undefined);
  } catch (err) {
    return showError(err);
  }
}

/**
 * "Run as Experiment…": pick a run configuration (or create one from a template, opened for editing).
 * `configName` skips the picker (tests, keybindings).
 */
export async function runAsExperimentWithConfig(service: RunService, arg?: unknown, configName?: string): Promise<RunCommandResult> {
  try {
    const configFile = runConfigFileOf(targetUri(arg));
    if (configFile && !configName) return await runConfigFile(service, configFile);
    const target = await resolveTarget(arg);
    const root = target.folder.uri.fsPath;
    let name = configName;
    if (!name) {
      const picked = await pickConfig(root, target);
      if (!picked) return { canceled: true };
      if (picked === NEW_CONFIG) return await createConfig(root, vscode.workspace.asRelativePath(target.uri, false));
      name = picked;
    }
    const config = await (await runConfigs()).loadRunConfig(root, name);
    if (!config) throw new UserFacingError(`No run configuration "${name}" in .mlw/runconfigs/ (expected ${name}.yaml).`);
    return await runWithConfig(service, target, config);
  } catch (err) {
    return showError(err);
  }
}

const NEW_CONFIG = Symbol('new run configuration');

/**
 * The configuration picker: each configuration with the script and arguments it runs (a configuration without a
 * script runs the editor's), and "New run configuration…". A configuration that does not load says why.
 */
async function pickConfig(root: string, target: Target): Promise<string | typeof NEW_CONFIG | undefined> {
  const { listRunConfigs, loadRunConfig } = await runConfigs();
  const editorScript = vscode.workspace.asRelativePath(target.uri, false);
  type Item = vscode.QuickPickItem & { name?: string };
  const items: Item[] = [];
  for (const name of await listRunConfigs(root)) {
    try {
      const c = await loadRunConfig(root, name);
      const script = c?.script ?? editorScript;
      items.push({ label: name, description: `${script}${c?.args.length ? ' ' + joinArgs(c.args) : ''}`, detail: `.mlw/runconfigs/${path.basename(c?.file ?? name + '.yaml')}${name === 'default' ? ' · also used by plain "Run as Experiment"' : ''}`, name });
    } catch (err) {
      items.push({ label: name, description: '$(error) does not load', detail: (err as Error).message, name });
    }
  }
  items.push({ label: '$(add) New run configuration…', description: '' });
  const picked = await vscode.window.showQuickPick(items, { title: `Run ${path.basename(target.uri.fsPath)} with…`, matchOnDescription: true });
  if (!picked) return undefined;
  return picked.name ?? NEW_CONFIG;
}

async function createConfig(root: string, scriptRel: string): Promise<RunCommandResult> {
  const { runConfigTemplate, saveRunConfig, validateRunConfigName } = await runConfigs();
  // Not "default": that name also changes what plain "Run as Experiment" does for every script, so taking the
  // prefilled name must not do that silently (issue 10). Typing it is allowed, with the consequence shown.
  const suggested = path.basename(scriptRel, path.extname(scriptRel)).replace(/[^\w.-]/g, '-') || 'experiment';
  const name = await vscode.window.showInputBox({
    title: 'New run configuration',
    prompt: 'Name (saved as .mlw/runconfigs/<name>.yaml)',
    value: suggested,
    validateInput: (v) => validateRunConfigName(v.trim()) ?? (v.trim() === 'default'
      ? { message: '"default" is also used by plain "Run as Experiment" for every script of this folder.', severity: vscode.InputBoxValidationSeverity.Warning }
      : undefined),
  });
  if (!name) return { canceled: true };
  const file = await saveRunConfig(root, name.trim(), runConfigTemplate(scriptRel));
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  void vscode.window.showInformationMessage(`Created run configuration "${name.trim()}". Edit it, then use "Run as Experiment…" to run with it.`);
  return { createdConfig: file };
}

export async function rerunCommand(service: RunService, arg?: unknown): Promise<RunCommandResult> {
  try {
    const picked = await pickRun(service.runs, arg, 'Rerun which run? (same snapshot, image and arguments)');
    if (!picked) return { canceled: true };
    if (!vscode.workspace.isTrusted) throw new UserFacingError('Rerunning executes code from this workspace. Trust the workspace first.');
    revealOutputOnStart(service, picked.folder);
    return await withRunProgress(`Rerun ${picked.run.script}`, (onStatus) => service.rerun(picked.folder, picked.run.id, onStatus));
  } catch (err) {
    return showError(err);
  }
}

export async function cancelRun(service: RunService, arg?: unknown): Promise<string | undefined> {
  const picked = await pickRun(service.runs, arg, 'Cancel which run?', ['Queued', 'Running']);
  if (!picked) return undefined;
  if (isTerminal(picked.run.status)) {
    void vscode.window.showInformationMessage(`Run ${picked.run.id} already ended (${picked.run.status}).`);
    return undefined;
  }
  await service.cancel(picked.folder, picked.run.id);
  return picked.run.id;
}

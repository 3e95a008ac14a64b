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
import { showError } from '../common/userErrors';
import { RunService } from './runService';

/**
 * What the run commands return, so callers (tests, other extensions) learn the run id or why there is none: these
 * keep their own catch (to return the message) where other commands rely on registerCommand's.
 */
export type RunCommandResult = { runId: string } | { error: string } | { canceled: true } | { createdConfig: string };

interface Target {
  uri: vscode.Uri;
  folder: vscode.WorkspaceFolder;
}

/** The script a run command acts on, with every reason it cannot run spelled out. */
async function resolveTarget(arg: unknown): Promise<Target> {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
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
async function withRunProgress(title: string, submit: (onStatus: (run: RunRecord) => void, onBuild: (text: string) => void) => Promise<RunHandle>): Promise<RunCommandResult> {
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
function revealOutputOnStart(service: RunService, folder: vscode.WorkspaceFolder): void {
  if (readSettings(folder.uri).revealOutput === 'always') service.output.channel.show(true);
}

async function runWithConfig(service: RunService, target: Target, config: RunConfig | undefined): Promise<RunCommandResult> {
  let scriptUri = target.uri;
  if (config?.script) scriptUri = vscode.Uri.file(path.join(target.folder.uri.fsPath, config.script));
  const options: RunOptions | undefined = config ? optionsFromConfig(config) : undefined;
  revealOutputOnStart(service, target.folder);
  return withRunProgress(`Run ${path.basename(scriptUri.fsPath)}${config ? ` (${config.name})` : ''}`, (onStatus, onBuild) =>
    service.start(target.folder, scriptUri, config?.args ?? [], options, (run) => onStatus(run), onBuild),
  );
}

/** "Run as Experiment": the script, with the `default` run configuration when the workspace has one. */
export async function runAsExperiment(service: RunService, arg?: unknown): Promise<RunCommandResult> {
  try {
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
    const target = await resolveTarget(arg);
    const root = target.folder.uri.fsPath;
    let name = configName;
    if (!name) {
      const names = await (await runConfigs()).listRunConfigs(root);
      const NEW = '$(add) New run configuration…';
      const picked = await vscode.window.showQuickPick([...names.map((n) => ({ label: n, description: `.mlw/runconfigs/${n}.yaml` })), { label: NEW, description: '' }], {
        title: `Run ${path.basename(target.uri.fsPath)} with…`,
      });
      if (!picked) return { canceled: true };
      if (picked.label === NEW) return await createConfig(root, vscode.workspace.asRelativePath(target.uri, false));
      name = picked.label;
    }
    const config = await (await runConfigs()).loadRunConfig(root, name);
    if (!config) throw new UserFacingError(`No run configuration "${name}" in .mlw/runconfigs/ (expected ${name}.yaml).`);
    return await runWithConfig(service, target, config);
  } catch (err) {
    return showError(err);
  }
}

async function createConfig(root: string, scriptRel: string): Promise<RunCommandResult> {
  const { runConfigTemplate, saveRunConfig, validateRunConfigName } = await runConfigs();
  const name = await vscode.window.showInputBox({
    title: 'New run configuration',
    prompt: 'Name (saved as .mlw/runconfigs/<name>.yaml)',
    value: 'default',
    validateInput: (v) => validateRunConfigName(v.trim()),
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

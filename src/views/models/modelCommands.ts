import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isInsideFolder } from '../../model/common/containment';
import type { ModelRegistry, RegisterOptions } from '../../model/models/modelRegistry';
import { ModelVersion, checkAlias, checkModelName, formatModelRef } from '../../model/models/modelVersion';
import { Commands } from '../common/commandIds';
import { pickRun } from '../common/runPicker';
import { showError } from '../common/userErrors';
import type { WorkspaceModels } from '../common/workspaceModels';
import type { WorkspaceRuns } from '../common/workspaceRuns';
import type { ModelsNode } from './modelsTree';

type VersionNode = Extract<ModelsNode, { kind: 'version' }>;

/** A model name suggested from a file name: `outputs/iris_model.joblib` → `iris_model`. */
export function suggestModelName(file: string): string {
  const base = path.basename(file).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return (base || 'model').slice(0, 64);
}

/** Outputs of a run a model can be made of: its files and folders, outputs-relative, at most `max`. */
function outputEntries(outputs: string, max = 500): { rel: string; dir: boolean }[] {
  const out: { rel: string; dir: boolean }[] = [];
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (out.length >= max) return;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push({ rel: r, dir: true });
        walk(path.join(dir, e.name), r);
      } else if (e.isFile()) {
        out.push({ rel: r, dir: false });
      }
    }
  };
  walk(outputs, '');
  return out;
}

async function askName(registry: ModelRegistry, suggested: string): Promise<string | undefined> {
  const existing = await registry.modelNames().catch(() => [] as string[]);
  return vscode.window.showInputBox({
    title: 'Register Model: name',
    prompt: existing.length ? `A new model, or the next version of one of: ${existing.join(', ')}` : 'The model\'s name; its versions are numbered from 1',
    value: suggested,
    validateInput: (v) => {
      try {
        checkModelName(v.trim());
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  }).then((v) => v?.trim());
}

/**
 * "Register Model…": from a run (Runs view, run details, a run id), from a file or folder in the explorer (a
 * run's outputs keep the run's lineage) or from the palette (pick a run, then one of its outputs). Asks for a
 * name (suggested from the file) and a description; `options` answers them for tests and callers.
 */
export async function registerModel(models: WorkspaceModels, runs: WorkspaceRuns, arg?: unknown, outputPath?: string, options?: Partial<RegisterOptions>): Promise<ModelVersion | { error: string } | undefined> {
  let target: { registry: ModelRegistry; runId?: string; rel?: string; file?: string } | undefined;
  if (arg instanceof vscode.Uri) {
    const owner = models.forUri(arg);
    if (!owner) {
      void vscode.window.showErrorMessage('Register Model: open the file from a workspace folder first.');
      return undefined;
    }
    const runsDir = path.join(owner.folder.uri.fsPath, '.mlw', 'runs');
    const inRun = isInsideFolder(runsDir, arg.fsPath) ? path.relative(runsDir, arg.fsPath).split(path.sep) : undefined;
    if (inRun && inRun.length >= 3 && inRun[1] === 'outputs') target = { registry: owner.registry, runId: inRun[0], rel: inRun.slice(2).join('/') };
    else target = { registry: owner.registry, file: arg.fsPath };
  } else {
    const picked = await pickRun(runs, arg, 'Register a model from which run?', ['Completed']);
    if (!picked) return undefined;
    const registry = models.of(picked.folder);
    let rel = outputPath;
    if (rel === undefined) {
      const entries = outputEntries(picked.runs.store.paths(picked.run.id).outputs);
      if (!entries.length) {
        void vscode.window.showInformationMessage(`Run ${picked.run.id} wrote no outputs to register. Save the model under outputs/ in the script (e.g. joblib.dump(model, "outputs/model.joblib")).`);
        return undefined;
      }
      const logged = new Set(picked.run.artifacts ?? []);
      const choice = await vscode.window.showQuickPick(
        entries.map((e) => ({ label: `$(${e.dir ? 'folder' : 'file'}) outputs/${e.rel}`, description: logged.has(e.rel) ? 'logged by the script' : undefined, rel: e.rel })),
        { title: `Register Model: which output of run #${picked.run.id.slice(-4)}?`, matchOnDescription: true },
      );
      if (!choice) return undefined;
      rel = choice.rel;
    }
    target = { registry, runId: picked.run.id, rel };
  }
  const shownPath = target.file ?? target.rel ?? '';
  const name = options?.name ?? (await askName(target.registry, suggestModelName(shownPath)));
  if (!name) return undefined;
  const description = options?.name !== undefined ? options.description : await vscode.window.showInputBox({ title: `Register Model: description of ${name} (optional)`, prompt: 'What changed in this version; Enter to skip' });
  if (description === undefined && options?.name === undefined) return undefined;
  const opts: RegisterOptions = { ...options, name, description: description || undefined };
  try {
    const t = target;
    const v = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Registering model ${name}…` }, () =>
      t.file !== undefined ? t.registry.registerFile(t.file, opts) : t.registry.registerFromRun(t.runId!, t.rel!, opts));
    void vscode.window.showInformationMessage(`Registered ${formatModelRef(v)}.`, 'Show in Models').then((b) => b && vscode.commands.executeCommand('mlw.models.focus'));
    return v;
  } catch (err) {
    return showError(err);
  }
}

function versionOf(node: unknown): VersionNode | undefined {
  const n = node as VersionNode | undefined;
  return n?.kind === 'version' ? n : undefined;
}

/** "Set Alias…" on a version: production, staging or another name; moves the alias from another version. */
export async function setModelAlias(models: WorkspaceModels, node: unknown, alias?: string): Promise<string | { error: string } | undefined> {
  const v = versionOf(node);
  if (!v) return undefined;
  let chosen = alias;
  if (chosen === undefined) {
    const pick = await vscode.window.showQuickPick([
      { label: 'production' }, { label: 'staging' }, { label: 'Another alias…', other: true },
    ], { title: `Alias for ${v.name}:${v.version}` });
    if (!pick) return undefined;
    chosen = 'other' in pick ? await vscode.window.showInputBox({ title: 'Alias name', validateInput: (s) => { try { checkAlias(s); return undefined; } catch (e) { return (e as Error).message; } } }) : pick.label;
    if (!chosen) return undefined;
  }
  try {
    await models.of(v.folder).setAlias(v.name, v.version, chosen);
    return chosen;
  } catch (err) {
    return showError(err);
  }
}

/** "Delete Version…": asks first; refused (with the deployment named) while a deployment serves it. */
export async function deleteModelVersion(models: WorkspaceModels, node: unknown, confirmed = false): Promise<boolean | { error: string }> {
  const v = versionOf(node);
  if (!v) return false;
  if (!confirmed) {
    const answer = await vscode.window.showWarningMessage(`Delete ${v.name}:${v.version}? Its record goes; its files go once no other version holds them.`, { modal: true }, 'Delete');
    if (answer !== 'Delete') return false;
  }
  try {
    await models.of(v.folder).deleteVersion(v.name, v.version);
    return true;
  } catch (err) {
    return showError(err);
  }
}

/** "Reveal Source Run": the run the version came from, in Run details. */
export async function openModelSourceRun(node: unknown): Promise<unknown> {
  const v = versionOf(node);
  if (!v || v.model.source.kind !== 'run') return undefined;
  return vscode.commands.executeCommand(Commands.openRunDetails, v.model.source.runId);
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserFacingError } from '../../model/common/errors';
import { pickRun } from '../common/runPicker';
import { showError } from '../common/userErrors';
import { ParamOption, joinArgs, paramOptions, setOption, splitArgs } from './argLine';
import { RunCommandResult, resolveTarget, revealOutputOnStart, runWithConfig, withRunProgress } from './runAsExperiment';
import type { RunService } from './runService';

const runConfigs = () => import('../../model/runconfig/runConfig');

const HISTORY_KEY = 'mlw.argumentHistory';
const HISTORY_MAX = 20;

/** The argument lines used per script (workspace-relative path), newest first, remembered per workspace. */
export class ArgumentHistory {
  constructor(private readonly memento: vscode.Memento) {}

  lines(script: string): string[] {
    const all = this.memento.get<Record<string, unknown>>(HISTORY_KEY) ?? {};
    const lines = all[script];
    return Array.isArray(lines) ? lines.filter((l): l is string => typeof l === 'string') : [];
  }

  async remember(script: string, line: string): Promise<void> {
    const all = { ...(this.memento.get<Record<string, string[]>>(HISTORY_KEY) ?? {}) };
    all[script] = [line, ...this.lines(script).filter((l) => l !== line)].slice(0, HISTORY_MAX);
    await this.memento.update(HISTORY_KEY, all);
  }
}

type LineItem = vscode.QuickPickItem & ({ pick: 'line'; line: string } | { pick: 'param'; offer: ParamOption });

/**
 * One argument line, typed or chosen: the box starts with `initial`; the first row runs what is typed, the rows
 * below are the earlier lines (always shown, not filtered by what is typed) and, for Modify and Rerun, the params
 * to change one at a time. Resolves with the line, or undefined when dismissed.
 */
async function pickArgumentLine(title: string, initial: string, history: string[], offers: ParamOption[] = []): Promise<string | undefined> {
  let line = initial;
  for (;;) {
    const picked = await pickOnce(title, line, history, offers);
    if (!picked) return undefined;
    if (picked.pick === 'line') return picked.line;
    const { offer } = picked;
    const args = splitArgs(picked.typed);
    const i = args.findIndex((a) => a === offer.option || a.startsWith(`${offer.option}=`));
    const current = i < 0 ? offer.value : args[i].includes('=') ? args[i].slice(offer.option.length + 1) : args[i + 1] ?? offer.value;
    const value = await vscode.window.showInputBox({ title: `${title}: ${offer.option}`, prompt: `New value of param "${offer.param}" (logged ${offer.value})`, value: current });
    line = value === undefined ? picked.typed : joinArgs(setOption(args, offer.option, value));
  }
}

function pickOnce(title: string, initial: string, history: string[], offers: ParamOption[]): Promise<(LineItem & { typed: string }) | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<LineItem>();
    qp.title = title;
    qp.placeholder = 'Arguments for the script, e.g. --lr 0.01 --epochs 5 (Enter runs them)';
    qp.value = initial;
    qp.matchOnDescription = false;
    const update = () => {
      const typed = qp.value.trim();
      qp.items = [
        { pick: 'line', line: typed, label: typed || '(no arguments)', description: 'run with these arguments', alwaysShow: true },
        ...offers.map((offer): LineItem => ({ pick: 'param', offer, label: `$(symbol-variable) ${offer.option} ${offer.value}`, description: `change param ${offer.param}`, alwaysShow: true })),
        ...history.filter((l) => l !== typed).map((l): LineItem => ({ pick: 'line', line: l, label: l || '(no arguments)', description: 'used before', alwaysShow: true })),
      ];
    };
    update();
    let done = false;
    qp.onDidChangeValue(update);
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0] ?? qp.activeItems[0];
      done = true;
      resolve(item ? { ...item, typed: qp.value.trim() } : undefined);
      qp.hide();
    });
    qp.onDidHide(() => {
      if (!done) resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

function parseLine(line: string): string[] {
  try {
    return splitArgs(line);
  } catch (err) {
    throw new UserFacingError(`Could not read the arguments: ${(err as Error).message}.`);
  }
}

/**
 * "Run as Experiment with Arguments…": the script with an argument line, prefilled with the last one used for
 * that script here, earlier ones offered below; with the `default` run configuration's settings as plain Run as
 * Experiment has. `line` skips the question (tests, keybindings).
 */
export async function runAsExperimentWithArgs(service: RunService, history: ArgumentHistory, arg?: unknown, line?: unknown): Promise<RunCommandResult> {
  try {
    const target = await resolveTarget(arg);
    const script = vscode.workspace.asRelativePath(target.uri, false);
    const earlier = history.lines(script);
    const text = typeof line === 'string' ? line : await pickArgumentLine(`Run ${path.basename(script)} with arguments`, earlier[0] ?? '', earlier);
    if (text === undefined) return { canceled: true };
    const args = parseLine(text);
    const config = await (await runConfigs()).loadRunConfig(target.folder.uri.fsPath, 'default');
    await history.remember(script, joinArgs(args));
    return await runWithConfig(service, target, config ? { ...config, script: undefined } : undefined, args);
  } catch (err) {
    return showError(err);
  }
}

export type RerunSource = 'snapshot' | 'workspace';

/** What Modify and Rerun takes without asking (tests, other extensions). */
export interface ModifyChoice {
  args?: string[] | string;
  from?: RerunSource;
}

function parseChoice(v: unknown): ModifyChoice {
  if (!v || typeof v !== 'object') return {};
  const o = v as Record<string, unknown>;
  const args = typeof o.args === 'string' || (Array.isArray(o.args) && o.args.every((a) => typeof a === 'string')) ? (o.args as string[] | string) : undefined;
  const from = o.from === 'snapshot' || o.from === 'workspace' ? o.from : undefined;
  return { args, from };
}

/**
 * "Modify and Rerun…": a run's arguments to edit (its logged params that came from its arguments offered one
 * by one as `--name value`), then from the run's own snapshot (same code and image) or from the current code.
 */
export async function modifyAndRerun(service: RunService, history: ArgumentHistory, arg?: unknown, choice?: unknown): Promise<RunCommandResult> {
  try {
    const given = parseChoice(choice);
    const picked = await pickRun(service.runs, arg, 'Modify and rerun which run?', ['Completed', 'Failed', 'Canceled', 'Lost']);
    if (!picked) return { canceled: true };
    if (!vscode.workspace.isTrusted) throw new UserFacingError('Rerunning executes code from this workspace. Trust the workspace first.');
    const run = picked.run;
    const paths = picked.runs.store.paths(run.id);
    let args: string[];
    if (given.args !== undefined) {
      args = typeof given.args === 'string' ? parseLine(given.args) : given.args;
    } else {
      const source = await fs.promises.readFile(path.join(paths.snapshot, run.script), 'utf8').catch(() => '');
      const offers = paramOptions(run.params ?? {}, run.args, source);
      const text = await pickArgumentLine(`Modify and rerun ${run.name ?? run.id}`, joinArgs(run.args), history.lines(run.script), offers);
      if (text === undefined) return { canceled: true };
      args = parseLine(text);
    }
    let from = given.from;
    if (!from) {
      const snapshotOk = !!run.imageId && fs.existsSync(paths.snapshot);
      const choices: (vscode.QuickPickItem & { from: RerunSource })[] = [
        ...(snapshotOk ? [{ from: 'snapshot' as const, label: 'Same snapshot', description: `the code and image run ${run.id.slice(-4)} ran` }] : []),
        { from: 'workspace', label: 'Current code', description: `${run.script} as it is in the workspace now` },
      ];
      const source = await vscode.window.showQuickPick(choices, { title: `Rerun ${run.script} ${joinArgs(args)} from…` });
      if (!source) return { canceled: true };
      from = source.from;
    }
    await history.remember(run.script, joinArgs(args));
    if (from === 'snapshot') {
      revealOutputOnStart(service, picked.folder);
      return await withRunProgress(`Rerun ${run.script}`, (onStatus) => service.rerun(picked.folder, run.id, onStatus, args));
    }
    const target = await resolveTarget(vscode.Uri.file(path.join(picked.folder.uri.fsPath, run.script)));
    revealOutputOnStart(service, picked.folder);
    return await withRunProgress(`Run ${run.script}`, (onStatus, onBuild) => service.start(target.folder, target.uri, args, run.options, onStatus, onBuild));
  } catch (err) {
    return showError(err);
  }
}

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { RunStatus, TERMINAL_STATUSES } from '../../model/runs/run';
import { connectDocker } from '../../runner/docker/client';
import { CleanupCriteria, DeleteResult, deleteRuns, describeDeletion, planCleanup } from '../../runner/runCleanup';
import { formatDate, formatMB } from '../../model/common/format';
import { pickRun } from '../common/runPicker';
import { readSettings } from '../common/settings';
import type { FolderRuns, WorkspaceRuns } from '../common/workspaceRuns';
import type { RunDetailsPanel } from '../details/runDetailsPanel';
import type { RunDetailsPreview } from './runDetailsPreview';
import { showError } from '../common/userErrors';
import { untrustedWorkspaceError } from '../common/workspaceTrust';
import { RunFilter } from './runFilter';
import { RunsNode } from './runsTree';
import { RunsView } from './runsView';

export interface RunRef {
  /** The owner of the run's folder: every read and write of the run goes through it. */
  owner: FolderRuns;
  id: string;
}

/**
 * The runs a tree command acts on: the multi-selection when the clicked node is part of it, else the
 * clicked node, else (palette) a run id argument or a quick-pick.
 */
export async function resolveRuns(runs: WorkspaceRuns, node: unknown, selection: unknown, title: string): Promise<RunRef[]> {
  const asRef = (n: unknown): RunRef | undefined => {
    const r = n as RunsNode | undefined;
    return r && r.kind === 'run' ? { owner: runs.of(r.folder), id: r.id } : undefined;
  };
  if (Array.isArray(selection) && selection.length > 1) return selection.map(asRef).filter((r): r is RunRef => !!r);
  const single = asRef(node);
  if (single) return [single];
  const picked = await pickRun(runs, node, title);
  return picked ? [{ owner: picked.runs, id: picked.run.id }] : [];
}

/**
 * A click on a run row: its details as the preview panel (double click pins). A row of a run deleted meanwhile
 * (by another window, the CLI) says so and leaves the tree.
 */
export async function openSelectedRun(view: RunsView, preview: RunDetailsPreview, runs: WorkspaceRuns): Promise<RunDetailsPanel | undefined> {
  const node = view.selectedRun();
  if (!node) return undefined;
  const owner = runs.of(node.folder);
  // A damaged record still opens: its panel says what is wrong with it.
  const gone = (await owner.get(node.id).then((r) => !r, () => false));
  if (gone) {
    owner.noteDeleted(node.id);
    void vscode.window.showInformationMessage(`Run ${node.id} was deleted, so it has no details to show; the Runs view drops it.`);
    return undefined;
  }
  return preview.click(owner, node.id);
}

export async function renameRun(runs: WorkspaceRuns, node?: unknown, newName?: string): Promise<string | undefined> {
  const [ref] = await resolveRuns(runs, node, undefined, 'Rename which run?');
  if (!ref) return undefined;
  const run = await ref.owner.get(ref.id);
  const name = newName ?? (await vscode.window.showInputBox({ title: `Rename run ${ref.id}`, value: run?.name ?? '', prompt: 'Empty to go back to the id' }));
  if (name === undefined) return undefined;
  await ref.owner.update(ref.id, { name: name.trim() || undefined });
  return name.trim();
}

export async function tagRun(runs: WorkspaceRuns, node?: unknown, labels?: string[]): Promise<string[] | undefined> {
  const [ref] = await resolveRuns(runs, node, undefined, 'Label which run?');
  if (!ref) return undefined;
  const run = await ref.owner.get(ref.id);
  let next = labels;
  if (!next) {
    const text = await vscode.window.showInputBox({ title: `Labels of run ${ref.id}`, value: (run?.labels ?? []).join(', '), prompt: 'Comma-separated, e.g. baseline, best' });
    if (text === undefined) return undefined;
    next = text.split(',');
  }
  const clean = [...new Set(next.map((l) => l.trim()).filter(Boolean))];
  await ref.owner.update(ref.id, { labels: clean.length ? clean : undefined });
  return clean;
}

export async function setStarred(runs: WorkspaceRuns, node: unknown, selection: unknown, starred: boolean): Promise<string[]> {
  const refs = await resolveRuns(runs, node, selection, starred ? 'Star which run?' : 'Unstar which run?');
  for (const ref of refs) await ref.owner.update(ref.id, { starred: starred || undefined });
  return refs.map((r) => r.id);
}

/** Deletes runs after a modal confirmation (skipped when `confirmed`): containers, files, images no run uses. */
export async function deleteRunsCommand(runs: WorkspaceRuns, node?: unknown, selection?: unknown, confirmed = false): Promise<DeleteResult | { error: string } | undefined> {
  if (!vscode.workspace.isTrusted) return showError(untrustedWorkspaceError('delete'));
  const refs = await resolveRuns(runs, node, selection, 'Delete which run?');
  if (!refs.length) return undefined;
  if (!confirmed) {
    const what = refs.length === 1 ? `run ${refs[0].id}` : `${refs.length} runs`;
    const ok = await vscode.window.showWarningMessage(`Delete ${what}?`, { modal: true, detail: 'Its logs, outputs, snapshot and metrics are removed, and the environment image too if no other run uses it. This cannot be undone.' }, 'Delete');
    if (ok !== 'Delete') return undefined;
  }
  const total: DeleteResult = { deleted: [], imagesRemoved: [], imagesKept: [] };
  for (const owner of new Set(refs.map((r) => r.owner))) {
    const ids = refs.filter((r) => r.owner === owner).map((r) => r.id);
    const result = await deleteRuns(connectDocker(readSettings(owner.folder.uri).dockerHost), owner.store, ids);
    total.deleted.push(...result.deleted);
    total.imagesRemoved.push(...result.imagesRemoved);
    total.imagesKept.push(...result.imagesKept);
  }
  void vscode.window.showInformationMessage(describeDeletion(total));
  return total;
}

/**
 * Clean-up criteria passed to "Clean Up Runs…" (tests, automation), or undefined for anything else: the view
 * title's button passes the focused row, which must lead to the questions, not to an empty clean-up.
 */
export function parseCleanupCriteria(v: unknown): CleanupCriteria | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const known = new Set(['olderThanDays', 'statuses', 'keepStarred']);
  if (!Object.keys(o).length || Object.keys(o).some((k) => !known.has(k))) return undefined;
  if (o.olderThanDays !== undefined && (typeof o.olderThanDays !== 'number' || !(o.olderThanDays >= 0))) return undefined;
  if (o.statuses !== undefined && (!Array.isArray(o.statuses) || o.statuses.some((s) => !(TERMINAL_STATUSES as readonly string[]).includes(s)))) return undefined;
  if (o.keepStarred !== undefined && typeof o.keepStarred !== 'boolean') return undefined;
  return o as CleanupCriteria;
}

/**
 * "Clean Up…": asks what to clean (older than N days, failed/canceled/lost), previews each run and image with
 * the bytes it frees (all preselected, untick to keep), then deletes them together. `criteria` and `confirmed`
 * skip the questions (tests, automation).
 */
export async function cleanUpCommand(runs: WorkspaceRuns, criteria?: CleanupCriteria, confirmed = false): Promise<DeleteResult | { error: string } | undefined> {
  if (!vscode.workspace.isTrusted) return showError(untrustedWorkspaceError('cleanUp'));
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return undefined;
  let c = criteria;
  if (!c) {
    const choice = await vscode.window.showQuickPick(
      [
        { label: 'Failed, canceled and lost runs', criteria: { statuses: ['Failed', 'Canceled', 'Lost'] as RunStatus[] } },
        { label: 'Runs older than 30 days', criteria: { olderThanDays: 30 } },
        { label: 'Runs older than 7 days', criteria: { olderThanDays: 7 } },
        { label: 'Both: failed/canceled/lost, and anything older than 30 days', criteria: { olderThanDays: 30, statuses: ['Failed', 'Canceled', 'Lost'] as RunStatus[] } },
      ],
      { title: 'Clean up which runs? (starred runs are always kept)' },
    );
    if (!choice) return undefined;
    c = choice.criteria;
  }
  const docker = connectDocker(readSettings(folder.uri).dockerHost);
  const runStore = runs.of(folder).store;
  const plan = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Measuring what can be cleaned up…' }, () => planCleanup(docker, runStore, c!));
  if (!plan.runs.length) {
    void vscode.window.showInformationMessage('Nothing to clean up: no runs match.');
    return { deleted: [], imagesRemoved: [], imagesKept: [] };
  }
  let ids = plan.runs.map((r) => r.id);
  if (!confirmed) {
    const picked = await vscode.window.showQuickPick(
      plan.runs.map((r) => ({ label: r.script, description: `${r.status} · ${r.id}`, detail: `${formatMB(r.bytes)} · ${formatDate(r.createdAt)}`, picked: true, id: r.id })),
      { canPickMany: true, title: `Clean up ${plan.runs.length} run(s), ${formatMB(plan.bytes)} in all${plan.images.length ? ` (with ${plan.images.length} image(s) only they use)` : ''}` },
    );
    if (!picked?.length) return undefined;
    ids = picked.map((p) => p.id);
  }
  const result = await deleteRuns(docker, runStore, ids);
  void vscode.window.showInformationMessage(describeDeletion(result));
  return result;
}

/** "Filter…": status, label/tag, text. `filter` sets it directly (tests). */
export async function filterRunsCommand(view: RunsView, filter?: RunFilter): Promise<RunFilter | undefined> {
  if (filter) {
    view.setFilter(filter);
    return filter;
  }
  const current = view.provider.filter;
  const statuses = await vscode.window.showQuickPick(
    [...['Queued', 'Running'], ...TERMINAL_STATUSES].map((s) => ({ label: s, picked: current.statuses?.includes(s as RunStatus) ?? false })),
    { canPickMany: true, title: 'Filter runs: statuses (none = all)' },
  );
  if (!statuses) return undefined;
  const text = await vscode.window.showInputBox({ title: 'Filter runs: text in id, name, script, args, labels (empty = any)', value: current.text ?? '' });
  if (text === undefined) return undefined;
  const tag = await vscode.window.showInputBox({ title: 'Filter runs: label or tag, e.g. best or stage=prod (empty = any)', value: current.tag ?? '' });
  if (tag === undefined) return undefined;
  const next: RunFilter = { ...current, statuses: statuses.map((s) => s.label as RunStatus), text: text.trim() || undefined, tag: tag.trim() || undefined };
  view.setFilter(next);
  return next;
}

/** Read-only log documents (scheme mlw-log) that follow logs.txt while the run writes it. */
export class RunLogDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'mlw-log';
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(RunLogDocuments.scheme, this);
  private readonly closing = vscode.workspace.onDidCloseTextDocument((doc) => {
    if (doc.uri.scheme !== RunLogDocuments.scheme) return;
    this.watchers.get(doc.uri.toString())?.close();
    this.watchers.delete(doc.uri.toString());
  });

  static uriFor(ref: RunRef): vscode.Uri {
    const file = ref.owner.store.paths(ref.id).logs;
    return vscode.Uri.from({ scheme: RunLogDocuments.scheme, path: `/${ref.id}.log`, query: encodeURIComponent(file) });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const file = decodeURIComponent(uri.query);
    if (!this.watchers.has(uri.toString()) && fs.existsSync(file)) {
      let timer: NodeJS.Timeout | undefined;
      const w = fs.watch(file, () => {
        clearTimeout(timer);
        timer = setTimeout(() => this.changed.fire(uri), 150);
      });
      this.watchers.set(uri.toString(), w);
    }
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '(no output yet)';
    }
  }

  dispose(): void {
    for (const w of this.watchers.values()) w.close();
    this.registration.dispose();
    this.closing.dispose();
    this.changed.dispose();
  }
}

export async function openRunLogs(runs: WorkspaceRuns, node?: unknown): Promise<vscode.TextDocument | undefined> {
  const [ref] = await resolveRuns(runs, node, undefined, 'Show the logs of which run?');
  if (!ref) return undefined;
  const doc = await vscode.workspace.openTextDocument(RunLogDocuments.uriFor(ref));
  await vscode.window.showTextDocument(doc, { preview: false });
  return doc;
}

export async function openOutputs(runs: WorkspaceRuns, node?: unknown): Promise<vscode.Uri | undefined> {
  const [ref] = await resolveRuns(runs, node, undefined, 'Open the outputs of which run?');
  if (!ref) return undefined;
  const dir = vscode.Uri.file(ref.owner.store.paths(ref.id).outputs);
  const entries = fs.existsSync(dir.fsPath) ? fs.readdirSync(dir.fsPath) : [];
  if (!entries.length) {
    void vscode.window.showInformationMessage(`Run ${ref.id} wrote no outputs (files written to /workspace/outputs are kept).`);
    return dir;
  }
  await vscode.commands.executeCommand('revealInExplorer', dir);
  return dir;
}

import * as path from 'node:path';
import * as vscode from 'vscode';
import { CommandId, Commands } from './views/common/commandIds';
import { Disposable } from './views/common/disposable';
import { registerCommand } from './views/common/registerCommand';
import { WorkspaceModels } from './views/common/workspaceModels';
import { WorkspaceRuns } from './views/common/workspaceRuns';
import { cancelRun, rerunCommand, runAsExperiment, runAsExperimentWithConfig } from './views/runs/runAsExperiment';
import { RunOutput } from './views/runs/runOutput';
import { RunService } from './views/runs/runService';
import { RunStatusBar } from './views/runs/runStatusBar';
import { restoreSnapshot, showSnapshotDiff } from './views/runs/snapshotCommands';
import { RunLogDocuments, cleanUpCommand, deleteRunsCommand, filterRunsCommand, openOutputs, openRunLogs, openSelectedRun, parseCleanupCriteria, renameRun, setStarred, tagRun } from './views/runs/runCommands';
import { parseRunFilter } from './views/runs/runFilter';
import { ArgumentHistory, modifyAndRerun, runAsExperimentWithArgs } from './views/runs/runWithArguments';
import { RunDetailsPreview } from './views/runs/runDetailsPreview';
import type { RunsNode } from './views/runs/runsTree';
import { Walkthrough } from './views/runs/walkthrough';
import { RunsView } from './views/runs/runsView';
import { RunDetailsPanels, createRunDetails } from './views/details/runDetailsPanel';
import { ComparePanels, createCompare } from './views/compare/comparePanel';
import { RunConfigLanguageClient, pickRunConfigScript } from './views/languageClient/runConfigClient';
import { ScriptCodeLens, showScriptRuns } from './views/languageClient/scriptCodeLens';
import { deleteModelVersion, openModelSourceRun, registerModel, setModelAlias } from './views/models/modelCommands';
import { ModelsView } from './views/models/modelsView';
import { ExperimentsTables } from './views/table/experimentsTablePanel';

const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Composition root: makes each service once (the output channel, one owner of every folder's runs, the run
 * service, the views and panels) and registers every command from the table. Activation only wires things up:
 * no Docker, no disk work, and Docker's client is loaded the first time a run or an event stream needs it.
 */
class Workbench extends Disposable {
  readonly workspaceRuns: WorkspaceRuns;
  readonly runs: RunService;
  readonly runsView: RunsView;
  readonly runDetails: RunDetailsPanels;
  readonly runDetailsPreview: RunDetailsPreview;
  readonly compare: ComparePanels;
  readonly experimentsTable: ExperimentsTables;
  readonly runConfigLanguage: RunConfigLanguageClient;
  readonly models: WorkspaceModels;
  readonly modelsView: ModelsView;

  constructor(extensionPath: string, extensionUri: vscode.Uri, workspaceState: vscode.Memento) {
    super();
    const output = this._register(new RunOutput());
    const statusBar = this._register(new RunStatusBar());
    const workspaceRuns = (this.workspaceRuns = this._register(new WorkspaceRuns(output.channel)));
    const runs = (this.runs = this._register(new RunService(workspaceRuns, output, statusBar, path.join(extensionPath, 'python'))));
    const view = (this.runsView = this._register(new RunsView(output.channel, workspaceRuns)));
    this._register(new RunLogDocuments());
    const panels = { extensionUri, runs: workspaceRuns, log: output.channel };
    const runDetails = (this.runDetails = this._register(createRunDetails(panels)));
    const compare = (this.compare = this._register(createCompare(panels)));
    const experimentsTable = (this.experimentsTable = this._register(new ExperimentsTables(panels, workspaceState)));
    const argumentHistory = new ArgumentHistory(workspaceState);
    const preview = (this.runDetailsPreview = new RunDetailsPreview(runDetails));
    const walkthrough = this._register(new Walkthrough(runs, view));
    const models = (this.models = this._register(new WorkspaceModels(workspaceRuns)));
    const modelsView = (this.modelsView = this._register(new ModelsView(output.channel, models)));

    const commands: [CommandId, (...args: unknown[]) => unknown][] = [
      [Commands.runAsExperiment, (uri) => runAsExperiment(runs, uri)],
      [Commands.runAsExperimentWithConfig, (uri, config) => runAsExperimentWithConfig(runs, uri, asString(config))],
      [Commands.runAsExperimentWithArgs, (uri, line) => runAsExperimentWithArgs(runs, argumentHistory, uri, line)],
      [Commands.cancelRun, (run) => cancelRun(runs, run)],
      [Commands.rerun, (run) => rerunCommand(runs, run)],
      [Commands.modifyAndRerun, (run, choice) => modifyAndRerun(runs, argumentHistory, run, choice)],
      [Commands.showSnapshotDiff, (run, file) => showSnapshotDiff(workspaceRuns, run, asString(file))],
      [Commands.restoreSnapshot, (run, confirmed) => restoreSnapshot(workspaceRuns, run, confirmed === true)],
      [Commands.showLogs, () => output.channel.show()],
      [Commands.openRunDetails, (run) => walkthrough.openedDetails(runDetails.open(run).then((p) => (p && preview.pin(p.runId), p)))],
      [Commands.openSelectedRun, () => walkthrough.openedDetails(openSelectedRun(view, preview, workspaceRuns))],
      [Commands.compareRuns, (node, selection, ids) => walkthrough.compared(compare.compareRuns(node, selection, ids))],
      [Commands.compareWithBest, (node) => walkthrough.compared(compare.compareWithBest(node))],
      [Commands.openRunLogs, (node) => openRunLogs(workspaceRuns, node)],
      [Commands.openOutputs, (node) => openOutputs(workspaceRuns, node)],
      [Commands.renameRun, (node, name) => renameRun(workspaceRuns, node, asString(name))],
      [Commands.tagRun, (node, labels) => tagRun(workspaceRuns, node, Array.isArray(labels) ? labels : undefined)],
      [Commands.starRun, (node, selection) => setStarred(workspaceRuns, node, selection, true)],
      [Commands.unstarRun, (node, selection) => setStarred(workspaceRuns, node, selection, false)],
      [Commands.deleteRun, (node, selection, confirmed) => deleteRunsCommand(workspaceRuns, node, selection, confirmed === true)],
      [Commands.cleanUp, (criteria, confirmed) => cleanUpCommand(workspaceRuns, parseCleanupCriteria(criteria), confirmed === true)],
      [Commands.filterRuns, (filter) => filterRunsCommand(view, parseRunFilter(filter))],
      [Commands.clearRunFilter, () => view.setFilter({})],
      [Commands.showStarredOnly, () => view.setFilter({ ...view.provider.filter, starredOnly: true })],
      [Commands.showAllRuns, () => view.setFilter({ ...view.provider.filter, starredOnly: undefined })],
      [Commands.groupByConfig, () => view.setGroupBy('config')],
      [Commands.groupByScript, () => view.setGroupBy('script')],
      [Commands.refreshRuns, () => view.refreshNow()],
      [Commands.loadMoreRuns, (node) => {
        const more = (node as RunsNode | undefined) ?? view.selectedMore();
        if (more) view.provider.loadMore(more);
      }],
      [Commands.showScriptRuns, (uri) => showScriptRuns(view, uri)],
      [Commands.pickRunConfigScript, (uri, range, script) => pickRunConfigScript(uri, range, asString(script))],
      [Commands.registerModel, (target, outputPath, options) => registerModel(models, workspaceRuns, target, asString(outputPath), options as object | undefined)],
      [Commands.setModelAlias, (node, alias) => setModelAlias(models, node, asString(alias))],
      [Commands.deleteModelVersion, (node, confirmed) => deleteModelVersion(models, node, confirmed === true)],
      [Commands.openModelSourceRun, (node) => openModelSourceRun(node)],
      [Commands.refreshModels, () => modelsView.refresh()],
      [Commands.openExperimentsTable, (arg) => experimentsTable.open(arg)],
    ];
    for (const [id, handler] of commands) this._register(registerCommand(id, handler));

    // Run configuration language support (its server process starts with the first .mlw/runconfigs/*.yaml
    // opened) and the CodeLens on scripts that have runs.
    this.runConfigLanguage = this._register(new RunConfigLanguageClient(extensionPath, output.channel));
    this._register(new ScriptCodeLens(workspaceRuns));
  }
}

/** What activate() returns: for tests and other extensions. */
export interface WorkbenchApi {
  runs: RunService;
  runsView: RunsView;
  /** The one owner of each workspace folder's runs and their change feed. */
  workspaceRuns: WorkspaceRuns;
  /** The open run details panels (one per run) and the compare panel. */
  runDetails: RunDetailsPanels;
  /** Run details opened by clicks in the Runs view: the preview panel and pinning. */
  runDetailsPreview: RunDetailsPreview;
  compare: ComparePanels;
  /** The experiments table (one per window). */
  experimentsTable: ExperimentsTables;
  /** The run configuration language client, started on the first run configuration document. */
  runConfigLanguage: RunConfigLanguageClient;
  /** The model registry of each folder, and the Models view. */
  models: WorkspaceModels;
  modelsView: ModelsView;
  /** Settles once runs left behind by an earlier session have been reconciled with Docker. */
  reconciled: Promise<unknown>;
}

export function activate(context: vscode.ExtensionContext): WorkbenchApi {
  const workbench = new Workbench(context.extensionPath, context.extensionUri, context.workspaceState);
  context.subscriptions.push(workbench);
  // Off the activation path: Docker may be slow or absent, and activation must stay cheap.
  const reconciled = new Promise((resolve) => setTimeout(resolve, 0)).then(() => workbench.runs.reconcileAll());
  return { runs: workbench.runs, runsView: workbench.runsView, workspaceRuns: workbench.workspaceRuns, runDetails: workbench.runDetails, runDetailsPreview: workbench.runDetailsPreview, compare: workbench.compare, experimentsTable: workbench.experimentsTable, runConfigLanguage: workbench.runConfigLanguage, models: workbench.models, modelsView: workbench.modelsView, reconciled };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

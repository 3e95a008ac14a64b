/**
 * Every command id the extension contributes, and the context keys its menus test. A unit test checks this
 * table against package.json both ways, so a command cannot be contributed without a handler's id or the
 * reverse. No vscode import: the test runs under plain mocha.
 */
export const Commands = {
  runAsExperiment: 'mlw.runAsExperiment',
  runAsExperimentWithConfig: 'mlw.runAsExperimentWithConfig',
  runAsExperimentWithArgs: 'mlw.runAsExperimentWithArgs',
  cancelRun: 'mlw.cancelRun',
  rerun: 'mlw.rerun',
  modifyAndRerun: 'mlw.modifyAndRerun',
  showSnapshotDiff: 'mlw.showSnapshotDiff',
  restoreSnapshot: 'mlw.restoreSnapshot',
  showLogs: 'mlw.showLogs',
  openRunDetails: 'mlw.openRunDetails',
  openSelectedRun: 'mlw.runs.openSelected',
  openRunLogs: 'mlw.openRunLogs',
  openOutputs: 'mlw.openOutputs',
  renameRun: 'mlw.renameRun',
  tagRun: 'mlw.tagRun',
  starRun: 'mlw.starRun',
  unstarRun: 'mlw.unstarRun',
  deleteRun: 'mlw.deleteRun',
  cleanUp: 'mlw.cleanUp',
  filterRuns: 'mlw.filterRuns',
  clearRunFilter: 'mlw.clearRunFilter',
  showStarredOnly: 'mlw.runs.showStarredOnly',
  showAllRuns: 'mlw.runs.showAll',
  groupByConfig: 'mlw.runs.groupByConfig',
  groupByScript: 'mlw.runs.groupByScript',
  refreshRuns: 'mlw.runs.refresh',
  loadMoreRuns: 'mlw.runs.loadMore',
  compareRuns: 'mlw.compareRuns',
  compareWithBest: 'mlw.compareWithBest',
  showScriptRuns: 'mlw.showScriptRuns',
  pickRunConfigScript: 'mlw.pickRunConfigScript',
  registerModel: 'mlw.registerModel',
  setModelAlias: 'mlw.models.setAlias',
  deleteModelVersion: 'mlw.models.deleteVersion',
  openModelSourceRun: 'mlw.models.openSourceRun',
  refreshModels: 'mlw.models.refresh',
  openExperimentsTable: 'mlw.openExperimentsTable',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

export const ContextKeys = {
  hasActiveRuns: 'mlw.hasActiveRuns',
  runsGroupBy: 'mlw.runs.groupBy',
  runsFiltered: 'mlw.runs.filtered',
  runsStarredOnly: 'mlw.runs.starredOnly',
  /** Walkthrough steps tick on these (onContext): set once the step was done, however it was done. */
  walkthroughRan: 'mlw.walkthrough.ranExperiment',
  walkthroughOpenedDetails: 'mlw.walkthrough.openedDetails',
  walkthroughCompared: 'mlw.walkthrough.compared',
} as const;

export const ViewIds = {
  runs: 'mlw.runs',
  models: 'mlw.models',
} as const;

/** Every command id the extension contributes, in one place (package.json must list the same ids). */
export const Commands = {
  runAsExperiment: 'mlw.runAsExperiment',
  runAsExperimentWithConfig: 'mlw.runAsExperimentWithConfig',
  cancelRun: 'mlw.cancelRun',
  showLogs: 'mlw.showLogs',
  rerun: 'mlw.rerun',
  restoreSnapshot: 'mlw.restoreSnapshot',
  showSnapshotDiff: 'mlw.showSnapshotDiff',
  openRunDetails: 'mlw.openRunDetails',
} as const;

export const ContextKeys = {
  hasActiveRuns: 'mlw.hasActiveRuns',
} as const;

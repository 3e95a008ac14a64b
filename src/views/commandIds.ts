/** Every command id the extension contributes, in one place (package.json must list the same ids). */
export const Commands = {
  runAsExperiment: 'mlw.runAsExperiment',
  cancelRun: 'mlw.cancelRun',
  showLogs: 'mlw.showLogs',
} as const;

export const ContextKeys = {
  hasActiveRuns: 'mlw.hasActiveRuns',
} as const;

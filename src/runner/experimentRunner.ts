import type Docker from 'dockerode';
import { RunStore } from '../model/runs/runStore';
import { LifecycleOptions, RunLifecycle } from './lifecycle/runLifecycle';
import { ComputeTarget } from './targets/computeTarget';
import { defaultHelperDir } from './targets/localDocker/helperDir';
import { LocalDockerTarget } from './targets/localDocker/localDockerTarget';

export type { RunHandle, RunListener, RunRequest } from './lifecycle/runLifecycle';
export { describeExit, formatSeconds } from './lifecycle/reasons';
export { defaultHelperDir };

export interface RunnerOptions extends LifecycleOptions {
  /** Folder holding the `mlw` Python package, mounted into every run when given a Docker client. */
  helperDir?: string;
}

function isComputeTarget(engine: Docker | ComputeTarget): engine is ComputeTarget {
  return typeof (engine as ComputeTarget).findByRunId === 'function';
}

/**
 * The run lifecycle on a compute target; given a Docker client, on today's local Docker target. No vscode
 * import: the extension and the CLI share it.
 */
export class ExperimentRunner extends RunLifecycle {
  constructor(engine: Docker | ComputeTarget, store: RunStore, options: RunnerOptions = {}) {
    super(isComputeTarget(engine) ? engine : new LocalDockerTarget(engine, { helperDir: options.helperDir ?? defaultHelperDir() }), store, options);
  }
}

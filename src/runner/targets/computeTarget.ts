import { RunEnvironment, RunLimits, RunOptions, RunRecord } from '../../model/runs/run';

/**
 * Where a run executes. The lifecycle (queue, cancel, reconcile, finish, RunStore) talks to the engine only
 * through this interface and never assumes the engine shares this machine's files: the code goes in as a
 * folder the target may upload, logs come back as chunks, outputs and tracking events through `collect*`.
 * Local Docker is the first implementation; a remote Docker host or a Kubernetes Job is one more, with no
 * lifecycle edits.
 */
export interface ComputeTarget {
  /**
   * Everything that can be checked before a run is recorded (the engine answers, the images exist, GPUs are
   * available), throwing UserFacingError with the fix.
   */
  preflight(check: PreflightCheck): Promise<void>;
  /** The same for a rerun, which reuses its parent's image exactly. */
  preflightRerun(parent: RunRecord): Promise<void>;
  /** Resolves (builds when needed) the environment a run uses; build output goes to `onBuildOutput`. */
  prepare(request: PrepareRequest): Promise<RunEnvironment>;
  /** Creates the execution of a prepared run without starting it (so a cancel can still come in between). */
  create(spec: ExecutionSpec): Promise<Execution>;
  /** Executions labelled with this run id, whichever process created them. */
  findByRunId(runId: string): Promise<FoundExecution[]>;
  /**
   * Executions of this workspace's runs that are no longer running (exited, or created and never started): the
   * lifecycle removes those whose run is already recorded as ended (a follower killed between its final write
   * and the removal leaves one).
   */
  findStopped?(workspaceRoot: string): Promise<Array<{ runId: string; execution: Execution }>>;
  /**
   * Gives back whatever of this machine's folders the target lent a run (ownership, modes) when its execution
   * is gone and nothing will collect them: a run recorded Lost.
   */
  releaseFolders?(folders: { outputsDir: string; trackingDir: string }): Promise<void>;
  /** Why a run failed, when the error is this target's (its engine went away…); undefined for anything else. */
  describeFailure?(err: Error, run: RunRecord | undefined): string | undefined;
  /** The memory a run could use at most (the engine's), from which the default memory limit is taken. */
  memoryCapacity?(): Promise<number | undefined>;
}

export interface PreflightCheck {
  workspaceRoot: string;
  /** Folder of the script, relative to the workspace root, '' for the root. */
  scriptDir: string;
  baseImage: string;
  options: RunOptions;
}

export interface PrepareRequest {
  baseImage: string;
  options: RunOptions;
  /** The run's snapshot (a local folder): environment files are read from it. */
  snapshotDir: string;
  workspaceRoot: string;
  scriptDir: string;
  /** Folder to keep a generated build context in, as a record of the run. */
  contextDir: string;
  onBuildOutput: (text: string) => void;
}

export interface ExecutionSpec {
  run: RunRecord;
  imageId: string;
  /** The run's snapshot, a local folder: what the script sees at /workspace, read-only. */
  snapshotDir: string;
  workspaceRoot: string;
  /**
   * Where the lifecycle will collect outputs and tracking events to. A target sharing this machine's files may
   * let the run write there directly; any other copies them there in `collect*`.
   */
  outputsDir: string;
  trackingDir: string;
  /** Memory and pids limits the execution must apply (the lifecycle enforces the size caps itself). */
  limits: RunLimits;
}

export type LogStreamName = 'stdout' | 'stderr';

/** A run's execution on a target: created, then started, followed, waited for, collected and removed. */
export interface Execution {
  /** The engine's id for it (a container id): recorded with the run so users can find it. */
  readonly id: string;
  start(): Promise<void>;
  /**
   * Delivers the run's output after its first `fromByte` bytes (counted over stdout and stderr in order), so
   * a follower that reattaches never repeats a line. With `follow` it resolves when the output ends; without,
   * once what was written so far is delivered.
   */
  followLogs(fromByte: number, onChunk: (stream: LogStreamName, chunk: Buffer) => void, options?: { follow?: boolean }): Promise<void>;
  /** Resolves when the run has exited; rejects with TargetGoneError when the engine stops answering. */
  wait(): Promise<ExitStatus>;
  /**
   * Stops the run (a graceful stop, then a kill; with `now`, the kill at once); stopping one that already
   * ended or is gone is no error.
   */
  cancel(options?: { now?: boolean }): Promise<void>;
  /** Copies what the run wrote to its outputs folder into `destDir` (a no-op where it wrote there directly). */
  collectOutputs(destDir: string): Promise<void>;
  /** Copies the run's tracking events (events.jsonl) into `destDir`; like collectOutputs. */
  collectTracking(destDir: string): Promise<void>;
  /** Frees what the engine holds for the run. */
  remove(): Promise<void>;
}

export interface ExitStatus {
  exitCode: number;
  /** Killed by the kernel at its memory limit. */
  oomKilled: boolean;
  /**
   * When the run started and ended by the engine's clock (ISO 8601), when the engine knows: a follower that
   * reattaches long after the exit records the run's own times, not the time it caught up.
   */
  startedAt?: string;
  finishedAt?: string;
}

export interface FoundExecution {
  execution: Execution;
  /** 'created': never started; 'running'; 'stopped': anything else (exited, dead, paused…), `wait` tells. */
  state: 'created' | 'running' | 'stopped';
}

/** The image of a run's environment could not be built; the build log says why. */
export class ImageBuildError extends Error {}

/** The engine stopped answering while a run was being followed: its outcome is unknown. */
export class TargetGoneError extends Error {}

/** The run record as stored in `.mlw/runs/<id>/run.json`. Plain data: no behaviour, no vscode, no Docker. */

export const RUN_SCHEMA_VERSION = 1;

/**
 * Lost: the container vanished while no ML Workbench process was watching (its outcome is unknown).
 * Unreadable: never stored in a record; what a listing says of a run whose run.json cannot be used (not JSON,
 * the wrong shape, a newer schema; see recordCheck.ts), with the reason in `reason`.
 */
export type RunStatus = 'Queued' | 'Running' | 'Completed' | 'Failed' | 'Canceled' | 'Lost' | 'Unreadable';

/** Statuses of a run that has ended. Not Unreadable: whether that run ended is unknown, so nothing acts on it as ended. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ['Completed', 'Failed', 'Canceled', 'Lost'];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export interface GitLineage {
  commit: string;
  branch: string;
  dirty: boolean;
  /** Fetch URL of `origin` (else the first remote), when there is one. */
  remote?: string;
  /** File in the run folder holding `git diff HEAD` at submission, when the tree had uncommitted changes. */
  patch?: string;
  /** Untracked, non-ignored files at submission (their content is in the snapshot, not in the patch). */
  untracked?: string[];
}

/** Per-run execution options: what a run configuration (.mlw/runconfigs/<name>.yaml) contributes. */
export interface RunOptions {
  configName?: string;
  env?: Record<string, string>;
  /** Use exactly this image: no environment resolution, no build. */
  image?: string;
  resources?: RunResources;
  timeoutSeconds?: number;
  network?: 'none' | 'bridge';
}

/** What a run configuration's `resources` sets; each absent one takes its default (see RunLimits). */
export interface RunResources {
  cpus?: number;
  memoryBytes?: number;
  gpus?: number | 'all';
  /** Most processes and threads the run may have at once. */
  pids?: number;
  /** Caps, in apparent bytes, on what the run may write to its outputs and tracking folders and to its logs. */
  outputsBytes?: number;
  logsBytes?: number;
  trackingBytes?: number;
}

/**
 * The limits a run ran under, defaults included, so the record says what held it even when its run
 * configuration set none. memoryBytes is absent only when the engine's memory was unknown (then no limit).
 */
export interface RunLimits {
  memoryBytes?: number;
  pids: number;
  outputsBytes: number;
  logsBytes: number;
  trackingBytes: number;
  /** Run-config keys that were not set and took their default, e.g. ["resources.memory"]. */
  defaulted: string[];
}

/** Which process follows a run, so another process can tell an orphaned run from a live one. */
export interface RunOwner {
  pid: number;
  host: string;
}

export interface RunEnvironment {
  /**
   * Where the image came from, in resolution order: an explicit image, the project's Dockerfile, a conda
   * environment.yml, requirements.txt, or the base image alone.
   */
  kind: 'image' | 'dockerfile' | 'conda' | 'requirements' | 'base';
  /** The base image the environment was built on (absent for an explicit image or a Dockerfile). */
  baseImage?: string;
  /** Workspace-relative path of the environment file used, if any. */
  file?: string;
  imageTag: string;
  imageId: string;
  /** True when this run had to build the image (false: content-addressed cache hit). */
  built: boolean;
}

/** A file a run did not keep, and why ("a link leading outside the outputs folder"). */
export interface DroppedEntry {
  /** Relative to the folder it was in (outputs, or the workspace), forward slashes. */
  path: string;
  reason: string;
}

export interface RunRecord {
  schemaVersion: number;
  id: string;
  /** Script path relative to the workspace root, with forward slashes. */
  script: string;
  args: string[];
  status: RunStatus;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  exitCode?: number;
  /** Human-readable reason a run did not complete (failure, cancel). */
  reason?: string;
  environment?: RunEnvironment;
  imageId?: string;
  containerId?: string;
  git?: GitLineage;
  snapshot?: {
    files: number;
    bytes: number;
    hash?: string;
    /** Workspace entries the snapshot left out although no ignore rule names them (links leading outside). */
    dropped?: DroppedEntry[];
  };
  options?: RunOptions;
  /** The limits it ran under (its run configuration's, else the defaults), set when its execution is created. */
  limits?: RunLimits;
  /** The run this one reran (same snapshot, image and arguments). */
  parentId?: string;
  owner?: RunOwner;
  /** Set by whoever cancels, so the process following the container reports Canceled, not a signal exit. */
  cancelRequested?: boolean;
  /**
   * When the engine stopped answering while the run was followed. The run stays Running (its outcome is
   * unknown) with no owner, so the next process that reaches the engine reattaches and records how it ended.
   */
  engineLostAt?: string;
  /** Final value of each metric the script logged with mlw.log_metric. */
  metrics?: Record<string, number>;
  params?: Record<string, unknown>;
  tags?: Record<string, string>;
  /** Outputs-relative paths the script logged with mlw.log_artifact. */
  artifacts?: string[];
  /** Entries removed from the outputs folder after the run: links leading outside it, FIFOs, devices… */
  droppedOutputs?: DroppedEntry[];
  /** Why tracking/events.jsonl was not (fully) read: the script made it a link or a FIFO, or it is too large. */
  trackingUnreadable?: string;
  /** Set by the user in the Runs view: a display name, free-form labels, a star. */
  name?: string;
  labels?: string[];
  starred?: boolean;
}

/**
 * Time-sortable ids: newest-first is a plain string sort. 32 random bits from the OS per second make a clash
 * of two processes unlikely, and RunStore.create refuses one anyway.
 */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  // Web Crypto, not node:crypto: webview bundles import this module too.
  const random = [...globalThis.crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${stamp}-${random}`;
}

export function durationMs(run: Pick<RunRecord, 'startedAt' | 'endedAt'>, now: Date = new Date()): number | undefined {
  if (!run.startedAt) return undefined;
  const end = run.endedAt ? Date.parse(run.endedAt) : now.getTime();
  return end - Date.parse(run.startedAt);
}

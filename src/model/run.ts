/** The run record as stored in `.mlw/runs/<id>/run.json`. Plain data: no behaviour, no vscode, no Docker. */

export const RUN_SCHEMA_VERSION = 1;

export type RunStatus = 'Queued' | 'Running' | 'Completed' | 'Failed' | 'Canceled';

export const TERMINAL_STATUSES: readonly RunStatus[] = ['Completed', 'Failed', 'Canceled'];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export interface GitLineage {
  commit: string;
  branch: string;
  dirty: boolean;
}

export interface RunEnvironment {
  /** What the image was made from: the base image alone, or the base plus requirements.txt. */
  kind: 'base' | 'requirements';
  baseImage: string;
  /** Workspace-relative path of the environment file used, if any. */
  file?: string;
  imageTag: string;
  imageId: string;
  /** True when this run had to build the image (false: content-addressed cache hit). */
  built: boolean;
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
  snapshot?: { files: number; bytes: number };
}

/** Time-sortable, collision-resistant ids: newest-first is a plain string sort. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const random = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0');
  return `${stamp}-${random}`;
}

export function durationMs(run: RunRecord, now: Date = new Date()): number | undefined {
  if (!run.startedAt) return undefined;
  const end = run.endedAt ? Date.parse(run.endedAt) : now.getTime();
  return end - Date.parse(run.startedAt);
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

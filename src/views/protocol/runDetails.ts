/**
 * The contract of the Run details webview, imported by both sides (src/views/runDetailsPanel.ts and
 * webviews/runDetails/main.ts). The extension pushes the full state; the webview sends intents, which the
 * extension validates with parseFromWebview before acting on them. Pure: no vscode, no node, no DOM.
 */

import type { MetricGoal } from '../../model/runs/tracking';
import type { RunEnvironment, RunStatus } from '../../model/runs/run';

export const RUN_DETAILS_VIEW_TYPE = 'mlw.runDetails';

/** JSON has no NaN or Infinity; a metric can be either, so numbers that may be non-finite travel like this. */
export type DisplayNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export interface MetricSummary {
  name: string;
  /** Last value logged (by arrival order), as in the run record. */
  last: DisplayNumber;
  /** Over the finite values; absent when there is none. */
  min?: number;
  max?: number;
  /** Every point logged, before downsampling. */
  points: number;
  goal?: MetricGoal;
  /** The best value by the goal (max or min), when the goal is known. */
  best?: number;
  /** What the sparkline draws: finite points, downsampled (first, last, minimum and maximum always kept). */
  series: { x: number; y: number }[];
  /** "step" when every point had a step, else "index" (the order points were logged in). */
  xKind: 'step' | 'index';
}

export interface OutputItem {
  /** Relative to the run's outputs folder, forward slashes. */
  path: string;
  size: number;
}

export interface TimelineEntry {
  label: 'Created' | 'Started' | 'Ended';
  at: string;
  /** Milliseconds since createdAt. */
  offsetMs: number;
}

export interface RunDetailsState {
  runId: string;
  shortId: string;
  /** Workspace folder URI (string), so a revived panel finds the same store. */
  folder: string;
  folderName: string;
  title: string;
  summary: {
    status: RunStatus;
    terminal: boolean;
    reason?: string;
    script: string;
    args: string[];
    configName?: string;
    createdAt: string;
    startedAt?: string;
    endedAt?: string;
    /** Only once the run ended (the webview counts a live run's duration up from startedAt). */
    durationMs?: number;
    duration: string;
    exitCode?: number;
    parentId?: string;
    name?: string;
    labels?: string[];
    starred?: boolean;
  };
  params: { name: string; value: string }[];
  tags: { name: string; value: string }[];
  metrics: MetricSummary[];
  outputs: OutputItem[];
  /** Outputs left out of the list, with why (links leading outside, special files). */
  skippedOutputs: { path: string; reason: string }[];
  git?: {
    commit: string;
    branch: string;
    remote?: string;
    dirty: boolean;
    untracked: string[];
    hasPatch: boolean;
  };
  environment?: RunEnvironment & { fileAvailable: boolean };
  hasBuildLog: boolean;
  hasLogs: boolean;
  timeline: TimelineEntry[];
  /** Lines of events.jsonl that were not valid events. */
  trackingSkippedLines: number;
}

/** What the webview can be asked to click in tests (data-testid of the element). */
export type TestClick = { type: 'test:click'; testId: string };
/** Tests only: the webview posts `message` back as is, to check the extension refuses what it must. */
export type TestPost = { type: 'test:post'; message: unknown };

export type ToWebview =
  | { type: 'state'; version: number; state: RunDetailsState }
  | { type: 'error'; message: string }
  | TestClick
  | TestPost;

export type OpenFileTarget = 'patch' | 'buildLog' | 'logs' | 'environmentFile';
const OPEN_FILE_TARGETS: readonly OpenFileTarget[] = ['patch', 'buildLog', 'logs', 'environmentFile'];

export type FromWebview =
  | { type: 'ready' }
  | { type: 'openOutput'; path: string }
  | { type: 'revealOutput'; path: string }
  | { type: 'showDiff' }
  | { type: 'openRun'; id: string }
  | { type: 'openFile'; which: OpenFileTarget }
  /** Sent after every render: how many sparklines were drawn, for which state, and what went wrong if anything. */
  | { type: 'rendered'; sparklines: number; version?: number; errors?: string[] };

const MAX_TEXT = 4096;

function isText(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT && !v.includes('\0');
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * A message from the webview as a FromWebview, or undefined when it is not one (unknown type, missing or
 * wrongly typed field). Only the known fields are copied, so nothing else travels further.
 */
export function parseFromWebview(msg: unknown): FromWebview | undefined {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return undefined;
  const m = msg as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'showDiff':
      return { type: 'showDiff' };
    case 'openOutput':
    case 'revealOutput':
      return isText(m.path) ? { type: m.type, path: m.path } : undefined;
    case 'openRun':
      return isText(m.id) && /^[\w.-]+$/.test(m.id) ? { type: 'openRun', id: m.id } : undefined;
    case 'openFile':
      return typeof m.which === 'string' && (OPEN_FILE_TARGETS as readonly string[]).includes(m.which)
        ? { type: 'openFile', which: m.which as OpenFileTarget }
        : undefined;
    case 'rendered': {
      if (!isCount(m.sparklines)) return undefined;
      if (m.version !== undefined && !isCount(m.version)) return undefined;
      if (m.errors !== undefined && !(Array.isArray(m.errors) && m.errors.every((e) => typeof e === 'string'))) return undefined;
      const out: FromWebview = { type: 'rendered', sparklines: m.sparklines };
      if (m.version !== undefined) out.version = m.version as number;
      if (m.errors !== undefined) out.errors = (m.errors as string[]).slice(0, 50).map((e) => e.slice(0, MAX_TEXT));
      return out;
    }
    default:
      return undefined;
  }
}

/** What the webview keeps across reloads (vscodeApi.setState) and the serializer gets back. */
export interface RunDetailsWebviewState {
  runId: string;
  folder: string;
}

export function parseWebviewState(state: unknown): RunDetailsWebviewState | undefined {
  if (typeof state !== 'object' || state === null) return undefined;
  const s = state as Record<string, unknown>;
  return isText(s.runId) && /^[\w.-]+$/.test(s.runId) && isText(s.folder) ? { runId: s.runId, folder: s.folder } : undefined;
}

/** How the webview shows a DisplayNumber. */
export function fromDisplayNumber(v: DisplayNumber): number {
  return typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity;
}

export function toDisplayNumber(v: number): DisplayNumber {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}
